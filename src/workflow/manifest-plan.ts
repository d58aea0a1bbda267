/**
 * Reading an Argo Workflow manifest into a plan of opflow objects: which templates become
 * `Steps` and `DAG`s (with their steps, tasks, arguments, conditions, loops, hooks), which are
 * kept verbatim (`ManifestTemplate`: containers, scripts and every other leaf kind, whose fields
 * the DSL's leaf kinds would rewrite to opflow's runtime contract), and the workflow's options.
 * `Workflow.fromManifest` builds the objects from the plan; `opflow codegen` prints them as a
 * TypeScript module. Both therefore agree on what the DSL expresses.
 */
import type { Artifact, DAGTask, Parameter, Template as ArgoTemplate, Workflow as ArgoWorkflow, WorkflowStep } from "../argo/model.ts";
import { KEY_PARAMETER } from "../contract.ts";
import { OpflowError } from "../errors.ts";
import { type RetryOn, renderRetry } from "../template/retry.ts";
import { SPEC_FIELD_NAMES } from "./workflow-settings.ts";

/** A manifest names something opflow's DSL cannot express (the message names the template or field). */
export class ManifestImportError extends OpflowError {
  override readonly name: string = "ManifestImportError";
}

/** A parameter of a graph template's signature. */
export interface PlanParam {
  readonly name: string;
  readonly default?: string;
  readonly enum?: readonly string[];
  readonly description?: string;
}

/** A graph template's output parameter with its source. */
export interface PlanOutputParam extends PlanParam {
  /** `valueFrom.parameter` (a tag) or `valueFrom.expression` (expr-lang source). */
  readonly parameter?: string;
  readonly expression?: string;
  readonly globalName?: string;
}

/** Where an artifact argument or output comes from. */
export type PlanArtifactSource =
  | { readonly from: string; readonly subPath?: string }
  | { readonly fromExpression: string; readonly subPath?: string }
  | { readonly raw: string }
  | { readonly s3: string }
  | { readonly http: string };

/** A graph template's output artifact with its source. */
export interface PlanOutputArtifact {
  readonly name: string;
  readonly source: PlanArtifactSource;
  readonly optional?: boolean;
  readonly globalName?: string;
}

/** A lifecycle hook of a step. */
export interface PlanHook {
  readonly template: string;
  readonly expression?: string;
  readonly parameters: Readonly<Record<string, string>>;
}

/** A step or task. */
export interface PlanStep {
  readonly name: string;
  readonly template: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly artifacts: Readonly<Record<string, PlanArtifactSource>>;
  readonly key?: string;
  readonly when?: string;
  readonly withParam?: string;
  readonly withItems?: readonly unknown[];
  readonly withSequence?: { readonly count?: string; readonly start?: string; readonly end?: string; readonly format?: string };
  readonly continueOn?: { readonly failed?: boolean; readonly error?: boolean };
  readonly onExit?: string;
  readonly hooks?: Readonly<Record<string, PlanHook>>;
  /** Tasks only. */
  readonly depends?: string;
  readonly dependencies?: readonly string[];
}

/** A template kept verbatim. */
export interface PlanVerbatim {
  readonly kind: "verbatim";
  readonly name: string;
  readonly argo: ArgoTemplate;
  /** Templates it names (graph templates kept verbatim). */
  readonly calls: readonly string[];
  /** Why a graph template was kept verbatim; undefined for leaf templates. */
  readonly reason?: string;
}

/** A Steps or DAG template rebuilt with the DSL. */
export interface PlanGraph {
  readonly kind: "steps" | "dag";
  readonly name: string;
  readonly inputs: { readonly parameters: readonly PlanParam[]; readonly artifacts: readonly { readonly name: string; readonly optional?: boolean }[] };
  readonly outputs: { readonly parameters: readonly PlanOutputParam[]; readonly artifacts: readonly PlanOutputArtifact[] };
  readonly parallelism?: number;
  readonly failFast?: boolean;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Steps: the groups in order; DAG: one group holding every task. */
  readonly groups: readonly (readonly PlanStep[])[];
}

export type PlanTemplate = PlanVerbatim | PlanGraph;

