/**
 * The entry point of the local engine: `runWorkflow(manifest, options)` interprets an Argo
 * manifest on this machine and writes its state tree under `<workdir>/<workflow-name>/`.
 */
import path from "node:path";
import { isMainThread, workerData } from "node:worker_threads";
import { containers } from "../argo/control.ts";
import type { NodeStatus, Workflow, WorkflowStatus, WorkflowTemplate } from "../argo/model.ts";
import { validateManifest } from "../argo/validate.ts";
import type { ArgoStep } from "../argo/query.ts";
import { reusableSteps, stepOutputs } from "../argo/reuse.ts";
import { KEY_PARAMETER } from "../contract.ts";
import type { LocalBindings } from "../contract.ts";
import fs from "node:fs/promises";
import { EngineError } from "../errors.ts";
import type { Executor } from "../executors/executor.ts";
import { killProcessGroup, namespacesAvailable, warmUpLauncher } from "../executors/local-process.ts";
import { isSameProcess } from "../executors/process-identity.ts";
import { LocalStorageClient } from "../storage/local.ts";
import type { StorageClient } from "../storage/client.ts";
import { ArtifactIO } from "./artifact-io.ts";
import { Engine } from "./engine.ts";
import type { LocalObjects } from "./local-objects.ts";
import { inlineTemplateRefs } from "./workflow-templates.ts";
import { engineStorageRoot, localWorkdir } from "./workdir.ts";
import type { ResumeReport } from "./resume.ts";
import { acquireRunLock } from "./run-lock.ts";
import { clearNodeRequests, serveNodeRequests, type NodeRequestChannel } from "./node-requests.ts";
import type { NodeRequest, NodeRequestResult } from "./suspensions.ts";
import { StepCache } from "./step-cache.ts";
import { CONTROL_REQUEST, CONTROL_SIGNAL, StateTree, safeSegment, type StoredNode } from "./state-tree.ts";

