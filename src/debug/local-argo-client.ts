/**
 * `LocalArgoClient`: an {@link ArgoClient} backed by the local engine, so that `submit()` in
 * debug mode returns the same {@link WorkflowHandle} as on a cluster (`wait`, `querySteps`,
 * `outputs`, `logs`, `terminate`, `retry` …). Runs live under `<workdir>/<name>/` (the state
 * tree); a run of this process is read live, any other from its state tree on disk.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type {
  CreateOptions,
  PodLogOptions,
  WatchEventType,
  WorkflowListFilter,
  NodeSetOptions,
  WorkflowResubmitOptions,
  WorkflowResumeOptions,
  WorkflowRetryOptions,
  ArgoClient,
} from "../argo/client.ts";
import { resumeSuspendNodes, setSuspendNodes, type SuspendNodeChange } from "../argo/suspend-nodes.ts";
import { awaitNodeReply, NodeRequestChannel, writeNodeRequest, type NodeRequest } from "./node-requests.ts";
import { acquireRunLock, type RunLock } from "./run-lock.ts";
import { ClusterApiError, type ApiErrorReason } from "../argo/api-errors.ts";
import { filterWorkflows, isCompletedPhase, matchesLabelSelector, nodeFieldSelector, resubmittedWorkflow } from "../argo/control.ts";
import type { NodeStatus, Workflow, WorkflowStatus } from "../argo/model.ts";
import { keyedStepsOf } from "../argo/reuse.ts";
import { podNameOf } from "../argo/pod-name.ts";
import type { LocalBindings } from "../contract.ts";
import { SubmitError } from "../errors.ts";
import { signalIfSame } from "../executors/process-identity.ts";
import type { StorageClient } from "../storage/client.ts";
import { runWorkflow, workflowRunName, type RunOptions } from "./run.ts";
import { messageOf, now } from "./_context.ts";
import { LOCAL_NAMESPACE, otherEngine, runWorkflowObject, storedRun } from "./run-record.ts";
import { NODE_FILES, RUN_FILES, StateTree, nodeDirName, type StoredNode } from "./state-tree.ts";
import { pathExists } from "../files.ts";
import { sleep } from "../sleep.ts";
import { localWorkdir } from "./workdir.ts";
import { holdsRun, readManifest, readRunStatus, requestOfEngine } from "./run-folder.ts";

/** Options of a {@link LocalArgoClient}. */
export interface LocalArgoClientOptions {
  /**
   * Folder holding the runs; each run's state tree is `<workdir>/<name>/`.
   * @default `./opflow-runs` (relative to the current directory)
   */
  readonly workdir?: string;
  /**
   * In-process implementations of templates, by template name (`workflow.prepare().bindings`),
   * used by every run this client starts (create, retry, resubmit).
   * @default none: every container/script template runs as a local process
   */
  readonly bindings?: LocalBindings;
  /**
   * Where artifacts go (Argo's key layout).
   * @default a local-directory store at `<workdir>/.storage` (the engine's default)
   */
  readonly storage?: StorageClient;
  /**
   * Further options of every run (`parallelism`, `processes`, `inProcess`, `namespaces`,
   * `updateIntervalMs`, `acceptControl`).
   * @default the engine's defaults
   */
  readonly run?: Pick<RunOptions, "parallelism" | "processes" | "inProcess" | "namespaces" | "updateIntervalMs" | "acceptControl">;
  /**
   * How often {@link LocalArgoClient.watch} reads the state tree of a run that is not running in
   * this process.
   * @default 500 ms
   */
  readonly pollIntervalMs?: number;
}

/** A run started by this client. */
interface LocalRun {
  readonly name: string;
  /** The manifest as the engine runs it (`metadata.name` set). */
  readonly manifest: Workflow;
  readonly createdAt: string;
  /** Aborted to terminate the run (exit handlers do not run). */
  readonly abort: AbortController;
  /** Aborted to stop the run (exit handlers still run). */
  readonly stop: AbortController;
  /** The engine's live status object (read only), or the final one. */
  status: WorkflowStatus;
  /** Until `runWorkflow` has settled (files written, engine.pid removed). */
  running: boolean;
  /** The run rejected: its status here is authoritative (the tree may be half made). */
  failed: boolean;
  /** Resumes and sets its suspend nodes. */
  readonly nodeRequests: NodeRequestChannel;
  done: Promise<void>;
  readonly listeners: Set<() => void>;
}


