/**
 * Leaf nodes: pods (container and script templates, run through an executor in slots — the
 * workflow's `parallelism`, template-level parallelism of the ancestors, and the process or
 * binding slots; a daemon's pod gives its slots back once ready, and runs on until its scope
 * ends it, daemons.ts), data templates, HTTP templates, and suspend templates (waiting for a
 * duration or a person).
 */
import path from "node:path";
import type { NodePhase, NodeStatus, Template, WorkflowSpec } from "../argo/model.ts";
import { outputsWithDefaults, suppliedOutputs } from "../argo/suspend-nodes.ts";
import type { Suspensions } from "./suspensions.ts";
import { type LocalBindings, OUTPUT_SCHEMAS_ANNOTATION } from "../contract.ts";
import { BindingExecutor } from "../executors/in-process.ts";
import type { Executor } from "../executors/executor.ts";
import { sleep } from "../sleep.ts";
import { substituteTags } from "./_expr.ts";
import { FAIL_FAST_MESSAGE, messageOf, type Inputs, type Place } from "./_context.ts";
import { isFailedOrError } from "./node-state.ts";
import type { ArtifactIO } from "./artifact-io.ts";
import { recordInputs, varsWithInputs } from "./arguments.ts";
import { parseDuration } from "../duration.ts";
import { EngineError } from "../errors.ts";
import type { Globals } from "./globals.ts";
import type { NodeBook } from "./node-book.ts";
import { processEnvironment, runPod, type PodResult } from "./pod.ts";
import type { Daemons } from "./daemons.ts";
import { runData, type DataSpec } from "./data-template.ts";
import { checkProbe, waitReady, type ProbeSpec, type ProbeTarget } from "./readiness-probe.ts";
import { acquireAll, Semaphore } from "./semaphore.ts";
import type { RunControl } from "./signals.ts";
import type { StateTree } from "./state-tree.ts";
import { runHttp, type HttpSpec } from "./http-template.ts";
import { resultSchemaViolation } from "./output-schemas.ts";
import type { LocalObjects } from "./local-objects.ts";

/** Why a daemon's pod ended by itself: Argo's message for a failed pod, or that it ended at all. */
function daemonEndMessage(r: PodResult): string {
  if (r.phase !== "Succeeded" && r.message) return r.message;
  return `daemon ended by itself (exit code ${r.exitCode ?? 0}) before its steps or DAG did; a daemon must keep running until then`;
}

/** A daemon's readiness probe (none: ready once started) and where it runs. */
interface DaemonProbe {
  readonly probe?: ProbeSpec;
  readonly target: ProbeTarget;
}

/** What leaves need of the engine. */
export interface LeafEngine {
  readonly book: NodeBook;
  /** The run's daemons, ended with their scopes. */
  readonly daemons: Daemons;
  readonly control: RunControl;
  readonly globals: Globals;
  readonly suspensions: Suspensions;
}

/** How leaves run. */
export interface LeafConfig {
  readonly spec: WorkflowSpec;
  readonly tree: StateTree;
  readonly artifactIO: ArtifactIO;
  readonly bindings: LocalBindings;
  /** Runs the pods of templates without a binding. */
  readonly executor: Executor;
  /** Most leaf nodes running at once (Argo's `spec.parallelism`). */
  readonly parallelism?: number;
  /** Most pods of {@link executor} at once. */
  readonly processSlots: number;
  /** Most bindings at once. */
  readonly bindingSlots: number;
  /** ConfigMaps and Secrets the workflow reads. */
  readonly objects?: LocalObjects;
}

/** Runs the leaves of one run. */
export class Leaves {
  private readonly leafSlots: Semaphore | undefined;
  private readonly processSlots: Semaphore;
  private readonly bindingSlots: Semaphore;
  private readonly bindingExecutors = new Map<string, BindingExecutor>();
  /** The environment step processes start from, read once per run. */
  private readonly environment = processEnvironment();
  private active = 0;

  constructor(
    private readonly e: LeafEngine,
    private readonly cfg: LeafConfig,
  ) {
    const parallelism = cfg.parallelism;
    this.leafSlots = parallelism !== undefined && parallelism > 0 ? new Semaphore(parallelism) : undefined;
    this.processSlots = new Semaphore(cfg.processSlots);
    this.bindingSlots = new Semaphore(cfg.bindingSlots);
  }