/** Options of {@link runWorkflow}. */
export interface RunOptions {
  /**
   * Folder holding the runs; the run's state tree is `<workdir>/<name>/`.
   * @default `./opflow-runs` (relative to the current directory)
   */
  readonly workdir?: string;
  /**
   * The workflow's name. Running again with the name of an earlier run **resumes** it: every
   * step that run recorded as Succeeded is taken over when its digest (template and code,
   * resolved inputs, input artifacts' checksums) is unchanged; the rest runs (again).
   * @default `metadata.name`, else `metadata.generateName` plus 5 random characters (as Argo)
   */
  readonly name?: string;
  /**
   * In-process implementations of templates, by template name (from `workflow.prepare().bindings`).
   * @default none: every container/script template runs as a local process
   */
  readonly bindings?: LocalBindings;
  /**
   * Where artifacts go, with Argo's key layout `<workflow-name>/<node-id>/<artifact>.tgz`.
   * @default a local-directory store at `<workdir>/.storage`
   */
  readonly storage?: StorageClient;
  /**
   * Values of the workflow's arguments (`spec.arguments.parameters`), by name.
   * @default the manifest's values
   */
  readonly parameters?: Readonly<Record<string, string>>;
  /**
   * Most steps (leaf nodes) running at once, as Argo's `spec.parallelism`.
   * @default the manifest's `spec.parallelism`, else no limit beyond `processes` / `inProcess`
   */
  readonly parallelism?: number;
  /**
   * Most nodes of the run: at this many it stops with a message (a template that calls itself
   * more than once per level grows without end before Argo's depth cap of 100 is reached).
   * @default 50000
   */
  readonly maxNodes?: number;
  /**
   * Most local processes at once.
   * @default 64
   */
  readonly processes?: number;
  /**
   * Most in-process bindings running at once.
   * @default 256
   */
  readonly inProcess?: number;
  /**
   * Called with the live status while the run progresses (at most every `updateIntervalMs`)
   * and once at the end. The object is the engine's own: read it, don't keep or change it.
   * @default no callback
   */
  readonly onUpdate?: (status: WorkflowStatus) => void;
  /**
   * Minimum time between two `onUpdate` calls.
   * @default 200 ms
   */
  readonly updateIntervalMs?: number;
  /**
   * Stops the run when aborted (Argo's `terminate`): running steps are killed (their process
   * group) and end Failed, nothing else starts, exit handlers do not run; the workflow ends
   * Failed with the abort reason as message when it is a string (`"Stopped with strategy
   * 'Terminate'"`), else "Stopped". Run again with the same name to resume.
   * @default never stopped
   */
  readonly signal?: AbortSignal;
  /**
   * Stops the run gracefully when aborted (Argo's `stop`): like {@link signal}, but exit handlers
   * — the workflow's, and those of steps and tasks that ran — still run. Aborting `signal`
   * afterwards ends them too.
   * @default never stopped
   */
  readonly stopSignal?: AbortSignal;
  /**
   * When resuming: Succeeded steps (leaf nodes) for which it returns true run again, and so do
   * the nodes that contain them; everything else Succeeded is reused (Argo's `retry
   * --restart-successful --node-field-selector …`; see `nodeFieldSelector`).
   * @default every Succeeded node is reused
   */
  readonly rerun?: (node: NodeStatus) => boolean;
  /**
   * Take stop and terminate requests of other processes (`opflow stop|terminate NAME` on
   * another terminal, `LocalArgoClient` elsewhere): they write the request into the run's
   * folder and send this process SIGUSR2. `opflow run` sets it; a program of your own that
   * turns it on should not use SIGUSR2 otherwise (the process ignores it from then on).
   * @default false
   */
  readonly acceptControl?: boolean;
  /**
   * Resume or set the run's suspend nodes that wait for a person from this process (see
   * {@link NodeRequestChannel}); other processes reach a run that set {@link acceptControl}
   * (`opflow resume NAME`, `opflow node set NAME …`, `LocalArgoClient`).
   * @default none: only other processes, through `acceptControl`
   */
  readonly nodeRequests?: NodeRequestChannel;
  /**
   * Earlier runs whose Succeeded **keyed** steps (the `opflow-key` argument) this run reuses:
   * a step with the same key and template is not run again; its outputs are taken over. Each
   * entry is a run's folder, or a workflow name under `workdir`.
   * @default none (a run with the same `name` resumes itself without this)
   */
  readonly reuse?: readonly string[];
  /**
   * Steps of earlier runs to take over by key, with their outputs (from `querySteps` of any
   * handle, possibly changed with `modifyOutputs`): like {@link reuse}, but step by step, and
   * their artifacts are read from the store by key.
   * @default none
   */
  readonly reuseSteps?: readonly ArgoStep[];
  /**
   * Put every step through the content-hash cache shared by the runs of `workdir` (templates
   * made with `cache: true` always go through it): a step (a pod: container or script template)
   * whose digest — template and code, resolved inputs, input artifacts' checksums — an earlier
   * run recorded is not run again; its outputs are taken over. Steps that ran are recorded for
   * later runs. Nodes say `memoizationStatus.hit` (true for a hit).
   * @default false
   */
  readonly cache?: boolean;
  /**
   * Start the run over: what an earlier engine recorded under this name is removed first, and
   * nothing of it is taken over.
   * @default false (a run with an existing name resumes)
   */
  readonly restart?: boolean;
  /**
   * Run processes in private mount namespaces (`/tmp`, `/mnt` mapped into each step's folder).
   * @default when available (root, and `unshare` works); `OPFLOW_NO_NAMESPACES=1` disables it
   */
  readonly namespaces?: boolean;
  /**
   * Runs the pods of container and script templates that have no in-process binding (see
   * `src/executors/executor.ts`).
   * @default local processes (`namespaces` applies to them)
   */
  readonly executor?: Executor;
  /**
   * WorkflowTemplates and ClusterWorkflowTemplates that `templateRef` and
   * `spec.workflowTemplateRef` refer to (see `loadWorkflowTemplates`); Argo reads them from the
   * cluster.
   * @default none: a reference ends its node with Error, saying so
   */
  readonly workflowTemplates?: readonly WorkflowTemplate[];
  /**
   * The ConfigMaps and Secrets the workflow reads (env `valueFrom`/`envFrom`, parameters'
   * `valueFrom.configMapKeyRef`, HTTP header secrets); see `loadLocalObjects`. Secret values are
   * never written to the state tree or to messages.
   * @default none: a reference to one ends its node with Error, saying so
   */
  readonly objects?: LocalObjects;
}

/** What {@link runWorkflow} returns. */
export interface RunResult {
  /** The workflow's name (pass it as `name` to resume). */
  readonly name: string;
  /** The run's state tree, `<workdir>/<name>`. */
  readonly dir: string;
  /** Final status in Argo's shape: phase, message, outputs, and `nodes` as `status.nodes`. */
  readonly status: WorkflowStatus;
  /** Steps taken over: from an earlier run of the same name, by key, or from the cache. */
  readonly reusedNodes: number;
  /**
   * Which steps were taken over (and how), and which an earlier engine of this run had
   * finished but ran again because something they depend on changed (and what).
   */
  readonly resume: ResumeReport;
}

