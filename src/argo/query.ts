/**
 * Reading a workflow's state the way dflow's `query_step` does: the steps (Argo status nodes)
 * filtered by name, key, phase and type, each with its inputs and outputs (parameters, and
 * artifact references usable as inputs of a new workflow), and the global outputs.
 * Pure functions over a {@link Workflow} object; the handle fetches it.
 */
import type { Artifact, NodePhase, NodeStatus, NodeType, Outputs, Workflow, WorkflowPhase } from "./model.ts";
import { podNameOf } from "./pod-name.ts";
import { KEY_PARAMETER } from "../contract.ts";
import { SubmitError } from "../errors.ts";

/** Parameters (string values, as Argo stores them) and artifact references of a step. */
export interface ArgoStepIO {
  readonly parameters: Readonly<Record<string, string>>;
  /**
   * Artifact references, ready to pass as `arguments.artifacts` (or a step's artifact input)
   * of another workflow: location only (`s3.key`, …), no `path`.
   */
  readonly artifacts: Readonly<Record<string, Artifact>>;
}

/** A step's outputs: {@link ArgoStepIO} plus the script result and exit code. */
export interface ArgoStepOutputs extends ArgoStepIO {
  /** Standard output of a script template (`outputs.result`). */
  readonly result?: string;
  readonly exitCode?: string;
}

/** One step of an Argo workflow run (a status node), as opflow reports it. */
export interface ArgoStep {
  /** Node id (`<workflow>-<hash>`). */
  readonly id: string;
  /** Full node name (`wf[0].train(1:b)`). */
  readonly name: string;
  /** Name of the step or task (`train(1:b)`). */
  readonly displayName: string;
  /** The step's key, when it has one. */
  readonly key?: string;
  readonly type: NodeType;
  readonly phase: NodePhase;
  readonly templateName?: string;
  /** The pod that ran it (Pod nodes only). */
  readonly podName?: string;
  /** Node id of the Steps/DAG node this step belongs to. */
  readonly boundaryId?: string;
  readonly children: readonly string[];
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly message?: string;
  /** `N/M` progress. */
  readonly progress?: string;
  readonly inputs: ArgoStepIO;
  readonly outputs: ArgoStepOutputs;
  /**
   * The output parameters as values: decoded by the template's output signature when the
   * handle knows it (handles of `Workflow.submit()`: `{ mean: 4.5 }`), else read as JSON where
   * they parse (text otherwise).
   */
  readonly values: Readonly<Record<string, unknown>>;
}

/**
 * A step as {@link querySteps} gives it: {@link ArgoStep}'s data (plain, JSON-serialisable) and
 * dflow's `ArgoStep` methods.
 */
export interface QueriedStep extends ArgoStep {
  /**
   * The script or command of the step's template (dflow's `get_script`): a script template's
   * source, else the container's command and arguments joined by spaces (`node /tmp/opflow/….mjs`);
   * undefined for Steps, DAG and other nodes without one.
   */
  getScript(): string | undefined;
  /**
   * A copy with output parameter `name` replaced (dflow's `modify_output_parameter`), to reuse
   * the step with that value: `submit({ reuse: [step.modifyOutputParameter("iter", 4)] })`.
   * @throws SubmitError when the step has no such output.
   */
  modifyOutputParameter(name: string, value: unknown): QueriedStep;
  /**
   * A copy with output artifact `name` replaced by another artifact reference (dflow's
   * `modify_output_artifact`), e.g. an output artifact of another queried step.
   * @throws SubmitError when the step has no such output.
   */
  modifyOutputArtifact(name: string, artifact: Artifact | Omit<Artifact, "name">): QueriedStep;
}

function isQueried(step: ArgoStep): step is QueriedStep {
  return typeof (step as Partial<QueriedStep>).getScript === "function";
}

/** `step` with {@link QueriedStep}'s methods (not enumerable: the step stays plain data for JSON and comparisons). */
function queried(step: ArgoStep, script: string | undefined): QueriedStep {
  const methods: Omit<QueriedStep, keyof ArgoStep> = {
    getScript: () => script,
    modifyOutputParameter: (name, value) => modifyOutputs(out, { parameters: { [name]: value } }),
    modifyOutputArtifact: (name, artifact) => modifyOutputs(out, { artifacts: { [name]: artifact } }),
  };
  const out = step as QueriedStep;
  for (const [k, fn] of Object.entries(methods)) Object.defineProperty(out, k, { value: fn, enumerable: false, configurable: true, writable: true });
  return out;
}