/** Workflow-level settings the DSL's `Workflow` options hold (JSON values). */
export interface PlanWorkflow {
  readonly name?: string;
  readonly generateName?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly parallelism?: number;
  readonly timeout?: number;
  readonly ttl?: { readonly afterCompletion?: number; readonly afterSuccess?: number; readonly afterFailure?: number };
  readonly podGC?: string;
  readonly serviceAccountName?: string;
  readonly artifactRepositoryRef?: Readonly<Record<string, unknown>>;
  readonly volumes?: readonly Readonly<Record<string, unknown>>[];
  readonly imagePullSecrets?: readonly string[];
  readonly templateDefaults?: Readonly<Record<string, unknown>>;
  /** `retryStrategy` as `retry` options (JSON). */
  readonly retry?: Readonly<Record<string, unknown>> | number;
  readonly workflowMetadata?: {
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly labelsFrom?: Readonly<Record<string, string>>;
  };
  /** The pass-through fields (`workflow-settings.ts`), as the manifest holds them. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** A global parameter: a workflow argument that is no input of the entrypoint. */
export interface PlanGlobal {
  readonly name: string;
  /** Its value, or (with `configMap`) the value when the key is missing. */
  readonly value?: string;
  readonly description?: string;
  readonly enum?: readonly string[];
  /** `valueFrom.configMapKeyRef`. */
  readonly configMap?: { readonly name: string; readonly key: string };
}

/** A manifest as opflow objects to build. */
export interface ManifestPlan {
  /** Templates reachable from the entrypoint and `onExit`, callees before nothing in particular. */
  readonly templates: readonly PlanTemplate[];
  readonly entrypoint: string;
  readonly onExit?: string;
  /** The workflow's lifecycle hooks (`spec.hooks`, `exit` included). */
  readonly hooks?: Readonly<Record<string, PlanHook>>;
  readonly workflow: PlanWorkflow;
  readonly parameters: Readonly<Record<string, string>>;
  /** Global parameters, in manifest order. */
  readonly globals: readonly PlanGlobal[];
  readonly artifacts: Readonly<Record<string, PlanArtifactSource>>;
  /** Templates of the manifest no step, task, hook or exit handler reaches (left out: they never run). */
  readonly unreachable: readonly string[];
}

const SPEC_FIELDS = new Set([
  "entrypoint",
  "arguments",
  "onExit",
  "parallelism",
  "activeDeadlineSeconds",
  "serviceAccountName",
  "artifactRepositoryRef",
  "ttlStrategy",
  "podGC",
  "volumes",
  "imagePullSecrets",
  "templateDefaults",
  "templates",
  "hooks",
  "retryStrategy",
  "workflowMetadata",
  ...SPEC_FIELD_NAMES,
]);
const METADATA_FIELDS = new Set(["name", "generateName", "labels", "annotations", "namespace"]);
const GRAPH_FIELDS = new Set(["name", "inputs", "outputs", "steps", "dag", "parallelism", "failFast", "metadata"]);
const STEP_FIELDS = new Set(["name", "template", "arguments", "when", "withItems", "withParam", "withSequence", "continueOn", "onExit", "hooks", "depends", "dependencies"]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A parameter value as Argo reads it: YAML numbers and booleans are strings to Argo. */
function text(v: unknown, where: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new ManifestImportError(`${where}: expects a string, got ${JSON.stringify(v)}`);
}

/**
 * Reads a manifest into a plan.
 * @throws ManifestImportError naming the field the DSL cannot express (workflow-level fields,
 *   arguments of unknown parameters, calls of templates the manifest does not hold).
 */
export function planManifest(input: unknown): ManifestPlan {
  if (!isObj(input)) throw new ManifestImportError(`manifest: expects an Argo Workflow object, got ${JSON.stringify(input)?.slice(0, 80)}`);
  const m = input as unknown as ArgoWorkflow;
  if (m.kind !== "Workflow") throw new ManifestImportError(`manifest: kind must be "Workflow", got ${JSON.stringify(m.kind)} (WorkflowTemplates and CronWorkflows are not rebuilt)`);
  const spec = m.spec as unknown as Obj;
  if (!isObj(spec)) throw new ManifestImportError("manifest: spec is missing");
  for (const k of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(k)) throw new ManifestImportError(`manifest: spec.${k} cannot be expressed with opflow's Workflow options; supported: ${[...SPEC_FIELDS].join(", ")}`);
  }
  const meta = (m.metadata ?? {}) as Obj;
  for (const k of Object.keys(meta)) {
    if (!METADATA_FIELDS.has(k)) throw new ManifestImportError(`manifest: metadata.${k} cannot be expressed with opflow's Workflow options`);
  }
  const templates = (spec["templates"] ?? []) as ArgoTemplate[];
  if (!Array.isArray(templates)) throw new ManifestImportError("manifest: spec.templates must be a list");
  const byName = new Map<string, ArgoTemplate>();
  for (const t of templates) {
    if (!isObj(t) || typeof t.name !== "string") throw new ManifestImportError(`manifest: spec.templates: every template needs a name, got ${JSON.stringify(t)?.slice(0, 80)}`);
    byName.set(t.name, t);
  }
  const entrypoint = spec["entrypoint"];
  if (typeof entrypoint !== "string" || !byName.has(entrypoint)) {
    throw new ManifestImportError(`manifest: spec.entrypoint ${JSON.stringify(entrypoint)} names no template of spec.templates`);
  }
  const onExit = spec["onExit"] as string | undefined;
  if (onExit !== undefined && !byName.has(onExit)) throw new ManifestImportError(`manifest: spec.onExit ${JSON.stringify(onExit)} names no template of spec.templates`);

  const hooks = workflowHooks(spec["hooks"], byName);
  if (onExit !== undefined && hooks?.["exit"]) throw new ManifestImportError("manifest: spec.onExit and spec.hooks.exit are both given (Argo runs onExit); opflow's Workflow takes one");
  const planned = new Map<string, PlanTemplate>();
  const queue = [entrypoint, ...(onExit ? [onExit] : []), ...Object.values(hooks ?? {}).map((h) => h.template)];
  while (queue.length) {
    const name = queue.shift() as string;
    if (planned.has(name)) continue;
    const t = byName.get(name) as ArgoTemplate;
    const p = planTemplate(t, byName);
    planned.set(name, p);
    queue.push(...calledBy(p));
  }

  const args = (spec["arguments"] ?? {}) as Obj;
  const parameters: Record<string, string> = {};
  const globals: PlanGlobal[] = [];
  const entryInputs = new Set((byName.get(entrypoint)?.inputs?.parameters ?? []).map((p) => p.name));
  for (const p of (args["parameters"] ?? []) as Parameter[]) {
    const where = `manifest: spec.arguments.parameters "${p.name}"`;
    if (!entryInputs.has(p.name)) {
      globals.push(globalOf(p, where));
      continue;
    }
    const extra = Object.keys(p).filter((k) => k !== "name" && k !== "value");
    if (extra.length) throw new ManifestImportError(`${where}: ${extra.join(", ")} cannot be expressed (arguments of the entrypoint's inputs take a value)`);
    if (p.value === undefined) throw new ManifestImportError(`${where}: has no value`);
    parameters[p.name] = text(p.value, where);
  }
  const artifacts: Record<string, PlanArtifactSource> = {};
  for (const a of (args["artifacts"] ?? []) as Artifact[]) artifacts[a.name] = artifactSource(a, `manifest: spec.arguments.artifacts "${a.name}"`, false);
  for (const k of Object.keys(args)) if (k !== "parameters" && k !== "artifacts") throw new ManifestImportError(`manifest: spec.arguments.${k} cannot be expressed`);

  const ttl = spec["ttlStrategy"] as Obj | undefined;
  const podGC = spec["podGC"] as Obj | undefined;
  if (podGC && Object.keys(podGC).some((k) => k !== "strategy")) throw new ManifestImportError("manifest: spec.podGC: only strategy can be expressed");
  const secrets = spec["imagePullSecrets"] as { name?: unknown }[] | undefined;
  const num = (v: unknown, where: string): number => {
    const n = typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n)) throw new ManifestImportError(`manifest: ${where} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const workflow: PlanWorkflow = dropUndefined({
    name: meta["name"] as string | undefined,
    generateName: meta["generateName"] as string | undefined,
    labels: meta["labels"] as Record<string, string> | undefined,
    annotations: meta["annotations"] as Record<string, string> | undefined,
    parallelism: spec["parallelism"] === undefined ? undefined : num(spec["parallelism"], "spec.parallelism"),
    timeout: spec["activeDeadlineSeconds"] === undefined ? undefined : num(spec["activeDeadlineSeconds"], "spec.activeDeadlineSeconds"),
    ttl: ttl
      ? dropUndefined({
          afterCompletion: ttl["secondsAfterCompletion"] === undefined ? undefined : num(ttl["secondsAfterCompletion"], "spec.ttlStrategy.secondsAfterCompletion"),
          afterSuccess: ttl["secondsAfterSuccess"] === undefined ? undefined : num(ttl["secondsAfterSuccess"], "spec.ttlStrategy.secondsAfterSuccess"),
          afterFailure: ttl["secondsAfterFailure"] === undefined ? undefined : num(ttl["secondsAfterFailure"], "spec.ttlStrategy.secondsAfterFailure"),
        })
      : undefined,
    podGC: podGC?.["strategy"] as string | undefined,
    serviceAccountName: spec["serviceAccountName"] as string | undefined,
    artifactRepositoryRef: spec["artifactRepositoryRef"] as Obj | undefined,
    volumes: spec["volumes"] as Obj[] | undefined,
    imagePullSecrets: secrets?.map((s, i) => text(s.name, `manifest: spec.imagePullSecrets[${i}].name`)),
    templateDefaults: spec["templateDefaults"] as Obj | undefined,
    retry: spec["retryStrategy"] === undefined ? undefined : retryOf(spec["retryStrategy"]),
    workflowMetadata: spec["workflowMetadata"] === undefined ? undefined : workflowMetadataOf(spec["workflowMetadata"]),
    fields: (() => {
      const f = Object.fromEntries(SPEC_FIELD_NAMES.filter((k) => spec[k] !== undefined).map((k) => [k, spec[k]]));
      return Object.keys(f).length ? f : undefined;
    })(),
  });
  const templatesOut = [...planned.values()];
  return {
    templates: templatesOut,
    entrypoint,
    ...(onExit ? { onExit } : {}),
    ...(hooks ? { hooks } : {}),
    workflow,
    parameters,
    globals,
    artifacts,
    unreachable: templates.map((t) => t.name).filter((n) => !planned.has(n)),
  };
}

/** The workflow's `spec.hooks` (each naming a template of the manifest), or undefined. */
function workflowHooks(v: unknown, byName: ReadonlyMap<string, ArgoTemplate>): Record<string, PlanHook> | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) throw new ManifestImportError(`manifest: spec.hooks must be a mapping of hooks, got ${JSON.stringify(v)?.slice(0, 80)}`);
  const out: Record<string, PlanHook> = {};
  for (const [h, hook] of Object.entries(v)) {
    const where = `manifest: spec.hooks.${h}`;
    if (!isObj(hook)) throw new ManifestImportError(`${where}: must be a hook, got ${JSON.stringify(hook)?.slice(0, 80)}`);
    const extra = Object.keys(hook).filter((k) => !["template", "expression", "arguments"].includes(k));
    if (extra.length) throw new ManifestImportError(`${where}: ${extra.join(", ")} cannot be expressed (hooks take template, expression, arguments)`);
    const template = hook["template"];
    if (typeof template !== "string" || !byName.has(template)) throw new ManifestImportError(`${where}.template ${JSON.stringify(template)} names no template of spec.templates`);
    const expression = hook["expression"];
    if (h !== "exit" && typeof expression !== "string") throw new ManifestImportError(`${where}: has no expression (only the hook named exit runs without one)`);
    const args = (hook["arguments"] ?? {}) as Obj;
    for (const k of Object.keys(args)) if (k !== "parameters") throw new ManifestImportError(`${where}.arguments.${k} cannot be expressed (hooks take parameters)`);
    const parameters: Record<string, string> = {};
    for (const p of (args["parameters"] ?? []) as Parameter[]) {
      if (Object.keys(p).some((k) => k !== "name" && k !== "value") || p.value === undefined) throw new ManifestImportError(`${where}.arguments.parameters "${p.name}": only a value can be expressed`);
      parameters[p.name] = text(p.value, `${where}.arguments.parameters "${p.name}"`);
    }
    const declared = new Set(((byName.get(template) as ArgoTemplate).inputs?.parameters ?? []).map((p) => p.name));
    for (const n of Object.keys(parameters)) if (!declared.has(n)) throw new ManifestImportError(`${where}.arguments.parameters "${n}" is not an input of template "${template}"`);
    out[h] = dropUndefined({ template, expression: expression as string | undefined, parameters });
  }
  return out;
}

/** A workflow argument that is no input of the entrypoint, as a global parameter. */
function globalOf(p: Parameter, where: string): PlanGlobal {
  const extra = Object.keys(p).filter((k) => !["name", "value", "description", "enum", "valueFrom"].includes(k));
  if (extra.length) throw new ManifestImportError(`${where}: ${extra.join(", ")} cannot be expressed (global parameters take a value, valueFrom.configMapKeyRef, description, enum)`);
  const en = p.enum?.map((e) => text(e, `${where}: enum`));
  let configMap: PlanGlobal["configMap"];
  let value: string | undefined;
  if (p.valueFrom !== undefined) {
    const vf = p.valueFrom as Obj;
    const ref = vf["configMapKeyRef"] as Obj | undefined;
    if (p.value !== undefined || Object.keys(vf).some((k) => k !== "configMapKeyRef" && k !== "default") || !ref || Object.keys(ref).some((k) => k !== "name" && k !== "key") || typeof ref["name"] !== "string" || typeof ref["key"] !== "string") {
      throw new ManifestImportError(`${where}: valueFrom (${Object.keys(vf).join(", ")}) cannot be expressed: global parameters read a ConfigMap's key (configMapKeyRef name and key, with a default)`);
    }
    configMap = { name: ref["name"], key: ref["key"] };
    if (vf["default"] !== undefined) value = text(vf["default"], `${where}: valueFrom.default`);
  } else {
    if (p.value === undefined) throw new ManifestImportError(`${where}: a global parameter (read as {{workflow.parameters.${p.name}}}) has no value`);
    value = text(p.value, `${where}: value`);
  }
  if (en && (en.length === 0 || (value !== undefined && !en.includes(value)))) throw new ManifestImportError(`${where}: value ${JSON.stringify(value)} is not among its enum ${JSON.stringify(en)}`);
  return dropUndefined({ name: p.name, value, description: p.description, enum: en, configMap });
}