  /** The executor of a template's pods: its binding's, else the run's. */
  private executorFor(tmpl: Template): { executor: Executor; binding: boolean } {
    const binding = this.cfg.bindings.get(tmpl.name);
    if (!binding) return { executor: this.cfg.executor, binding: false };
    let executor = this.bindingExecutors.get(tmpl.name);
    if (!executor) this.bindingExecutors.set(tmpl.name, (executor = new BindingExecutor(binding)));
    return { executor, binding: true };
  }

  /** Runs a container or script template at `place` (attempt `retries`). */
  async pod(place: Place, tmpl: Template, inputs: Inputs, retries: number): Promise<NodeStatus> {
    const { book, control } = this.e;
    const node = book.create(place, "Pod", tmpl, "Pending", recordInputs(inputs));
    const { executor, binding } = this.executorFor(tmpl);
    const release = await acquireAll([...place.semaphores, this.leafSlots, binding ? this.bindingSlots : this.processSlots]);
    this.active++;
    try {
      if (control.halted(place)) return await book.finish(node, "Failed", control.stopMessage ?? "Stopped");
      // Argo starts no new pod under a failFast template once a child failed; this one never starts.
      if (place.failFast?.failed) return await book.finish(node, "Omitted", `not started: ${FAIL_FAST_MESSAGE}`);
      book.setRunning(node);
      // The contract's folders: an in-process OP always gets outputs/parameters; a process only
      // what its template declares (an Argo container sees none of them either).
      const subdirs: string[] = [];
      if (binding || tmpl.outputs?.parameters?.length) subdirs.push(path.join("outputs", "parameters"));
      if (inputs.parameters.length > 0) subdirs.push(path.join("inputs", "parameters"));
      if (!binding) subdirs.push("workdir");
      if (tmpl.outputs?.artifacts?.length) subdirs.push(path.join("outputs", "artifacts"));
      // Few steps in flight (a chain): direct file calls have the lowest latency. Many (a fan-out):
      // the thread pool lets the disk work overlap with the engine's.
      const direct = this.active <= 2;
      const tree = this.cfg.tree;
      tree.direct = direct;
      const dir = direct ? tree.ensureNodeDir(node, ...subdirs) : await tree.ensureNodeDirAsync(node, ...subdirs);
      const spec = this.cfg.spec;
      const where = `node "${node.name}" (template "${tmpl.name}")`;
      let readiness: DaemonProbe | undefined;
      try {
        if (tmpl.daemon) readiness = this.daemonProbe(tmpl, dir, where);
      } catch (err) {
        return await book.finish(node, "Error", messageOf(err));
      }
      // A daemon's process is also killed when its scope ends (daemons.ts).
      const daemonStop = tmpl.daemon ? new AbortController() : undefined;
      const scope = place.boundaryID ?? "";
      const scopeSignal = daemonStop ? this.e.daemons.scopeSignal(scope) : undefined;
      const signal = daemonStop && scopeSignal ? AbortSignal.any([control.signalFor(place), daemonStop.signal, scopeSignal]) : control.signalFor(place);
      let spawned = (): void => undefined;
      const started = new Promise<void>((resolve) => (spawned = resolve));
      const podRun = runPod({
        nodeName: node.name,
        nodeId: node.id,
        dir,
        template: tmpl,
        parameters: inputs.parameters,
        artifacts: inputs.artifacts,
        globals: { ...this.e.globals.vars, retries: String(retries), ...place.locals },
        executor,
        binding,
        artifactIO: this.cfg.artifactIO,
        directIO: direct,
        values: tree.values,
        environment: executor.baseEnvironment === "image" ? {} : this.environment,
        ...(this.cfg.objects ? { objects: this.cfg.objects } : {}),
        volumesDir: path.join(tree.dir, ".volumes"),
        workflowVolumes: [...(spec.volumes ?? []), ...(spec.volumeClaimTemplates ?? []).map((v) => ({ name: (v["metadata"] as { name?: string } | undefined)?.name }))],
        signal,
        onSpawn: (pid, start) => {
          tree.recordPid(node, pid, start);
          spawned();
        },
        onProgress: (p) => {
          node.progress = p;
          book.changed();
        },
      });
      if (daemonStop && readiness && scopeSignal) {
        if (await this.daemonReady(readiness, started, podRun, signal)) {
          node.daemoned = true;
          book.persist(node);
          book.changed();
          const daemons = this.e.daemons;
          const exited = podRun.then(async (r) => {
            if (!daemons.ending(node.id) && !control.halted(place)) await daemons.exitedEarly(node.id, daemonEndMessage(r));
          });
          daemons.add(scope, { node, kill: () => daemonStop.abort(), exited }, scopeSignal);
          return node;
        }
      }
      let result = await podRun;
      // Its scope ended before it was ready (a retried daemon): stopped, not failed by itself.
      if (scopeSignal?.aborted && !control.halted(place)) return await book.finish(node, "Failed", "stopped: its steps or DAG ended before it was ready");
      // Argo fails a daemon whose pod ends, even with exit code 0 (operator.go assessNodeStatus).
      if (tmpl.daemon && result.phase === "Succeeded") result = { ...result, phase: "Failed", message: daemonEndMessage(result) };
      if (result.inputs.parameters || result.inputs.artifacts) node.inputs = result.inputs;
      if (result.outputs) node.outputs = result.outputs;
      // A containerSet's containers: Container nodes under the pod's (Argo names them pod.container).
      for (const c of result.containers ?? []) {
        const child = book.create({ name: `${node.name}.${c.name}`, displayName: c.name, parentId: node.id, ...(place.boundaryID ? { boundaryID: place.boundaryID } : {}), semaphores: [] }, "Container", tmpl, c.phase, { startedAt: c.startedAt, ...(c.message ? { message: c.message } : {}) });
        child.finishedAt = c.finishedAt;
        book.persist(child);
      }
      if (result.artifacts.size > 0) book.artifacts.set(node.id, result.artifacts);
      if (result.phase === "Succeeded") this.e.globals.addOutputs(node, result.artifacts);
      // A step killed by a stop carries the stop's message, as Argo's do.
      const stopMessage = control.stopMessage;
      const message = result.phase !== "Succeeded" && control.halted(place) && stopMessage !== undefined && stopMessage !== "Stopped" ? stopMessage : result.message;
      return await book.finish(node, result.phase, message);
    } finally {
      this.active--;
      // Before the slot goes to the next item: a failure here stops a failFast template at once.
      if (place.failFast && isFailedOrError(node.phase)) place.failFast.failed = true;
      release();
    }
  }