/** How long stop/terminate wait for another process's engine to end the run. */
const STOP_WAIT_MS = 60_000;


/**
 * An {@link ArgoClient} backed by the local engine (debug mode): `create` starts
 * {@link runWorkflow} in the background of this process and returns at once; `get`, `watch`,
 * `list` and `podLogs` read the live status of runs of this process and the state tree of any
 * other run under the workdir. Wrap it in a {@link WorkflowHandle} (or pass it as
 * `submitWorkflow(manifest, { client })`) to query and control runs exactly as on a cluster.
 *
 * Errors are `ClusterApiError`s with the reasons the handle expects: `NotFound` (404) for an
 * unknown name or pod, `AlreadyExists` (409) for a name that is running, `Conflict` (409) for an
 * action the run's state forbids, `BadRequest` (400) for what the local engine cannot do
 * (suspend a whole running workflow) and for a resume or node set Argo would refuse.
 *
 * A run whose engine is gone (a killed process) is reported `Failed` with a message saying so;
 * `retry` resumes it.
 *
 * @example
 * ```ts
 * const client = new LocalArgoClient({ workdir: "runs", bindings: workflow.prepare().bindings });
 * const handle = await submitWorkflow(workflow.compile(), { client });
 * const done = await handle.wait();
 * const [train] = await handle.querySteps({ key: "train" });
 * console.log(done.status?.phase, train?.outputs.parameters["loss"]);
 * ```
 */
export class LocalArgoClient implements ArgoClient {
  readonly backend = "local" as const;
  readonly namespace = LOCAL_NAMESPACE;
  /** The workdir (absolute): the folder holding the runs. */
  readonly endpoint: string;
  private readonly bindings: LocalBindings;
  private readonly storage: StorageClient | undefined;
  private readonly runOptions: LocalArgoClientOptions["run"];
  private readonly pollMs: number;
  private readonly runs = new Map<string, LocalRun>();

  constructor(options: LocalArgoClientOptions = {}) {
    this.endpoint = localWorkdir(options.workdir);
    this.bindings = options.bindings ?? new Map();
    this.storage = options.storage;
    this.runOptions = options.run;
    this.pollMs = options.pollIntervalMs ?? 500;
    if (!Number.isFinite(this.pollMs) || this.pollMs <= 0) {
      throw new SubmitError(`LocalArgoClient: pollIntervalMs must be a positive number, got ${options.pollIntervalMs}`);
    }
  }

  /** The local engine holds no credentials. */
  containsSecret(_text: string): boolean {
    return false;
  }

  private error(action: string, name: string | undefined, reason: ApiErrorReason, status: number, detail: string): ClusterApiError {
    const obj = name !== undefined ? `workflow "${name}"` : "workflows";
    return new ClusterApiError(`cannot ${action} ${obj} in the local engine's workdir ${this.endpoint}: ${detail}`, reason, status);
  }

  private notFound(action: string, name: string): ClusterApiError {
    return this.error(action, name, "NotFound", 404, `not found (404): no run of that name (no ${path.join(this.endpoint, name, RUN_FILES.manifest)})`);
  }