/**
 * `spec.retryStrategy` as `retry` options, when rendering them gives it back exactly.
 * @throws ManifestImportError naming the field otherwise.
 */
function retryOf(v: unknown): Record<string, unknown> | number {
  const where = "manifest: spec.retryStrategy";
  if (!isObj(v)) throw new ManifestImportError(`${where}: must be a retry strategy, got ${JSON.stringify(v)?.slice(0, 80)}`);
  const limit = typeof v["limit"] === "string" && /^\d+$/.test(v["limit"]) ? Number(v["limit"]) : v["limit"];
  if (typeof limit !== "number") throw new ManifestImportError(`${where}: limit ${JSON.stringify(v["limit"])} cannot be expressed (retry takes a number of retries)`);
  const on: Record<string, RetryOn> = { OnError: "error", Always: "always" };
  const policy = v["retryPolicy"] as string | undefined;
  const retry: Record<string, unknown> = { limit };
  if (policy !== undefined) {
    if (!on[policy]) throw new ManifestImportError(`${where}.retryPolicy ${JSON.stringify(policy)} cannot be expressed (retry.on gives OnError, Always, or none: OnFailure)`);
    retry["on"] = on[policy];
  } else retry["on"] = "failure";
  const expr = v["expression"];
  if (typeof expr === "string") retry["expression"] = expr.startsWith("(") && expr.endsWith(")") ? expr.slice(1, -1) : expr;
  const b = v["backoff"] as Obj | undefined;
  if (b) {
    retry["backoff"] = Object.fromEntries(Object.entries(b).map(([k, x]) => [k, k === "factor" && typeof x === "string" && /^\d+(\.\d+)?$/.test(x) ? Number(x) : x]));
  }
  let back: unknown;
  try {
    back = renderRetry("workflow", retry as never, "failure");
  } catch {
    back = undefined;
  }
  const norm = (x: unknown): string => JSON.stringify(x, (k, val: unknown) => (k === "limit" || k === "factor" ? String(val) : val));
  const sorted = (x: unknown): unknown => (isObj(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sorted(x[k])])) : x);
  if (back === undefined || norm(sorted(back)) !== norm(sorted(v))) {
    throw new ManifestImportError(`${where} (${Object.keys(v).join(", ")}) cannot be expressed with the workflow's retry option exactly`);
  }
  if (retry["on"] === "failure") delete retry["on"];
  return Object.keys(retry).length === 1 ? limit : retry;
}