  /**
   * A daemon's readiness probe and where it runs.
   *
   * @throws EngineError for a probe the engine cannot run.
   */
  private daemonProbe(tmpl: Template, dir: string, where: string): DaemonProbe {
    const c = tmpl.container ?? tmpl.script;
    const probe = c?.readinessProbe as ProbeSpec | undefined;
    const target: ProbeTarget = {
      ports: (c?.ports ?? []) as unknown as ProbeTarget["ports"],
      cwd: path.join(dir, "workdir"),
      env: { ...this.environment, ...Object.fromEntries((c?.env ?? []).filter((e) => typeof e.value === "string").map((e) => [e.name, e.value as string])) },
      where: `${where}: container`,
    };
    if (probe) checkProbe(probe, target);
    return probe ? { probe, target } : { target };
  }

  /**
   * Whether a daemon's pod became ready before it ended: once started without a
   * `readinessProbe`, else once the probe succeeds (readiness-probe.ts). False when the pod
   * ended first, or the run stopped.
   */
  private async daemonReady(readiness: DaemonProbe, started: Promise<void>, podRun: Promise<PodResult>, signal: AbortSignal): Promise<boolean> {
    const { probe, target } = readiness;
    const over = new AbortController();
    const probing = AbortSignal.any([signal, over.signal]);
    // An executor that does not say when its process started (a container runtime): soon after.
    const start = Promise.race([started, sleep(1000, probing)]);
    const ready = start.then(() => (probing.aborted ? false : probe ? waitReady(probe, target, probing) : true));
    try {
      return await Promise.race([podRun.then(() => false), ready]);
    } finally {
      over.abort();
    }
  }