const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

function randomSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

/** The name a run gets (see {@link RunOptions.name}). */
export function workflowRunName(manifest: Workflow, name?: string): string {
  const chosen = name ?? manifest.metadata?.name ?? (manifest.metadata?.generateName ? `${manifest.metadata.generateName}${randomSuffix()}` : undefined);
  if (!chosen) throw new EngineError(`workflow: metadata.name or metadata.generateName is required (or pass options.name)`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(chosen) || chosen.length > 253) {
    throw new EngineError(`workflow: name must be a DNS subdomain (lowercase letters, digits, '-', '.'), got ${JSON.stringify(chosen)}`);
  }
  return chosen;
}

/**
 * Removes from a previous run's nodes the Succeeded leaves `rerun` selects and every node that
 * contains them (by children links), so that the resumed run executes them again.
 */
function forgetForRerun(previous: Map<string, StoredNode>, rerun: (node: NodeStatus) => boolean): void {
  const nodes = [...previous.values()].map((s) => s.node);
  const leaves = nodes.filter((n) => n.phase === "Succeeded" && (n.type === "Pod" || !n.children?.length) && rerun(n)).map((n) => n.id);
  for (const id of containers(nodes, leaves)) previous.delete(id);
}

/**
 * Writes the run's end to its folder. When the tree could not be written (now or during the
 * run: a full disk), the run ends as Error with a message naming the path, and the `status`
 * file says so whenever a byte can still be written.
 */
async function recordEnd(tree: StateTree, status: WorkflowStatus): Promise<WorkflowStatus> {
  let end = status;
  const asError = (message: string): WorkflowStatus => ({ ...end, phase: "Error", message });
  if (tree.failed) end = asError(tree.failed.message);
  try {
    await tree.writeWorkflowStatus(end);
  } catch (err) {
    end = asError(`state tree: ${(err as Error).message}`);
  }
  try {
    await tree.writeStatus(end.phase ?? "Error");
  } catch (err) {
    if (end.phase !== "Error") end = asError(`state tree: ${(err as Error).message}`);
  }
  await tree.finish().catch(() => undefined);
  return end;
}

function ignoreLateRequest(): void {
  /* see acceptControl */
}

/**
 * Runs an Argo workflow manifest with the local engine and resolves when it has ended (whatever
 * its phase: a failed workflow is a result, not an exception). A manifest Argo would refuse
 * (see `validateManifest`: its CRD schema, strict on unknown fields, and the controller's
 * semantic rules) rejects with a `ManifestError` naming every problem before anything runs.
 *
 * @example
 * ```ts
 * import { runWorkflow } from "@opflow/core";
 * const { status, dir } = await runWorkflow(manifest, { workdir: "runs", parameters: { n: "3" } });
 * console.log(status.phase, dir);                 // "Succeeded" "runs/hello-x7k2p"
 * console.log(status.outputs?.parameters);        // global outputs
 * // Resume after a crash or Ctrl-C:
 * await runWorkflow(manifest, { workdir: "runs", name: "hello-x7k2p" });
 * ```
 */
export async function runWorkflow(manifest: Workflow, options: RunOptions = {}): Promise<RunResult> {
  if (manifest?.kind !== "Workflow" || typeof manifest.spec !== "object" || manifest.spec === null) {
    throw new EngineError(`runWorkflow: expects an Argo Workflow object (kind: Workflow, spec), got kind ${JSON.stringify((manifest as { kind?: unknown })?.kind)}`);
  }
  // The mark of op/op-worker.mjs: a module imported to find an OP must not run workflows.
  if (!isMainThread && workerData === "opflow-op-worker") {
    throw new EngineError(
      `runWorkflow: called while a worker thread imported the module of an OP that runs with thread "worker"; that module runs a workflow when imported — move the OPs to a module without side effects`,
    );
  }
  // WorkflowTemplates given as files take the cluster's place.
  manifest = inlineTemplateRefs(manifest, options.workflowTemplates ?? []);
  // What Argo's API server and controller refuse is refused here too, before anything runs.
  validateManifest(manifest, { suppliedParameters: Object.keys(options.parameters ?? {}) });
  const name = workflowRunName(manifest, options.name);
  const workdir = localWorkdir(options.workdir);
  const running: Workflow = { ...manifest, metadata: { ...manifest.metadata, name } };
  delete running.metadata.generateName;
  delete running.status;
  const bindings = options.bindings ?? new Map();
  // Templates that run as processes: the launcher starts while the tree is prepared.
  if (!options.executor && (running.spec.templates ?? []).some((t) => (t.container || t.script) && !bindings.has(t.name))) void warmUpLauncher();
  const tree = new StateTree(workdir, name);
  // One engine per run: a second one refuses here, before it reads or writes anything.
  const lock = await acquireRunLock(tree.dir);
  try {
    return await runLocked(running, options, tree, workdir, name, bindings);
  } finally {
    await lock.release();
  }
}