/** `spec.workflowMetadata` (labels, annotations, labelsFrom expressions). */
function workflowMetadataOf(v: unknown): PlanWorkflow["workflowMetadata"] {
  const where = "manifest: spec.workflowMetadata";
  if (!isObj(v)) throw new ManifestImportError(`${where}: must be a mapping, got ${JSON.stringify(v)?.slice(0, 80)}`);
  for (const k of Object.keys(v)) if (!["labels", "annotations", "labelsFrom"].includes(k)) throw new ManifestImportError(`${where}.${k} cannot be expressed`);
  const strings = (x: unknown, field: string): Record<string, string> | undefined => {
    if (x === undefined) return undefined;
    if (!isObj(x)) throw new ManifestImportError(`${where}.${field}: must map names to strings, got ${JSON.stringify(x)?.slice(0, 80)}`);
    return Object.fromEntries(Object.entries(x).map(([k, s]) => [k, text(s, `${where}.${field}.${k}`)]));
  };
  let labelsFrom: Record<string, string> | undefined;
  if (v["labelsFrom"] !== undefined) {
    if (!isObj(v["labelsFrom"])) throw new ManifestImportError(`${where}.labelsFrom: must map names to { expression }`);
    labelsFrom = {};
    for (const [k, f] of Object.entries(v["labelsFrom"])) {
      if (!isObj(f) || typeof f["expression"] !== "string" || Object.keys(f).length !== 1) throw new ManifestImportError(`${where}.labelsFrom.${k}: only { expression } can be expressed`);
      labelsFrom[k] = f["expression"];
    }
  }
  return dropUndefined({ labels: strings(v["labels"], "labels"), annotations: strings(v["annotations"], "annotations"), labelsFrom });
}