  /** Runs a data template at `place`: its source listed from the artifact store, transformed (data-template.ts). */
  async data(place: Place, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
    const { book } = this.e;
    const node = book.create(place, "Pod", tmpl, "Running", recordInputs(inputs));
    try {
      const result = await runData(tmpl.data as DataSpec | undefined, this.cfg.artifactIO, `node "${node.name}" (template "${tmpl.name}")`);
      node.outputs = { result };
      return await book.finish(node, "Succeeded");
    } catch (err) {
      return book.finish(node, "Error", messageOf(err));
    }
  }

  /** Runs an HTTP template at `place`: the request from this machine (see http-template.ts). */
  async http(place: Place, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
    const { book, control } = this.e;
    const node = book.create(place, "HTTP", tmpl, "Running", recordInputs(inputs));
    const where = `node "${node.name}" (template "${tmpl.name}")`;
    try {
      const r = await runHttp(tmpl.http as unknown as HttpSpec, this.cfg.objects, control.signalFor(place), where);
      if (r.result !== undefined) node.outputs = { result: r.result };
      if (control.halted(place) && r.phase !== "Succeeded") return await book.finish(node, "Failed", control.stopMessage ?? "Stopped");
      // A typed result (HttpTemplate's `result` schema) is checked as script outputs are.
      const violation = r.phase === "Succeeded" ? resultSchemaViolation(tmpl.metadata?.annotations?.[OUTPUT_SCHEMAS_ANNOTATION], r.result ?? "") : undefined;
      if (violation) return await book.finish(node, "Failed", `${where}: ${violation}`);
      return await book.finish(node, r.phase, r.message);
    } catch (err) {
      return book.finish(node, "Error", messageOf(err));
    }
  }

  /**
   * Runs a suspend template at `place` (operator.go `executeSuspend`): the node is Running, with
   * the template's `supplied` outputs still unset, until a person resumes it (`opflow resume`,
   * {@link Suspensions}) or its `duration` runs out — then its unset supplied outputs take their
   * defaults, and a missing default ends it Error. A node an earlier engine of this run left
   * waiting keeps its start (the duration counts from there) and the outputs set so far.
   */
  async suspend(place: Place, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
    const { book, control, suspensions } = this.e;
    const earlier = suspensions.earlier(book.idOf(place.name));
    const outputs = earlier?.outputs ?? suppliedOutputs(tmpl);
    const node = book.create(place, "Suspend", tmpl, "Running", {
      ...recordInputs(inputs),
      ...(outputs ? { outputs: structuredClone(outputs) } : {}),
      ...(earlier?.startedAt ? { startedAt: earlier.startedAt } : {}),
      ...(earlier?.message ? { message: earlier.message } : {}),
    });
    const d = tmpl.suspend?.duration;
    let ms: number | undefined;
    if (d !== undefined && d !== "") {
      try {
        ms = parseDuration(substituteTags(d, varsWithInputs(this.e.globals, inputs), { onMissing: "error" }), `template "${tmpl.name}": suspend.duration`, EngineError);
      } catch (err) {
        return book.finish(node, "Error", messageOf(err));
      }
      ms = Math.max(0, Date.parse(node.startedAt as string) + ms - Date.now());
    }
    const end = await suspensions.wait(node, ms, control.signalFor(place));
    if (end.how === "aborted" || control.halted(place)) return book.finish(node, "Failed", control.stopMessage ?? "Stopped");
    let phase: NodePhase = "Succeeded";
    if (end.how === "expired") {
      try {
        const withDefaults = outputsWithDefaults(node.outputs);
        if (withDefaults) node.outputs = withDefaults;
      } catch (err) {
        return book.finish(node, "Error", `node "${node.displayName}": ${messageOf(err)}`);
      }
    } else phase = end.phase;
    if (phase === "Succeeded") {
      this.e.globals.addOutputs(node, undefined);
      await this.cfg.tree.writeOutputParameters(node).catch(() => undefined);
    }
    return book.finish(node, phase, node.message);
  }
}