/** The script of `templateName` in `workflow` (see {@link QueriedStep.getScript}). */
export function templateScript(workflow: Pick<Workflow, "spec" | "status">, templateName: string | undefined): string | undefined {
  if (templateName === undefined) return undefined;
  const stored = Object.values(workflow.status?.storedTemplates ?? {});
  const t = [...(workflow.spec?.templates ?? []), ...stored].find((x) => x.name === templateName);
  if (!t) return undefined;
  if (t.script?.source !== undefined) return t.script.source;
  const c = t.container;
  if (c && (c.command?.length || c.args?.length)) return [...(c.command ?? []), ...(c.args ?? [])].join(" ");
  return undefined;
}

/** Replacements for {@link modifyOutputs}. */
export interface OutputChanges {
  /** New values of output parameters, by name (JSON-encoded unless already strings). */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** New output artifacts, by name: artifact references (`s3.key` …), as `querySteps` gives them. */
  readonly artifacts?: Readonly<Record<string, Artifact | Omit<Artifact, "name">>>;
}

/**
 * A copy of `step` with some outputs replaced, to reuse it with those values (dflow's
 * `modify_output_parameter` / `modify_output_artifact`). Only outputs the step has can be
 * replaced.
 *
 * @example
 * ```ts
 * const [last] = await old.querySteps({ key: "iter-2" });
 * await wf.submit({ reuse: [...earlier, modifyOutputs(last, { parameters: { iter: 5 } })] });
 * ```
 */