async function runLocked(running: Workflow, options: RunOptions, tree: StateTree, workdir: string, name: string, bindings: LocalBindings): Promise<RunResult> {
  if (options.restart) await tree.clear();
  const previous = await tree.load();
  if (options.rerun) forgetForRerun(previous, options.rerun);
  // Steps a killed engine left running are ended before they run again.
  // Only those still the same processes: a recorded pid may name an unrelated process by now.
  for (const id of tree.unfinishedProcesses().values()) if (isSameProcess(id)) killProcessGroup(id.pid);
  await tree.init(running);
  const control = await takeControl(tree, options.acceptControl === true);
  try {
    const storage = options.storage ?? new LocalStorageClient({ root: engineStorageRoot(workdir) });
    const publisher = new StatusPublisher(tree, options);
    const engine = new Engine({
      manifest: running,
      tree,
      artifactIO: new ArtifactIO(storage, name, path.join(tree.dir, ".scratch")),
      bindings,
      previous,
      reuse: await reusedSteps(options.reuse ?? [], options.reuseSteps ?? [], workdir),
      parameters: options.parameters ?? {},
      ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}),
      ...(options.maxNodes !== undefined ? { maxNodes: options.maxNodes } : {}),
      processSlots: options.processes ?? 64,
      bindingSlots: options.inProcess ?? 256,
      namespaces: options.namespaces ?? namespacesAvailable(),
      ...(options.objects ? { objects: options.objects } : {}),
      ...(options.executor ? { executor: options.executor } : {}),
      md5: (key) => storage.md5(key),
      cache: new StepCache(workdir),
      ...(options.cache ? { cacheAll: true } : {}),
      signal: options.signal ? AbortSignal.any([options.signal, control.terminate.signal]) : control.terminate.signal,
      stopSignal: options.stopSignal ? AbortSignal.any([options.stopSignal, control.stop.signal]) : control.stop.signal,
      onChange: () => publisher.changed(),
    });
    publisher.status = engine.status;
    const onRequest = (request: NodeRequest): NodeRequestResult => engine.request(request);
    control.serve(onRequest);
    options.nodeRequests?.attach(onRequest);
    let status: WorkflowStatus;
    try {
      status = await engine.run();
    } finally {
      options.nodeRequests?.attach(undefined);
      control.serve(undefined);
      publisher.close();
    }
    await publisher.written();
    status = await recordEnd(tree, status);
    await fs.rm(path.join(tree.dir, ".scratch"), { recursive: true, force: true }).catch(() => undefined);
    options.onUpdate?.(status);
    return { name, dir: tree.dir, status, reusedNodes: engine.reusedNodes, resume: engine.resume.report };
  } finally {
    control.dispose();
  }
}

/**
 * The succeeded steps of the runs `reuse` names, and the steps `given` with their outputs, by
 * their folder name (the step's key). A given step has no folder: its artifacts are read by key.
 */
async function reusedSteps(reuse: readonly string[], given: readonly ArgoStep[], workdir: string): Promise<Map<string, StoredNode>> {
  const steps = new Map<string, StoredNode>();
  for (const r of reuse) {
    const dir = path.isAbsolute(r) || r.includes("/") ? path.resolve(r) : path.join(workdir, r);
    const stored = await new StateTree(path.dirname(dir), path.basename(dir)).load();
    for (const s of stored.values()) if (s.node.phase === "Succeeded") steps.set(path.basename(s.dir), s);
  }
  for (const [key, step] of reusableSteps(given)) {
    const node: NodeStatus = {
      id: step.id,
      name: step.name,
      displayName: step.displayName,
      type: step.type,
      phase: "Succeeded",
      ...(step.templateName ? { templateName: step.templateName } : {}),
      inputs: { parameters: [{ name: KEY_PARAMETER, value: key }] },
      outputs: stepOutputs(step),
    };
    steps.set(safeSegment(key), { dir: "", node });
  }
  return steps;
}

