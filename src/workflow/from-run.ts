/**
 * Past runs by name alone (dflow's `Workflow(id=…)`): {@link openRun} gives a handle on a run
 * without the `Workflow` object that made it; {@link runManifest} reads the manifest the run
 * stored — the local engine's `<workdir>/<name>/manifest.yaml`, or the Workflow object Argo
 * keeps — as a manifest to submit again (what `Workflow.fromRun` rebuilds).
 */
import path from "node:path";
import type { ArgoClient } from "../argo/client.ts";
import type { SubmitOptions } from "../argo/workflow-handle.ts";
import { WorkflowHandle } from "../argo/workflow-handle.ts";
import { ClusterApiError } from "../argo/api-errors.ts";
import { resubmittedWorkflow } from "../argo/control.ts";
import type { Workflow as ArgoWorkflow, WorkflowSpec } from "../argo/model.ts";
import type { LocalBinding, LocalBindings } from "../contract.ts";
import type { DebugSubmitOptions } from "../debug/submit-mode.ts";
import { RUN_FILES } from "../debug/state-tree.ts";
import { readManifest } from "../debug/run-folder.ts";
import { engineStorageRoot, localWorkdir } from "../debug/workdir.ts";
import { ValidationError } from "../errors.ts";
import { pathExists } from "../files.ts";
import type { OPClass, OPDefinition } from "../op/op.ts";
import { toOPDefinition } from "../op/op.ts";
import { encodeParameter } from "../op/parameter-codec.ts";
import { SLICES_ENV, type SliceSpec } from "../op/slices.ts";
import type { StorageClient } from "../storage/client.ts";
import type { Signature } from "../op/signature.ts";
import { OPTemplate } from "../template/op-template.ts";
import { ManifestImportError } from "./manifest-plan.ts";
import { type StorageSource, type WorkflowOutputs, decodeOutputs } from "./outputs.ts";

/** Where a past run is: the local engine's workdir (`mode: "debug"`) or a cluster (the options `submit` takes). */
export type RunLocation = SubmitOptions & DebugSubmitOptions;

/** Options of `Workflow.fromRun`: where the run is, and what changes in the rebuilt workflow. */
export interface FromRunOptions extends RunLocation {
  /**
   * New values of the run's workflow parameters (`spec.arguments.parameters`), as Argo's
   * `resubmit --parameter`: each must be an input of the entrypoint. Values other than strings
   * are written as JSON (`6` → `"6"`).
   * @default the run's own values
   */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /**
   * Keep the run's name, so that submitting the rebuilt workflow in debug mode **resumes** that
   * run (its Succeeded steps whose digests are unchanged are taken over) instead of starting a
   * new one.
   * @default false: the rebuilt workflow gets the run's `generateName` (else `<name>-`), like
   *   Argo's resubmit, and the label `workflows.argoproj.io/resubmitted-from-workflow`
   */
  readonly keepName?: boolean;
  /**
   * OPs whose templates run in-process on the local engine, as in the run that made them: each
   * template of the manifest that runs an OP by this name (`--op <name>`, installed or bundle
   * form; sliced or not) gets the OP's in-process implementation, and its step values are read
   * by the OP's output signature (numbers as numbers). Without it the engine runs the
   * template's command (`npx --no-install opflow execute …`), which needs opflow installed, and
   * step values are strings.
   * @default none
   */
  readonly ops?: readonly (OPDefinition | OPClass)[];
  /**
   * In-process implementations by template name (the `bindings` of the `prepare()` that made
   * the run), besides those of `ops`.
   * @default none
   */
  readonly bindings?: LocalBindings;
}

/** A run's stored manifest, as read by {@link runManifest}. */
export interface StoredRunManifest {
  /** The manifest to submit again (no status; metadata as {@link FromRunOptions.keepName} says). */
  readonly manifest: ArgoWorkflow;
  /** Where it was read from (a file, or `workflow "<name>" in namespace "<ns>"`), for messages. */
  readonly source: string;
}

/** The client and artifact store of a past run's back-end. */
async function runBackend(options: RunLocation): Promise<{ client: ArgoClient; storage: StorageSource; workdir?: string }> {
  const { submitMode } = await import("../debug/submit-mode.ts");
  if (submitMode(options) === "debug") {
    const { LocalArgoClient } = await import("../debug/local-argo-client.ts");
    const { LocalStorageClient } = await import("../storage/local.ts");
    const workdir = localWorkdir(options.workdir);
    const local = options.storage ?? new LocalStorageClient({ root: engineStorageRoot(workdir) });
    return { client: new LocalArgoClient({ workdir, storage: local }), storage: () => local, workdir };
  }
  const { createArgoClient } = await import("../argo/create-argo-client.ts");
  const client = options.client ?? createArgoClient(options);
  let clusterStorage: Promise<StorageClient> | undefined;
  const storage: StorageSource = () =>
    options.storage ??
    (clusterStorage ??= import("../storage/config.ts").then(({ createStorageClient, loadArtifactRepositoryConfig }) => createStorageClient(loadArtifactRepositoryConfig())));
  return { client, storage };
}