export function modifyOutputs<S extends ArgoStep>(step: S, changes: OutputChanges): S {
  const parameters = { ...step.outputs.parameters };
  for (const [name, value] of Object.entries(changes.parameters ?? {})) {
    if (!(name in parameters)) {
      throw new SubmitError(`modifyOutputs: step "${step.displayName}" has no output parameter "${name}" (it has: ${Object.keys(parameters).join(", ") || "none"})`);
    }
    parameters[name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const artifacts = { ...step.outputs.artifacts };
  for (const [name, value] of Object.entries(changes.artifacts ?? {})) {
    if (!(name in artifacts)) {
      throw new SubmitError(`modifyOutputs: step "${step.displayName}" has no output artifact "${name}" (it has: ${Object.keys(artifacts).join(", ") || "none"})`);
    }
    artifacts[name] = { ...value, name };
  }
  // The decoded values follow the replaced parameters.
  const values = { ...step.values, ...(changes.parameters ?? {}) };
  const changed: ArgoStep = { ...step, outputs: { ...step.outputs, parameters, artifacts }, values };
  return (isQueried(step) ? queried(changed, step.getScript()) : changed) as S;
}

/**
 * Decodes a step's output parameters into values, given its manifest template name; see
 * {@link ArgoStep.values}.
 */
export type StepValueDecoder = (templateName: string | undefined, parameters: Readonly<Record<string, string>>) => Record<string, unknown>;

/** Reads each parameter as JSON where it parses, as text otherwise. */
export const looseValues: StepValueDecoder = (_template, parameters) => {
  const out: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(parameters)) out[name] = parseLoose(text);
  return out;
};

function parseLoose(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Which steps {@link querySteps} returns. Every given condition must hold. */
export interface ArgoStepFilter {
  /**
   * Display name: exact string, a glob with `*`, a RegExp, or a list of those.
   * @default any name
   */
  readonly name?: string | RegExp | readonly (string | RegExp)[];
  /**
   * Step key, or a list of keys.
   * @default any key (and steps without one)
   */
  readonly key?: string | readonly string[];
  /**
   * Node phase(s).
   * @default any phase
   */
  readonly phase?: NodePhase | readonly NodePhase[];
  /**
   * Node type(s): `Pod`, `Steps`, `DAG`, `Retry`, `Suspend` ….
   * @default every type except the StepGroup/TaskGroup bookkeeping nodes
   */
  readonly type?: NodeType | readonly NodeType[];
  /**
   * Node id.
   * @default any id
   */
  readonly id?: string;
  /**
   * Id(s) of the Steps or DAG node the step belongs to (its `boundaryId`; dflow's `parent_id`):
   * the steps of one call of a Steps/DAG template, e.g. one iteration of a recursive loop.
   * @default any parent
   */
  readonly parentId?: string | readonly string[];
}

/** An artifact as an argument: its location fields, named `name`. */
export function artifactArgument(artifact: Artifact, name: string = artifact.name): Artifact {
  const out: Artifact = { name };
  if (artifact.s3) out.s3 = { ...artifact.s3 };
  if (artifact.http) out.http = { ...artifact.http };
  if (artifact.raw) out.raw = { ...artifact.raw };
  if (artifact.git) out.git = artifact.git;
  const extra = artifact as unknown as Record<string, unknown>;
  for (const k of ["gcs", "oss", "hdfs", "azure", "artifactory", "plugin"]) {
    if (extra[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = extra[k];
  }
  return out;
}

function io(src: { parameters?: { name: string; value?: string }[]; artifacts?: Artifact[] } | undefined): ArgoStepIO {
  const parameters: Record<string, string> = {};
  const artifacts: Record<string, Artifact> = {};
  for (const p of src?.parameters ?? []) if (p.value !== undefined) parameters[p.name] = p.value;
  for (const a of src?.artifacts ?? []) artifacts[a.name] = artifactArgument(a);
  return { parameters, artifacts };
}

function outputsOf(src: Outputs | undefined): ArgoStepOutputs {
  const base = io(src);
  return {
    ...base,
    ...(src?.result !== undefined ? { result: src.result } : {}),
    ...(src?.exitCode !== undefined ? { exitCode: src.exitCode } : {}),
  };
}

function keyOf(node: NodeStatus): string | undefined {
  const params = node.inputs?.parameters ?? [];
  // The compiler passes a step's key as the input parameter KEY_PARAMETER; dflow's is read too.
  return (params.find((p) => p.name === KEY_PARAMETER) ?? params.find((p) => p.name === "dflow_key"))?.value;
}

function list<T>(v: T | readonly T[] | undefined): readonly T[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

function nameMatches(displayName: string, pattern: string | RegExp): boolean {
  if (pattern instanceof RegExp) return pattern.test(displayName);
  return pattern.includes("*") ? globToRegExp(pattern).test(displayName) : displayName === pattern;
}

/** One status node as an {@link ArgoStep}. */
export function toArgoStep(workflow: Workflow, node: NodeStatus, decode: StepValueDecoder = looseValues): ArgoStep {
  const key = keyOf(node);
  const outputs = outputsOf(node.outputs);
  return {
    id: node.id,
    name: node.name,
    displayName: node.displayName,
    ...(key !== undefined ? { key } : {}),
    type: node.type,
    phase: node.phase,
    ...(node.templateName !== undefined ? { templateName: node.templateName } : {}),
    ...(node.type === "Pod" ? { podName: podNameOf(workflow, node) } : {}),
    ...(node.boundaryID !== undefined ? { boundaryId: node.boundaryID } : {}),
    children: node.children ?? [],
    ...(node.startedAt !== undefined ? { startedAt: node.startedAt } : {}),
    ...(node.finishedAt !== undefined ? { finishedAt: node.finishedAt } : {}),
    ...(node.message !== undefined ? { message: node.message } : {}),
    ...(node.progress !== undefined ? { progress: node.progress } : {}),
    inputs: io(node.inputs),
    outputs,
    values: decode(node.templateName, outputs.parameters),
  };
}

/**
 * The steps of a workflow run that match `filter`, in start order.
 *
 * @example
 * ```ts
 * const wf = await client.get("hello-x7k2p");
 * const [train] = querySteps(wf, { name: "train", phase: "Succeeded" });
 * train?.outputs.parameters["loss"];          // "0.12"
 * train?.values["loss"];                      // 0.12
 * train?.outputs.artifacts["model"];          // { name: "model", s3: { key: "…/model.tgz" } }
 * train?.getScript();                         // the template's script or command
 * const inLoop = querySteps(wf, { parentId: train?.boundaryId, key: ["iter-0", "iter-1"] });
 * ```
 */
export function querySteps(workflow: Workflow, filter: ArgoStepFilter = {}, decode: StepValueDecoder = looseValues): QueriedStep[] {
  const names = list(filter.name);
  const parents = list(filter.parentId);
  const keys = list(filter.key);
  const phases = list(filter.phase);
  const types = list(filter.type);
  const nodes = Object.values(workflow.status?.nodes ?? {});
  return nodes
    .filter((n) => (types ? types.includes(n.type) : n.type !== "StepGroup" && n.type !== "TaskGroup"))
    .filter((n) => !phases || phases.includes(n.phase))
    .filter((n) => !filter.id || n.id === filter.id)
    .filter((n) => !parents || (n.boundaryID !== undefined && parents.includes(n.boundaryID)))
    .filter((n) => !names || names.some((p) => nameMatches(n.displayName, p)))
    .filter((n) => {
      if (!keys) return true;
      const k = keyOf(n);
      return k !== undefined && keys.includes(k);
    })
    .sort((a, b) => (a.startedAt ?? "\uffff").localeCompare(b.startedAt ?? "\uffff") || a.name.localeCompare(b.name))
    .map((n) => queried(toArgoStep(workflow, n, decode), templateScript(workflow, n.templateName)));
}

/** The workflow's global outputs (`globalName` parameters and artifacts). */
export function globalOutputs(workflow: Workflow): ArgoStepIO {
  return io(workflow.status?.outputs);
}

/**
 * The outputs of the workflow's root node — the entrypoint's outputs, what the workflow
 * produced (its global outputs are {@link globalOutputs}).
 */
export function rootOutputs(workflow: Pick<Workflow, "metadata" | "status">): ArgoStepIO {
  const name = workflow.metadata.name;
  const root = name !== undefined ? workflow.status?.nodes?.[name] : undefined;
  return io(root?.outputs);
}

/**
 * Outputs in Argo's shape with parameters read as JSON where they parse (`"4.5"` → 4.5, text
 * otherwise): what a handle gives when the entrypoint's signature is not known.
 */
export function looseOutputs(outputs: ArgoStepIO): Readonly<Record<string, unknown>> {
  const out: Record<string, unknown> = looseValues(undefined, outputs.parameters);
  for (const [name, art] of Object.entries(outputs.artifacts)) out[name] = art;
  return out;
}

/**
 * The steps where a failed workflow failed: Failed or Error nodes (not StepGroup/TaskGroup)
 * none of whose children failed — the origin, not the Steps/DAG nodes it failed through —
 * in start order. Empty for a workflow that did not fail.
 */
export function failedSteps(workflow: Workflow): ArgoStep[] {
  const nodes = workflow.status?.nodes ?? {};
  const failed = (n: NodeStatus | undefined): boolean => n !== undefined && (n.phase === "Failed" || n.phase === "Error");
  return querySteps(workflow, { phase: ["Failed", "Error"] }).filter((s) => {
    // A Retry node's attempts all failed: the Retry node is the step (its message says why no retry).
    if (s.type === "Retry") return true;
    const parent = Object.values(nodes).find((n) => n.type === "Retry" && n.children?.includes(s.id));
    if (parent) return false;
    return !s.children.some((c) => {
      const child = nodes[c];
      if (!failed(child)) return false;
      // Through a group to its members.
      return child?.type !== "StepGroup" && child?.type !== "TaskGroup" ? true : (child.children ?? []).some((g) => failed(nodes[g]));
    });
  });
}

/**
 * One line saying where and why a workflow failed, for people: the failing step by its name
 * and its path (`step "sum" (fan-out-x[2].sum) failed: …`), not a node id. `undefined` when
 * the workflow did not fail; its own message when no step failed (deadline, bad manifest …).
 */
export function describeFailure(workflow: Workflow): string | undefined {
  const phase = workflow.status?.phase;
  if (phase !== "Failed" && phase !== "Error") return undefined;
  const steps = failedSteps(workflow).filter((s) => s.id !== workflow.metadata.name);
  const [first] = steps;
  if (!first) return workflow.status?.message ?? `workflow ${phase}`;
  const more = steps.length > 1 ? ` (and ${steps.length - 1} more failed step${steps.length > 2 ? "s" : ""}: ${steps.slice(1, 4).map((s) => s.displayName).join(", ")}${steps.length > 4 ? ", …" : ""})` : "";
  return `step "${first.displayName}" (${first.name}) ${first.phase === "Error" ? "errored" : "failed"}${first.message ? `: ${first.message}` : ""}${more}`;
}

/** The workflow's phase; `Pending` until the controller sets one. */
export function workflowPhase(workflow: Workflow): Exclude<WorkflowPhase, ""> {
  const p = workflow.status?.phase;
  return p ? p : "Pending";
}