/** Names of the templates a planned template calls. */
export function calledBy(p: PlanTemplate): string[] {
  if (p.kind === "verbatim") return [...p.calls];
  return p.groups.flat().flatMap((s) => [s.template, ...(s.onExit ? [s.onExit] : []), ...Object.values(s.hooks ?? {}).map((h) => h.template)]);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function planTemplate(t: ArgoTemplate, byName: ReadonlyMap<string, ArgoTemplate>): PlanTemplate {
  const graph = t.steps !== undefined || t.dag !== undefined;
  if (!graph) return { kind: "verbatim", name: t.name, argo: t, calls: [] };
  const calls = graphCalls(t);
  for (const { name, field } of calls) {
    if (!byName.has(name)) throw new ManifestImportError(`template "${t.name}": ${field} names template "${name}", which the manifest does not hold`);
  }
  const reason = whyVerbatim(t);
  if (reason !== undefined) return { kind: "verbatim", name: t.name, argo: t, calls: [...new Set(calls.map((c) => c.name))], reason };
  return planGraph(t, byName);
}

/** The templates a graph template calls, with the field that names each. */
function graphCalls(t: ArgoTemplate): { name: string; field: string }[] {
  const out: { name: string; field: string }[] = [];
  const visit = (s: WorkflowStep, field: string): void => {
    if (s.template !== undefined) out.push({ name: s.template, field: `${field}.template` });
    if (s.onExit !== undefined) out.push({ name: s.onExit, field: `${field}.onExit` });
    for (const [h, hook] of Object.entries(s.hooks ?? {})) if (hook.template) out.push({ name: hook.template, field: `${field}.hooks.${h}.template` });
  };
  (t.steps ?? []).forEach((g, i) => (g ?? []).forEach((s) => visit(s, `steps[${i}] "${s.name}"`)));
  for (const task of t.dag?.tasks ?? []) visit(task, `dag.tasks "${task.name}"`);
  return out;
}

/** Why a graph template cannot be rebuilt with Steps or DAG (and is kept verbatim), or undefined. */
function whyVerbatim(t: ArgoTemplate): string | undefined {
  for (const k of Object.keys(t)) if (!GRAPH_FIELDS.has(k)) return `field ${k}`;
  const meta = (t.metadata ?? {}) as Obj;
  for (const k of Object.keys(meta)) if (k !== "annotations" && k !== "labels") return `metadata.${k}`;
  if (t.dag && Object.keys(t.dag).some((k) => k !== "tasks" && k !== "failFast")) return `dag.${Object.keys(t.dag).find((k) => k !== "tasks" && k !== "failFast")}`;
  if (t.dag && t.failFast !== undefined) return "failFast on a DAG template";
  for (const p of t.inputs?.parameters ?? []) {
    const extra = Object.keys(p).find((k) => !["name", "default", "enum", "description"].includes(k));
    if (extra) return `inputs.parameters "${p.name}".${extra}`;
  }
  for (const a of t.inputs?.artifacts ?? []) {
    const extra = Object.keys(a).find((k) => k !== "name" && k !== "optional");
    if (extra) return `inputs.artifacts "${a.name}".${extra}`;
  }
  for (const k of Object.keys(t.outputs ?? {})) if (k !== "parameters" && k !== "artifacts") return `outputs.${k}`;
  for (const p of t.outputs?.parameters ?? []) {
    const extra = Object.keys(p).find((k) => !["name", "valueFrom", "globalName", "description"].includes(k));
    if (extra) return `outputs.parameters "${p.name}".${extra}`;
    const vf = (p.valueFrom ?? {}) as Obj;
    const keys = Object.keys(vf);
    if (keys.filter((k) => k === "parameter" || k === "expression").length !== 1 || keys.some((k) => !["parameter", "expression", "default"].includes(k))) {
      return `outputs.parameters "${p.name}".valueFrom (${keys.join(", ") || "empty"})`;
    }
  }
  for (const a of t.outputs?.artifacts ?? []) {
    const extra = Object.keys(a).find((k) => !["name", "from", "fromExpression", "optional", "globalName"].includes(k));
    if (extra) return `outputs.artifacts "${a.name}".${extra}`;
    if ((a.from === undefined) === (a.fromExpression === undefined)) return `outputs.artifacts "${a.name}" without exactly one of from, fromExpression`;
  }
  const steps: WorkflowStep[] = [...(t.steps ?? []).flat(), ...(t.dag?.tasks ?? [])];
  if (t.steps && t.steps.some((g) => !Array.isArray(g) || g.length === 0)) return "an empty or malformed step group";
  if (t.dag && (t.dag.tasks ?? []).length === 0) return "a DAG without tasks";
  if (t.steps && t.steps.length === 0) return "Steps without steps";
  const names = new Set<string>();
  for (const s of steps) {
    const where = `step "${s.name}"`;
    if (names.has(s.name)) return `${where} named twice`;
    names.add(s.name);
    for (const k of Object.keys(s)) if (!STEP_FIELDS.has(k) || (t.steps && (k === "depends" || k === "dependencies"))) return `${where}.${k}`;
    if (s.template === undefined) return `${where} without a template`;
    for (const k of Object.keys(s.arguments ?? {})) if (k !== "parameters" && k !== "artifacts") return `${where}.arguments.${k}`;
    for (const p of s.arguments?.parameters ?? []) {
      if (Object.keys(p).some((k) => k !== "name" && k !== "value") || p.value === undefined) return `${where}.arguments.parameters "${p.name}" (only value is expressed)`;
    }
    for (const a of s.arguments?.artifacts ?? []) {
      try {
        artifactSource(a, where, true);
      } catch (e) {
        if (e instanceof ManifestImportError) return e.message;
        throw e;
      }
    }
    const seq = s.withSequence as Obj | undefined;
    if (seq && (seq["count"] === undefined) === (seq["end"] === undefined)) return `${where}.withSequence without exactly one of count, end`;
    if (s.continueOn && Object.keys(s.continueOn).some((k) => k !== "failed" && k !== "error")) return `${where}.continueOn`;
    for (const [h, hook] of Object.entries(s.hooks ?? {})) {
      if (Object.keys(hook).some((k) => !["template", "expression", "arguments"].includes(k))) return `${where}.hooks.${h}`;
      if (hook.expression === undefined && h !== "exit") return `${where}.hooks.${h} without an expression`;
      if ((hook.arguments?.artifacts ?? []).length) return `${where}.hooks.${h}.arguments.artifacts`;
      if ((hook.arguments?.parameters ?? []).some((p) => p.value === undefined)) return `${where}.hooks.${h}.arguments.parameters without a value`;
    }
  }
  return undefined;
}

/** Where an artifact comes from; `optionalOk`: an argument may say it is optional. */
function artifactSource(a: Artifact, where: string, optionalOk: boolean): PlanArtifactSource {
  const all = Object.keys(a).filter((k) => k !== "name" && !(optionalOk && k === "optional"));
  const sub = typeof a.subPath === "string" && (a.from !== undefined || a.fromExpression !== undefined) ? { subPath: a.subPath } : {};
  const keys = sub.subPath !== undefined ? all.filter((k) => k !== "subPath") : all;
  const one = (k: string): boolean => keys.length === 1 && keys[0] === k;
  if (one("from") && typeof a.from === "string") return { from: a.from, ...sub };
  if (one("fromExpression") && typeof a.fromExpression === "string") return { fromExpression: a.fromExpression, ...sub };
  if (one("raw") && typeof a.raw?.data === "string" && Object.keys(a.raw).length === 1) return { raw: a.raw.data };
  if (one("s3") && typeof a.s3?.key === "string" && Object.keys(a.s3).length === 1) return { s3: a.s3.key };
  if (one("http") && typeof a.http?.url === "string" && Object.keys(a.http).length === 1) return { http: a.http.url };
  throw new ManifestImportError(`${where}: artifact "${a.name}" (${keys.join(", ") || "no source"}) is not one of from, fromExpression (each with a subPath or not), raw, s3 key, http url`);
}

function planGraph(t: ArgoTemplate, byName: ReadonlyMap<string, ArgoTemplate>): PlanGraph {
  const where = `template "${t.name}"`;
  const inputs = {
    parameters: (t.inputs?.parameters ?? [])
      .filter((p) => p.name !== KEY_PARAMETER)
      .map((p) =>
        dropUndefined({
          name: p.name,
          default: p.default === undefined ? undefined : text(p.default, `${where}: inputs.parameters "${p.name}".default`),
          enum: p.enum?.map((e) => text(e, `${where}: inputs.parameters "${p.name}".enum`)),
          description: p.description,
        }),
      ),
    artifacts: (t.inputs?.artifacts ?? []).map((a) => dropUndefined({ name: a.name, optional: a.optional === true ? true : undefined })),
  };
  const outputs = {
    parameters: (t.outputs?.parameters ?? []).map((p) => {
      const vf = p.valueFrom as { parameter?: string; expression?: string; default?: unknown };
      return dropUndefined({
        name: p.name,
        default: vf.default === undefined ? undefined : text(vf.default, `${where}: outputs.parameters "${p.name}".valueFrom.default`),
        parameter: vf.parameter,
        expression: vf.expression,
        globalName: p.globalName,
        description: p.description,
      });
    }),
    artifacts: (t.outputs?.artifacts ?? []).map((a) =>
      dropUndefined({
        name: a.name,
        source: a.from !== undefined ? { from: a.from } : { fromExpression: a.fromExpression as string },
        optional: a.optional === true ? true : undefined,
        globalName: a.globalName,
      }),
    ),
  };
  const callee = (s: WorkflowStep): ArgoTemplate => byName.get(s.template as string) as ArgoTemplate;
  const step = (s: DAGTask): PlanStep => {
    const sw = `${where}: step "${s.name}"`;
    const parameters: Record<string, string> = {};
    let key: string | undefined;
    for (const p of s.arguments?.parameters ?? []) {
      const v = text(p.value, `${sw}: arguments.parameters "${p.name}".value`);
      if (p.name === KEY_PARAMETER) key = v;
      else parameters[p.name] = v;
    }
    const declared = new Set((callee(s).inputs?.parameters ?? []).map((p) => p.name));
    for (const n of Object.keys(parameters)) {
      if (!declared.has(n)) throw new ManifestImportError(`${sw}: arguments.parameters "${n}" is not an input of template "${s.template}"`);
    }
    const artifacts: Record<string, PlanArtifactSource> = {};
    const declaredArts = new Set((callee(s).inputs?.artifacts ?? []).map((a) => a.name));
    for (const a of s.arguments?.artifacts ?? []) {
      if (!declaredArts.has(a.name)) throw new ManifestImportError(`${sw}: arguments.artifacts "${a.name}" is not an input of template "${s.template}"`);
      artifacts[a.name] = artifactSource(a, sw, true);
    }
    const seq = s.withSequence as Record<string, unknown> | undefined;
    const hooks = s.hooks
      ? Object.fromEntries(
          Object.entries(s.hooks).map(([h, hook]) => [
            h,
            dropUndefined({
              template: hook.template as string,
              expression: hook.expression,
              parameters: Object.fromEntries((hook.arguments?.parameters ?? []).map((p) => [p.name, text(p.value, `${sw}: hooks.${h}.arguments.parameters "${p.name}"`)])),
            }),
          ]),
        )
      : undefined;
    return dropUndefined({
      name: s.name,
      template: s.template as string,
      parameters,
      artifacts,
      key,
      when: s.when === undefined ? undefined : text(s.when, `${sw}: when`),
      withParam: s.withParam === undefined ? undefined : text(s.withParam, `${sw}: withParam`),
      withItems: s.withItems as unknown[] | undefined,
      withSequence: seq
        ? dropUndefined({
            count: seq["count"] === undefined ? undefined : text(seq["count"], `${sw}: withSequence.count`),
            start: seq["start"] === undefined ? undefined : text(seq["start"], `${sw}: withSequence.start`),
            end: seq["end"] === undefined ? undefined : text(seq["end"], `${sw}: withSequence.end`),
            format: seq["format"] as string | undefined,
          })
        : undefined,
      continueOn: s.continueOn ? { ...s.continueOn } : undefined,
      onExit: s.onExit,
      hooks,
      depends: s.depends,
      dependencies: s.dependencies,
    });
  };
  return dropUndefined({
    kind: t.dag ? "dag" : "steps",
    name: t.name,
    inputs,
    outputs,
    parallelism: t.parallelism === undefined ? undefined : Number(t.parallelism),
    failFast: t.dag ? t.dag.failFast : t.failFast,
    annotations: t.metadata?.annotations,
    labels: t.metadata?.labels,
    groups: t.dag ? [t.dag.tasks.map(step)] : (t.steps as WorkflowStep[][]).map((g) => g.map(step)),
  }) as PlanGraph;
}