/**
 * A handle on a past run by its name alone, without rebuilding its workflow (dflow's
 * `Workflow(id=…)` for querying): its phase, steps (`querySteps`, values read as JSON where
 * they parse), outputs (artifacts as references with `download()`), logs, and its steps to `reuse` in a new submission. Works for every run,
 * also those whose manifest `Workflow.fromRun` cannot rebuild. In debug mode (`mode: "debug"` or
 * `OPFLOW_MODE=debug`) it reads `<workdir>/<name>/`; otherwise the cluster.
 *
 * @throws ClusterApiError (404) naming the run, and the folder or namespace searched, when there
 *   is no run by that name.
 * @example
 * ```ts
 * const old = await openRun("reuse-x7k2p", { mode: "debug", workdir: "runs" });
 * const [iter1] = await old.querySteps({ key: "iter-1" });
 * await wf.submit({ mode: "debug", workdir: "runs", reuse: [iter1!] });
 * ```
 */
export async function openRun(name: string, options: RunLocation = {}): Promise<WorkflowHandle<WorkflowOutputs<Signature>>> {
  const { client, storage, workdir } = await runBackend(options);
  if (workdir !== undefined) await runFolder(name, workdir);
  // Parameters read as JSON where they parse; artifacts as references that download from the run's store.
  const handle = new WorkflowHandle<WorkflowOutputs<Signature>>(name, client, { outputs: (io) => decodeOutputs(undefined, io, storage) });
  await handle.get();
  return handle;
}

/** The folder of local run `name` under `workdir`, checked to hold a run. */
async function runFolder(name: string, workdir: string): Promise<string> {
  const dir = path.join(workdir, name);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.includes("..")) {
    throw new ClusterApiError(`run ${JSON.stringify(name)}: not a workflow name (a lowercase DNS subdomain), so no run folder under ${workdir}`, "NotFound", 404);
  }
  if (!(await pathExists(dir))) {
    throw new ClusterApiError(`run "${name}": not found (404): the local engine's workdir ${workdir} has no folder ${name}/`, "NotFound", 404);
  }
  if (!(await pathExists(path.join(dir, RUN_FILES.manifest)))) {
    throw new ClusterApiError(`run "${name}": the folder ${dir} holds no ${RUN_FILES.manifest}, so it is no run of the local engine (or one killed before it started)`, "NotFound", 404);
  }
  return dir;
}

/**
 * The manifest run `name` ran, made ready to submit again: Argo's `spec` (or, for a run of a
 * `workflowTemplateRef`, the `status.storedWorkflowTemplateSpec` the controller resolved), its
 * shutdown and a zero deadline left out, controller labels dropped — as Argo's resubmit does.
 *
 * @throws ClusterApiError (404) when there is no such run; ManifestImportError when its stored
 *   manifest is not a Workflow (a corrupted `manifest.yaml`, naming the file).
 * @example
 * ```ts
 * const { manifest } = await runManifest("reuse-x7k2p", { mode: "debug", workdir: "runs" });
 * fs.writeFileSync("again.ts", generateWorkflowCode(manifest));
 * ```
 */
export async function runManifest(name: string, options: Omit<FromRunOptions, "ops" | "bindings"> = {}): Promise<StoredRunManifest> {
  const { client, workdir } = await runBackend(options);
  let wf: ArgoWorkflow;
  let source: string;
  if (workdir !== undefined) {
    const dir = await runFolder(name, workdir);
    const file = path.join(dir, RUN_FILES.manifest);
    source = file;
    let parsed: unknown;
    try {
      // As the engine wrote it (YAML 1.2), not as Go reads YAML: a parameter named `n` stays "n".
      parsed = await readManifest(dir);
    } catch (err) {
      throw new ManifestImportError(`${file}: not valid YAML: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`);
    }
    const m = parsed as Partial<ArgoWorkflow> | null;
    if (typeof m !== "object" || m === null || m.kind !== "Workflow" || typeof m.spec !== "object" || m.spec === null) {
      throw new ManifestImportError(`${file}: expects an Argo Workflow (kind: Workflow, spec), got ${JSON.stringify(parsed)?.slice(0, 80)}`);
    }
    wf = { ...(m as ArgoWorkflow), metadata: { ...(m.metadata ?? {}), name } };
  } else {
    wf = await client.get(name);
    source = `workflow "${name}" in namespace "${client.namespace}"`;
  }
  return { manifest: manifestToResubmit(wf, source, options), source };
}

/**
 * A run's Workflow object as a manifest to submit again (see {@link runManifest}).
 * @throws ManifestImportError when the run ran a `workflowTemplateRef` whose resolved spec is not stored.
 */