/**
 * Requests of other processes (see {@link RunOptions.acceptControl}): aborts `stop` or
 * `terminate` when one arrives, and answers requests about suspend nodes (node-requests.ts)
 * through the handler given to `serve`; `dispose` stops listening.
 */
async function takeControl(
  tree: StateTree,
  accept: boolean,
): Promise<{ stop: AbortController; terminate: AbortController; serve(handler: ((request: NodeRequest) => NodeRequestResult) | undefined): void; dispose(): void }> {
  const requested = { stop: new AbortController(), terminate: new AbortController() };
  let nodeRequests: ((request: NodeRequest) => NodeRequestResult) | undefined;
  // Requests about suspend nodes are answered one batch at a time, in order.
  let serving: Promise<void> = Promise.resolve();
  // A write of the state tree failed (a full disk …): the run ends at once as Error, naming the path.
  tree.onFailure = (err) => requested.terminate.abort(err.message);
  const onControl = (): void => {
    void fs.readFile(path.join(tree.dir, CONTROL_REQUEST), "utf8").then(
      (text) => {
        const action = text.trim();
        if (action === "stop") requested.stop.abort("Stopped with strategy 'Stop'");
        else if (action === "terminate") requested.terminate.abort("Stopped with strategy 'Terminate'");
      },
      () => undefined,
    );
    const handler = nodeRequests;
    if (handler) serving = serving.then(() => serveNodeRequests(tree.dir, handler)).catch(() => undefined);
  };
  if (accept) {
    // A request that arrives as the run ends finds no run, and must not end the process
    // (SIGUSR2's default): once a run took control, the process ignores stray ones.
    if (!process.listeners(CONTROL_SIGNAL).includes(ignoreLateRequest)) process.on(CONTROL_SIGNAL, ignoreLateRequest);
    process.on(CONTROL_SIGNAL, onControl);
    await clearNodeRequests(tree.dir);
    await tree.acceptControl();
  }
  return {
    ...requested,
    serve: (handler) => {
      nodeRequests = handler;
      // Requests that came while the engine was being made.
      if (handler && accept) onControl();
    },
    dispose: () => void process.off(CONTROL_SIGNAL, onControl),
  };
}

/**
 * Publishes the live status: `onUpdate` at most every `updateIntervalMs`, and `workflow.json`
 * at most every second (less often for very large runs: it holds every node).
 */
class StatusPublisher {
  /** The engine's live status (set once the engine exists). */
  status: WorkflowStatus | undefined;
  private readonly interval: number;
  private lastUpdate = 0;
  private updateTimer: NodeJS.Timeout | undefined;
  private lastSnapshot = 0;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private snapshotWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly tree: StateTree,
    private readonly options: Pick<RunOptions, "onUpdate" | "updateIntervalMs">,
  ) {
    this.interval = options.updateIntervalMs ?? 200;
  }

  /** The status changed. */
  changed(): void {
    if (this.options.onUpdate && !this.updateTimer) this.updateTimer = setTimeout(() => this.emit(), Math.max(0, this.interval - (Date.now() - this.lastUpdate)));
    if (!this.snapshotTimer) this.snapshotTimer = setTimeout(() => this.snapshot(), Math.max(0, this.snapshotEvery() - (Date.now() - this.lastSnapshot)));
  }

  private emit(): void {
    this.updateTimer = undefined;
    this.lastUpdate = Date.now();
    if (this.status) this.options.onUpdate?.(this.status);
  }

  private snapshot(): void {
    this.snapshotTimer = undefined;
    this.lastSnapshot = Date.now();
    const status = this.status;
    if (!status) return;
    this.snapshotWrite = this.snapshotWrite.then(() => this.tree.writeWorkflowStatus(status)).catch(() => undefined);
  }

  private snapshotEvery(): number {
    const nodeCount = this.status ? Object.keys(this.status.nodes ?? {}).length : 0;
    return nodeCount > 0 ? 1000 + nodeCount / 5 : 1000;
  }

  /** No more publishing (the run ended). */
  close(): void {
    if (this.updateTimer) clearTimeout(this.updateTimer);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
  }

  /** Resolves once the last snapshot is written. */
  written(): Promise<void> {
    return this.snapshotWrite;
  }
}