  private runDir(name: string): string {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.includes("..")) {
      throw this.error("find", name, "NotFound", 404, "not found (404): not a workflow name (a DNS subdomain)");
    }
    return path.join(this.endpoint, name);
  }

  /**
   * Starts the run in the background and returns at once with its name and a `Running`
   * status. A fixed `metadata.name` whose run exists under the workdir **resumes** that run
   * (its Succeeded steps are reused), as `workflow.run()` does; it is refused (409) while that
   * run is running. Failures of the run end it `Error`; they never reject later.
   */
  async create(manifest: Workflow, options: CreateOptions = {}): Promise<Workflow> {
    if (manifest?.kind !== "Workflow" || typeof manifest.spec !== "object" || manifest.spec === null) {
      throw this.error("create", manifest?.metadata?.name, "Invalid", 422, `expects an Argo Workflow object (kind: Workflow, spec), got kind ${JSON.stringify((manifest as { kind?: unknown })?.kind)}`);
    }
    let name: string;
    try {
      name = workflowRunName(manifest);
    } catch (err) {
      throw this.error("create", manifest.metadata?.name ?? manifest.metadata?.generateName, "Invalid", 422, messageOf(err));
    }
    // A generated name that is taken (unlikely): draw again, as Argo does.
    for (let i = 0; !manifest.metadata.name && i < 10 && (this.runs.has(name) || (await pathExists(path.join(this.endpoint, name)))); i++) {
      name = workflowRunName(manifest);
    }
    await this.refuseIfRunning("create", name, "AlreadyExists");
    const running: Workflow = structuredClone({ ...manifest, metadata: { ...manifest.metadata, name, namespace: LOCAL_NAMESPACE } });
    delete running.metadata.generateName;
    delete running.status;
    this.start(running, options.reuse?.length ? { reuseSteps: options.reuse } : {});
    return this.get(name);
  }

  /** Refuses (409) when run `name` is running here or in another live engine. */
  private async refuseIfRunning(action: string, name: string, reason: "AlreadyExists" | "Conflict"): Promise<void> {
    if (this.runs.get(name)?.running) throw this.error(action, name, reason, 409, `the run is still running in this process (409); terminate it or wait for it first`);
    const other = await otherEngine(this.runDir(name));
    if (other) throw this.error(action, name, reason, 409, `the run is still running in another engine (pid ${other.pid}) (409); stop it there first`);
  }

  private start(manifest: Workflow, extra: Pick<RunOptions, "reuse" | "reuseSteps" | "rerun"> = {}): LocalRun {
    const name = manifest.metadata.name as string;
    const createdAt = now();
    const run: LocalRun = {
      name,
      manifest,
      createdAt,
      abort: new AbortController(),
      stop: new AbortController(),
      status: { phase: "Running", startedAt: createdAt, progress: "0/0", nodes: {} },
      running: true,
      failed: false,
      nodeRequests: new NodeRequestChannel(),
      done: Promise.resolve(),
      listeners: new Set(),
    };
    const bump = (): void => {
      for (const l of run.listeners) {
        try {
          l();
        } catch {
          /* a listener's failure is its own */
        }
      }
    };
    this.runs.set(name, run);
    run.done = runWorkflow(manifest, {
      ...this.runOptions,
      ...extra,
      workdir: this.endpoint,
      name,
      bindings: this.bindings,
      ...(this.storage ? { storage: this.storage } : {}),
      signal: run.abort.signal,
      stopSignal: run.stop.signal,
      nodeRequests: run.nodeRequests,
      onUpdate: (status) => {
        run.status = status;
        bump();
      },
    })
      .then((result) => {
        run.status = result.status;
      })
      .catch(async (err: unknown) => {
        run.failed = true;
        run.status = { ...run.status, phase: "Error", message: `the local engine failed: ${messageOf(err)}`, finishedAt: now() };
        // The tree may say Running with this process as its engine: record the end there too.
        const tree = new StateTree(this.endpoint, name);
        if (await holdsRun(tree.dir)) {
          await tree.writeWorkflowStatus(run.status).catch(() => undefined);
          await tree.writeStatus("Error").catch(() => undefined);
          await tree.releaseEngine().catch(() => undefined);
        }
      })
      .catch(() => undefined)
      .finally(() => {
        run.running = false;
        bump();
        run.listeners.clear();
      });
    return run;
  }

  private liveWorkflow(run: LocalRun): Workflow {
    const status = structuredClone(run.status);
    // The engine may report a final phase a moment before the run has settled (files written):
    // it is Running until then, so that whoever saw it end can delete or retry it at once.
    if (run.running && isCompletedPhase(status.phase)) status.phase = "Running";
    return runWorkflowObject(run.manifest, status, run.createdAt);
  }

  private async read(name: string): Promise<Workflow | undefined> {
    const run = this.runs.get(name);
    if (run && (run.running || run.failed)) return this.liveWorkflow(run);
    return (await storedRun(this.runDir(name), run?.running === true)) ?? (run ? this.liveWorkflow(run) : undefined);
  }

  /** The run with its status: live while it runs in this process, else from its state tree. */
  async get(name: string): Promise<Workflow> {
    const wf = await this.read(name);
    if (!wf) throw this.notFound("get", name);
    return wf;
  }

  /** The runs under the workdir (and those of this process), newest first. */
  async list(filter: WorkflowListFilter = {}): Promise<Workflow[]> {
    const names = new Set<string>(this.runs.keys());
    let entries: string[] = [];
    try {
      entries = await fs.readdir(this.endpoint);
    } catch {
      /* no workdir yet: no runs */
    }
    for (const e of entries) if (!e.startsWith(".") && (await holdsRun(path.join(this.endpoint, e)))) names.add(e);
    const items: Workflow[] = [];
    for (const name of names) {
      if (filter.namePrefix && !name.startsWith(filter.namePrefix)) continue;
      const wf = await this.read(name).catch(() => undefined);
      if (wf && matchesLabelSelector(wf.metadata.labels ?? {}, filter.labels)) items.push(wf);
    }
    return filterWorkflows(items, filter);
  }

  /**
   * Calls `onEvent` with the run now (`ADDED`) and at each change (`MODIFIED`); resolves when the
   * run has ended (after its final event) or `signal` aborts. Runs of this process are followed
   * live; others by reading their state tree every `pollIntervalMs`.
   */
  async watch(name: string, onEvent: (type: WatchEventType, workflow: Workflow) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const first = await this.read(name);
    if (!first) throw this.notFound("watch", name);
    onEvent("ADDED", first);
    if (isCompletedPhase(first.status?.phase) && !this.runs.get(name)?.running) return;
    const run = this.runs.get(name);
    if (run?.running) {
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          run.listeners.delete(listener);
          signal.removeEventListener("abort", stop);
          resolve();
        };
        const listener = (): void => {
          if (signal.aborted) return;
          onEvent("MODIFIED", this.liveWorkflow(run));
          if (!run.running) stop();
        };
        run.listeners.add(listener);
        signal.addEventListener("abort", stop, { once: true });
      });
      return;
    }
    let last = JSON.stringify(first.status ?? {});
    while (!signal.aborted) {
      await sleep(this.pollMs, signal);
      if (signal.aborted) return;
      const wf = await this.read(name);
      if (!wf) {
        onEvent("DELETED", first);
        return;
      }
      const text = JSON.stringify(wf.status ?? {});
      if (text !== last) {
        last = text;
        onEvent("MODIFIED", wf);
      }
      if (isCompletedPhase(wf.status?.phase)) return;
    }
  }

  /** Removes the run's folder (its state tree). Refused (409) while the run is running. */
  async delete(name: string): Promise<void> {
    const dir = this.runDir(name);
    const known = this.runs.has(name) || (await holdsRun(dir));
    if (!known) throw this.notFound("delete", name);
    await this.refuseIfRunning("delete", name, "Conflict");
    await fs.rm(dir, { recursive: true, force: true });
    this.runs.delete(name);
  }

  private async stopRun(action: "stop" | "terminate", name: string): Promise<Workflow> {
    const run = this.runs.get(name);
    if (run?.running) {
      if (action === "stop") run.stop.abort("Stopped with strategy 'Stop'");
      else run.abort.abort("Stopped with strategy 'Terminate'");
      await run.done;
      return this.get(name);
    }
    const wf = await this.get(name);
    const other = await otherEngine(this.runDir(name));
    if (other) {
      if (!other.control) {
        throw this.error(action, name, "Conflict", 409, `the run is running in another engine (pid ${other.pid}) that takes no requests (a program that did not set acceptControl) (409); stop it there`);
      }
      // The request, then the signal that makes that engine read it.
      await requestOfEngine(this.runDir(name), action);
      // Signalled only while it is still that engine (checked again just before the signal).
      signalIfSame(other.identity, other.control as NodeJS.Signals);
      const deadline = Date.now() + STOP_WAIT_MS;
      for (;;) {
        const { status, engineAlive } = await readRunStatus(this.runDir(name));
        if (engineAlive !== true || isCompletedPhase(status.phase)) return this.get(name);
        if (Date.now() > deadline) {
          throw this.error(action, name, "ServerError", 504, `the engine (pid ${other.pid}) was asked to ${action} the run but it has not ended within ${STOP_WAIT_MS / 1000} s (504)`);
        }
        await sleep(Math.min(this.pollMs, 200));
      }
    }
    throw this.error(action, name, "Conflict", 409, `the run is not running (phase ${wf.status?.phase || "Pending"}) (409)`);
  }

  /**
   * Terminates the run at once: running steps are killed (their process groups) and end Failed,
   * exit handlers do not run; the workflow ends Failed with message "Stopped with strategy
   * 'Terminate'", as on Argo. Resolves once the run has ended. A run of another process is
   * asked to end through its folder, when its engine takes requests (`acceptControl`, as
   * `opflow run` does).
   */
  terminate(name: string): Promise<Workflow> {
    return this.stopRun("terminate", name);
  }

  /**
   * Stops the run as Argo's `stop` does: running steps are killed and end Failed, nothing new
   * starts, but exit handlers — the workflow's, and those of steps and tasks that ran — still
   * run; the workflow ends Failed with message "Stopped with strategy 'Stop'". Resolves once
   * the run (exit handlers included) has ended; {@link terminate} meanwhile ends them too.
   */
  stop(name: string): Promise<Workflow> {
    return this.stopRun("stop", name);
  }

  /** Always rejects (400): the local engine cannot suspend a running workflow. */
  async suspend(name: string): Promise<Workflow> {
    await this.get(name);
    throw this.error(
      "suspend",
      name,
      "BadRequest",
      400,
      "the local engine has no suspension (400); terminate the run and retry it later instead (its Succeeded steps are reused)",
    );
  }

  /**
   * Resumes the run's suspend nodes waiting for a person — all, or those `nodeFieldSelector`
   * matches — as `argo resume` does (see `resumeSuspendNodes`): a run of this process or of
   * another engine that takes requests (`opflow run`) carries on at once. A run whose engine is
   * gone is re-entered: the nodes are recorded resumed, then the engine resumes the run in this
   * process (its Succeeded steps reused), as {@link retry} does. Refused (400) with Argo's
   * message when a supplied output has neither a value nor a default, or the selector matches
   * no waiting suspend node; (409) when the run has ended with nothing waiting.
   */
  resume(name: string, options: WorkflowResumeOptions = {}): Promise<Workflow> {
    return this.nodeRequest("resume", name, { action: "resume", ...(options.nodeFieldSelector ? { nodeFieldSelector: options.nodeFieldSelector } : {}) });
  }

  /**
   * Sets supplied output parameters, the message or the phase of the waiting suspend nodes that
   * `options.nodeFieldSelector` matches, as `argo node set` (see `setSuspendNodes`); without a
   * phase they keep waiting. Works on a run of this process, of another engine that takes
   * requests, and of one whose engine is gone (recorded for when it is resumed).
   */
  setNodes(name: string, options: NodeSetOptions): Promise<Workflow> {
    return this.nodeRequest("set nodes of", name, { action: "set", options });
  }

  /**
   * Waits until the run `name` this client runs in this process (create, retry, resubmit, a
   * resume that re-entered it) has ended; false at once when it runs nothing of that name.
   */
  async settled(name: string): Promise<boolean> {
    if (!this.runsHere(name)) return false;
    await this.runs.get(name)?.done;
    return true;
  }

  /** Whether this client runs `name` in this process now. */
  runsHere(name: string): boolean {
    return this.runs.get(name)?.running === true;
  }

  private async nodeRequest(action: string, name: string, request: NodeRequest): Promise<Workflow> {
    const refused = (err: unknown): ClusterApiError => (err instanceof ClusterApiError ? err : this.error(action, name, "BadRequest", 400, `${messageOf(err)} (400)`));
    const run = this.runs.get(name);
    // A run this client just started takes requests once its engine is made (the tree read).
    for (const until = Date.now() + STOP_WAIT_MS; run?.running && !run.nodeRequests.attached && Date.now() < until; ) await sleep(20);
    if (run?.running && run.nodeRequests.attached) {
      try {
        run.nodeRequests.send(request);
      } catch (err) {
        throw refused(err);
      }
      return this.get(name);
    }
    const wf = await this.get(name);
    const dir = this.runDir(name);
    const other = await otherEngine(dir);
    if (other) {
      if (!other.control) {
        throw this.error(action, name, "Conflict", 409, `the run is running in another engine (pid ${other.pid}) that takes no requests (a program that did not set acceptControl) (409)`);
      }
      const id = await writeNodeRequest(dir, request);
      signalIfSame(other.identity, other.control as NodeJS.Signals);
      const reply = await awaitNodeReply(dir, id, STOP_WAIT_MS, async () => (await readRunStatus(dir)).engineAlive === true);
      if (reply?.ok === false) throw this.error(action, name, "BadRequest", 400, `${reply.error} (400)`);
      if (reply) return this.get(name);
      if ((await readRunStatus(dir)).engineAlive === true) {
        throw this.error(action, name, "ServerError", 504, `the engine (pid ${other.pid}) was asked but has not answered within ${STOP_WAIT_MS / 1000} s (504)`);
      }
      // The engine died meanwhile: as below.
    }
    // No engine: the change is recorded in the state tree, under the run's lock.
    let lock: RunLock;
    try {
      lock = await acquireRunLock(dir);
    } catch (err) {
      throw this.error(action, name, "Conflict", 409, `${messageOf(err)} (409)`);
    }
    let changed: number;
    try {
      const tree = new StateTree(this.endpoint, name);
      const stored = await tree.load();
      const nodes = [...stored.values()].map((s) => s.node);
      let changes: SuspendNodeChange[];
      try {
        changes = request.action === "resume" ? resumeSuspendNodes(nodes, request.nodeFieldSelector) : setSuspendNodes(nodes, request.options);
      } catch (err) {
        throw refused(err);
      }
      if (changes.length === 0) {
        throw this.error(action, name, "Conflict", 409, `the run is not running and no suspend node of it waits (phase ${wf.status?.phase || "Pending"}) (409)`);
      }
      await tree.recordWithoutEngine(changes.map((c) => ({ ...(stored.get(c.after.id) as StoredNode), node: c.after })));
      changed = changes.length;
    } finally {
      await lock.release();
    }
    if (request.action === "resume" && changed > 0) {
      const manifest = await this.storedManifest(action, name);
      manifest.metadata = { ...manifest.metadata, name, namespace: LOCAL_NAMESPACE };
      delete manifest.status;
      this.start(manifest);
    }
    return this.get(name);
  }

  private async storedManifest(action: string, name: string): Promise<Workflow> {
    const run = this.runs.get(name);
    try {
      return await readManifest(this.runDir(name));
    } catch {
      if (run) return structuredClone(run.manifest);
      throw this.notFound(action, name);
    }
  }

  /**
   * Runs a Failed or Error workflow again under the same name, in the background: the engine
   * resumes it, reusing every Succeeded step, and runs the rest. With `restartSuccessful`, the
   * Succeeded steps that `nodeFieldSelector` matches (`templateName=train`, `displayName!=a`, …)
   * run again too.
   */
  async retry(name: string, options: WorkflowRetryOptions = {}): Promise<Workflow> {
    const wf = await this.get(name);
    let rerun: ((node: NodeStatus) => boolean) | undefined;
    if (options.restartSuccessful) {
      if (!options.nodeFieldSelector) {
        throw this.error("retry", name, "BadRequest", 400, "restartSuccessful needs nodeFieldSelector, naming the Succeeded steps to run again (templateName=…, displayName=…) (400)");
      }
      try {
        rerun = nodeFieldSelector(options.nodeFieldSelector);
      } catch (err) {
        throw this.error("retry", name, "BadRequest", 400, `${messageOf(err)} (400)`);
      }
    }
    await this.refuseIfRunning("retry", name, "Conflict");
    const phase = wf.status?.phase;
    if (phase !== "Failed" && phase !== "Error") {
      throw this.error("retry", name, "Conflict", 409, `only a Failed or Error workflow can be retried; its phase is ${phase || "Pending"} (409)`);
    }
    const manifest = await this.storedManifest("retry", name);
    manifest.metadata = { ...manifest.metadata, name, namespace: LOCAL_NAMESPACE };
    delete manifest.status;
    this.start(manifest, rerun ? { rerun } : {});
    return this.get(name);
  }

  /**
   * Runs the workflow again under a new generated name (`<name>-xxxxx`), labelled
   * `workflows.argoproj.io/resubmitted-from-workflow`. With `memoized`, its keyed steps that
   * Succeeded in the original run are reused (the engine's `reuse`), as Argo reuses memoized
   * results.
   */
  async resubmit(name: string, options: WorkflowResubmitOptions = {}): Promise<Workflow> {
    const wf = await this.get(name);
    const manifest = await this.storedManifest("resubmit", name);
    const copy = resubmittedWorkflow({ ...wf, metadata: { ...manifest.metadata, name }, spec: manifest.spec });
    let newName = workflowRunName(copy);
    for (let i = 0; i < 10 && (this.runs.has(newName) || (await pathExists(path.join(this.endpoint, newName)))); i++) newName = workflowRunName(copy);
    const running: Workflow = { ...copy, metadata: { ...copy.metadata, name: newName, namespace: LOCAL_NAMESPACE } };
    delete running.metadata.generateName;
    const reuseSteps = options.reuse ? keyedStepsOf(wf, options.reuse) : [];
    this.start(running, { ...(options.memoized ? { reuse: [name] } : {}), ...(reuseSteps.length ? { reuseSteps } : {}) });
    return this.get(newName);
  }

  /**
   * The log of one step (`log.txt` in its folder of the state tree), found by its pod name (as
   * `querySteps` reports it) or its node id. Only the `main` container has a log.
   */
  async podLogs(workflowName: string, podName: string, options: PodLogOptions = {}): Promise<string> {
    const wf = await this.get(workflowName);
    const nodes = Object.values(wf.status?.nodes ?? {});
    const node: NodeStatus | undefined = nodes.find((n) => n.id === podName) ?? nodes.find((n) => n.type === "Pod" && podNameOf(wf, n) === podName);
    if (!node) throw this.error("read the logs of", workflowName, "NotFound", 404, `pod "${podName}" not found (404): no step of this run has that pod name or node id`);
    if ((options.container ?? "main") !== "main") {
      throw this.error("read the logs of", workflowName, "NotFound", 404, `container "${options.container}" of pod "${podName}" not found (404): local steps have only the "main" container`);
    }
    const tree = new StateTree(this.endpoint, workflowName);
    const stored = await tree.load();
    const dir = stored.get(node.id)?.dir ?? path.join(tree.dir, nodeDirName(workflowName, node.name));
    let text: string;
    try {
      text = await fs.readFile(path.join(dir, NODE_FILES.log), "utf8");
    } catch {
      return ""; // the step wrote nothing (or has not started)
    }
    if (options.tailLines !== undefined) {
      const lines = text.split("\n");
      const trailing = lines.at(-1) === "" ? lines.pop() : undefined;
      text = lines.slice(Math.max(0, lines.length - options.tailLines)).join("\n") + (trailing !== undefined ? "\n" : "");
    }
    return text;
  }
}