export function manifestToResubmit(wf: ArgoWorkflow, source: string, options: Pick<FromRunOptions, "parameters" | "keepName"> = {}): ArgoWorkflow {
  const name = wf.metadata.name as string;
  let spec: WorkflowSpec = structuredClone(wf.spec);
  if (spec.workflowTemplateRef) {
    const stored = (wf.status as { storedWorkflowTemplateSpec?: WorkflowSpec } | undefined)?.storedWorkflowTemplateSpec;
    if (!stored?.templates?.length) {
      throw new ManifestImportError(
        `${source}: spec.workflowTemplateRef ${JSON.stringify(spec.workflowTemplateRef.name)}: the run's status holds no storedWorkflowTemplateSpec to rebuild from (openRun reads its steps without rebuilding)`,
      );
    }
    spec = { ...structuredClone(stored), ...(spec.arguments ? { arguments: structuredClone(spec.arguments) } : {}) };
    delete spec.workflowTemplateRef;
  }
  const copy = resubmittedWorkflow({ ...wf, spec });
  if (copy.spec.activeDeadlineSeconds === 0) delete copy.spec.activeDeadlineSeconds; // a terminated run's
  // What opflow's submit adds again itself.
  const labels = { ...(copy.metadata.labels ?? {}) };
  delete labels["app.kubernetes.io/managed-by"];
  if (options.keepName) delete labels["workflows.argoproj.io/resubmitted-from-workflow"];
  copy.metadata = {
    ...(options.keepName ? { name } : { generateName: wf.metadata.generateName ?? `${name}-` }),
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(copy.metadata.annotations ? { annotations: copy.metadata.annotations } : {}),
  };
  if (options.parameters) overrideParameters(copy, options.parameters, source);
  return copy;
}

function overrideParameters(wf: ArgoWorkflow, values: Readonly<Record<string, unknown>>, source: string): void {
  const entry = wf.spec.templates?.find((t) => t.name === wf.spec.entrypoint);
  const inputs = new Set((entry?.inputs?.parameters ?? []).map((p) => p.name));
  const params = [...(wf.spec.arguments?.parameters ?? [])];
  for (const [n, v] of Object.entries(values)) {
    if (!inputs.has(n)) {
      throw new ManifestImportError(`${source}: parameters: ${JSON.stringify(n)} is no input of the entrypoint "${wf.spec.entrypoint}"; it takes: ${[...inputs].join(", ") || "none"}`);
    }
    const value = typeof v === "string" ? v : encodeParameter(v);
    const i = params.findIndex((p) => p.name === n);
    if (i >= 0) params[i] = { name: n, value };
    else params.push({ name: n, value });
  }
  wf.spec.arguments = { ...(wf.spec.arguments ?? {}), parameters: params };
}

/**
 * The manifest's OP templates made from `ops`: a template whose container runs `--op <name>`
 * (installed or bundle form) for an OP given gets the OP's in-process implementation (`bindings`)
 * and output specs (`outputs`, to read its step values typed), sliced by its `OPFLOW_SLICES`
 * environment when it has one.
 * @throws ValidationError naming an OP of `ops` that no template runs (`source` names the manifest).
 */
export function opTemplates(manifest: ArgoWorkflow, ops: readonly (OPDefinition | OPClass)[], source = "manifest"): { bindings: Map<string, LocalBinding>; outputs: Map<string, Signature> } {
  const byName = new Map<string, OPDefinition>();
  for (const op of ops) {
    const def = toOPDefinition(op as OPDefinition);
    byName.set(def.name, def);
  }
  const bindings = new Map<string, LocalBinding>();
  const outputs = new Map<string, Signature>();
  const run = new Set<string>();
  for (const t of manifest.spec.templates ?? []) {
    const args = t.container?.args ?? [];
    const at = args.indexOf("--op");
    if (at >= 0) run.add(args[at + 1] ?? "");
    const op = at >= 0 ? byName.get(args[at + 1] ?? "") : undefined;
    if (!op) continue;
    const template = OPTemplate.fromOp(op, { code: "installed", module: op.name });
    const slices = t.container?.env?.find((e) => e.name === SLICES_ENV)?.value;
    const made = slices !== undefined ? template.sliced(JSON.parse(slices) as SliceSpec) : template;
    bindings.set(t.name, made.localBinding());
    outputs.set(t.name, made.outputs);
  }
  const unused = [...byName.keys()].filter((n) => !run.has(n));
  if (unused.length) {
    throw new ValidationError(
      `${source}: ops: no template runs ${unused.length === 1 ? "OP" : "OPs"} ${unused.map((n) => JSON.stringify(n)).join(", ")}; the OPs it runs: ${[...run].map((n) => JSON.stringify(n)).join(", ") || "none"}`,
    );
  }
  return { bindings, outputs };
}
