/**
 * Runs one leaf node (a container or script template) of a local run in three stages: lay out
 * its inputs in the step's folder (the contract root, `pod-inputs.ts`), run it through an
 * {@link Executor} (the spec resolved by `pod-spec.ts`; paths as `pod-paths.ts` maps them), and
 * collect its outputs as Argo's executor would (`pod-outputs.ts`).
 */
import fs from "node:fs/promises";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Artifact, Container, NodePhase, Outputs, Parameter, ResourceRequirements, Template, UserContainer } from "../argo/model.ts";
import { OUTPUT_SCHEMAS_ANNOTATION, prePostFailure } from "../contract.ts";
import { EngineError, OpflowError } from "../errors.ts";
import type { Executor, PodEnd, PodResources } from "../executors/executor.ts";
import type { ArtifactIO, ArtifactRef } from "./artifact-io.ts";
import { layOutInputs } from "./pod-inputs.ts";
import type { ValueStore } from "./value-store.ts";
import { collectOutputs, podPhase } from "./pod-outputs.ts";
import { checkPodPaths, hostPath, pathMode, podPath, type PathMode } from "./pod-paths.ts";
import { bodyVars, inVolume, otherContainerSpec, podDeadline, processEnvironment, processPodSpec, substituteDeep, type ProcessPod } from "./pod-spec.ts";
import { imageCommand } from "./image-entrypoints.ts";
import type { LocalObjects } from "./local-objects.ts";
import { explainStartError } from "./missing-command.ts";
import { parseProgress } from "./progress.ts";
import type { Vars } from "./scope.ts";
import { NODE_FILES } from "./state-tree.ts";

export { processEnvironment };

/** What a pod run needs from the engine. */
export interface PodContext {
  /** Node name and id, for messages, keys and `{{pod.name}}`. */
  readonly nodeName: string;
  readonly nodeId: string;
  /** The step's directory (created). */
  readonly dir: string;
  /** The template, with `templateDefaults` applied (tags not yet substituted). */
  readonly template: Template;
  /** Resolved input parameters (values set). */
  readonly parameters: readonly Parameter[];
  /** Resolved input artifacts, by name. */
  readonly artifacts: ReadonlyMap<string, ArtifactRef>;
  /** Global variables (`workflow.*`) and `retries`. */
  readonly globals: Vars;
  /** Runs the pod. */
  readonly executor: Executor;
  /** Whether the executor runs a local binding (the OP gets the step's folder as its root). */
  readonly binding: boolean;
  readonly artifactIO: ArtifactIO;
  /** Write small files with direct calls (few steps in flight) rather than through the pool. */
  readonly directIO?: boolean;
  /** The run's large values: an input parameter file of one is a link to it (value-store.ts). */
  readonly values?: ValueStore;
  /** Shared volume folders of the workflow. */
  readonly volumesDir: string;
  readonly workflowVolumes: readonly Record<string, unknown>[];
  /**
   * The environment step processes start from (before the template's `env`).
   * @default {@link processEnvironment} now
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** ConfigMaps and Secrets the workflow reads (env, envFrom). */
  readonly objects?: LocalObjects;
  /** Aborted when the engine stops. */
  readonly signal: AbortSignal;
  /** Called when the step reports progress (`N/M`). */
  onProgress(progress: string): void;
  /** Called with the process group id once the step's process started. */
  onSpawn?(pid: number, startTime?: string): void;
}

/** How a pod ended. */
export interface PodResult {
  readonly phase: NodePhase;
  readonly message?: string;
  readonly exitCode?: number;
  readonly outputs?: Outputs;
  /** Output artifacts with their local paths, by name. */
  readonly artifacts: ReadonlyMap<string, ArtifactRef>;
  /** The resolved inputs Argo records on the node. */
  readonly inputs: { parameters?: Parameter[]; artifacts?: Artifact[] };
  /** A containerSet's containers, each to become a Container node under the pod's. */
  readonly containers?: readonly ContainerRun[];
}

/** How one container of a containerSet ended. */
export interface ContainerRun {
  readonly name: string;
  readonly phase: NodePhase;
  readonly message?: string;
  readonly exitCode?: number;
  readonly startedAt: string;
  readonly finishedAt: string;
}

/**
 * Runs a leaf node and collects its outputs. Never throws for a step's own failure: the result
 * says Failed or Error with Argo's message.
 */
export async function runPod(ctx: PodContext): Promise<PodResult> {
  const t = ctx.template;
  const where = `node "${ctx.nodeName}" (template "${t.name}")`;
  const mode = pathMode(ctx.executor, ctx.binding, t);
  const dir = ctx.dir;
  const seen = (declared: string): string => podPath(declared, dir, mode);
  const recordedInputs: { parameters?: Parameter[]; artifacts?: Artifact[] } = {};
  if (ctx.parameters.length > 0) recordedInputs.parameters = ctx.parameters.map((p) => ({ name: p.name, value: p.value ?? "" }));
  try {
    // Names and paths that would reach outside the step's folder, before anything is written.
    checkPodPaths(t, ctx.parameters, where);
    const vars = bodyVars(t, ctx.globals, ctx.parameters, seen, ctx.nodeId, ctx.nodeName);
    const container = substituteDeep(t.script ?? t.container ?? {}, vars, where) as Container & { source?: string };
    const outArtifacts = substituteDeep(t.outputs?.artifacts ?? [], vars, where);
    const outParams = substituteDeep(t.outputs?.parameters ?? [], vars, where);
    // Again with the tags resolved: a parameter may hold "../".
    checkPodPaths({ ...t, ...(t.script ? { script: { ...t.script, ...container } } : { container }), outputs: { parameters: outParams, artifacts: outArtifacts } }, [], where);

    const inputArtifacts = await layOutInputs({ ...ctx, mode });
    if (inputArtifacts.length > 0) recordedInputs.artifacts = inputArtifacts;

    const deadline = podDeadline(t, where);
    const startedMs = Date.now();
    let containers: ContainerRun[] | undefined;
    let end: PodEnd;
    if (t.containerSet && !ctx.binding) {
      ({ end, containers } = await runContainerSet(ctx, substituteDeep(t.containerSet, vars, where) as unknown as ContainerSet, mode, deadline.timeoutMs, where, { parameters: outParams, artifacts: outArtifacts }));
    } else {
      end = await execute(ctx, container, mode, deadline.timeoutMs, where, { parameters: outParams, artifacts: outArtifacts });
    }
    if (end.startError) {
      const c = t.script ?? t.container;
      end = { ...end, startError: explainStartError(end.startError, t.name, c?.image, c?.command?.[0] ?? imageCommand(c?.image, c?.args)?.[0] ?? c?.args?.[0]) };
    }
    const places = { template: t, dir, volumesDir: ctx.volumesDir, workflowVolumes: ctx.workflowVolumes };
    const collected = await collectOutputs(
      { nodeName: ctx.nodeName, nodeId: ctx.nodeId, dir, mode, parameters: outParams, artifacts: outArtifacts, artifactIO: ctx.artifactIO, where, startedMs, inVolume: (d) => inVolume(places, d), schemas: t.metadata?.annotations?.[OUTPUT_SCHEMAS_ANNOTATION] },
      end,
      podPhase(end, deadline.message),
    );
    // A containerSet without a `main` container has no result.
    if (containers && !containers.some((c) => c.name === "main")) delete collected.outputs.result;
    return { ...collected, exitCode: end.exitCode, inputs: recordedInputs, ...(containers ? { containers } : {}) };
  } catch (err) {
    const message = err instanceof OpflowError ? err.message : `${where}: ${(err as Error).message}`;
    await fs.appendFile(path.join(dir, NODE_FILES.log), `${message}\n`).catch(() => undefined);
    return { phase: "Error", message, artifacts: new Map(), inputs: recordedInputs };
  }
}

/** The pod of a process template as pod-spec.ts resolves it. */
function processPod(ctx: PodContext, container: Container & { source?: string }, mode: PathMode, where: string, outputs: Outputs): ProcessPod {
  return {
    outputs,
    template: ctx.template,
    container,
    dir: ctx.dir,
    mode,
    environment: ctx.environment ?? processEnvironment(),
    volumesDir: ctx.volumesDir,
    workflowVolumes: ctx.workflowVolumes,
    where,
    podName: ctx.nodeId,
    ...(ctx.objects ? { objects: ctx.objects } : {}),
  };
}

/** A container name as part of a file name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_");
}

interface ContainerSet {
  readonly containers: readonly (UserContainer & { dependencies?: string[] })[];
  readonly volumeMounts?: readonly { name: string; mountPath: string; subPath?: string }[];
}

/**
 * A containerSet's containers run through the executor as parts of one step, each starting
 * once those it depends on succeeded (Argo's emissary; docs/container-set-template.md); one whose
 * dependency did not succeed never starts (Omitted). The step's stdout is the `main` container's
 * (its log is the step's log.txt; the others log to container-<name>.log).
 */
async function runContainerSet(ctx: PodContext, set: ContainerSet, mode: PathMode, timeoutMs: number | undefined, where: string, outputs: Outputs): Promise<{ end: PodEnd; containers: ContainerRun[] }> {
  const dir = ctx.dir;
  const pod = processPod(ctx, {} as Container, mode, where, outputs);
  const byName = new Map(set.containers.map((c) => [c.name, c]));
  const deadline = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
  const signal = deadline ? AbortSignal.any([ctx.signal, deadline]) : ctx.signal;
  type Ran = ContainerRun & { end?: PodEnd };
  const runs = new Map<string, Promise<Ran>>();
  const start = (name: string, trail: readonly string[]): Promise<Ran> => {
    const known = runs.get(name);
    if (known) return known;
    const run = (async (): Promise<Ran> => {
      const c = byName.get(name) as UserContainer & { dependencies?: string[] };
      for (const d of c.dependencies ?? []) {
        if (!byName.has(d)) throw new EngineError(`${where}: containerSet container "${name}" depends on "${d}", which is not a container of the set`);
        if (trail.includes(d)) throw new EngineError(`${where}: containerSet dependency cycle ${[...trail, name, d].join(" -> ")}`);
      }
      const before = await Promise.all((c.dependencies ?? []).map((d) => start(d, [...trail, name])));
      const at = new Date().toISOString();
      const failed = before.find((b) => b.phase !== "Succeeded");
      if (failed) return { name, phase: "Omitted", message: `not started: container "${failed.name}" ${failed.phase}`, startedAt: at, finishedAt: at };
      const spec = await otherContainerSpec(pod, c, set.volumeMounts ?? []);
      const end = await ctx.executor.run({
        name: ctx.nodeId,
        template: ctx.template.name,
        ...(c.image ? { image: c.image } : {}),
        dir,
        parameters: {},
        ...spec,
        logFile: path.join(dir, name === "main" ? NODE_FILES.log : `container-${safeName(name)}.log`),
        signal,
      });
      const timedOut = end.timedOut || deadline?.aborted === true;
      const phase: NodePhase = end.startError ? "Error" : end.exitCode === 0 && !end.aborted ? "Succeeded" : "Failed";
      const message = end.startError
        ? explainStartError(end.startError, ctx.template.name, c.image, spec.command[0])
        : phase === "Failed"
          ? timedOut
            ? "Pod was active on the node longer than the specified deadline"
            : `Error (exit code ${end.exitCode})`
          : undefined;
      return { name, phase, ...(message ? { message } : {}), exitCode: end.exitCode, startedAt: at, finishedAt: new Date().toISOString(), end: { ...end, timedOut } };
    })();
    runs.set(name, run);
    return run;
  };
  const all = await Promise.all(set.containers.map((c) => start(c.name, [])));
  const main = all.find((c) => c.name === "main");
  const bad = all.find((c) => c.phase === "Failed" || c.phase === "Error");
  const end: PodEnd = {
    exitCode: bad ? (bad.exitCode ?? 1) || 1 : (main?.exitCode ?? 0),
    stdout: main?.end?.stdout ?? "",
    timedOut: all.some((c) => c.end?.timedOut === true),
    aborted: all.some((c) => c.end?.aborted === true) && !all.some((c) => c.end?.timedOut === true),
    ...(bad?.phase === "Error" && bad.message ? { startError: bad.message } : {}),
  };
  return { end, containers: all.map(({ end: _end, ...run }) => run) };
}

/** Resource quantities as strings (`2` → `"2"`). */
function podResources(r: ResourceRequirements): PodResources {
  const strings = (m: Record<string, string | number> | undefined): Record<string, string> | undefined => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined);
  const requests = strings(r.requests);
  const limits = strings(r.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

/** Resolves the pod spec and runs it through the executor, following its progress file. */
async function execute(ctx: PodContext, container: Container & { source?: string }, mode: PathMode, timeoutMs: number | undefined, where: string, outputs: Outputs): Promise<PodEnd> {
  const dir = ctx.dir;
  const parameters: Record<string, string> = {};
  for (const p of ctx.parameters) parameters[p.name] = p.value ?? "";
  const base = {
    name: ctx.nodeId,
    template: ctx.template.name,
    ...(container.image ? { image: container.image } : {}),
    ...(container.resources ? { resources: podResources(container.resources) } : {}),
    dir,
    parameters,
    logFile: path.join(dir, NODE_FILES.log),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    signal: ctx.signal,
    onProgress: (p: string) => ctx.onProgress(p),
  };
  if (ctx.binding) {
    // A binding sees the template's own environment (tags resolved), not the engine's.
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) if (typeof e.value === "string") env[e.name] = e.value;
    return ctx.executor.run({ ...base, command: [], env, workingDir: dir, mounts: [] });
  }
  const pod = processPod(ctx, container, mode, where, outputs);
  const resolved = await processPodSpec(pod);
  // Init containers run one after the other before the main one; sidecars beside it until it
  // ends, when Argo kills them. Each logs to <step>/<init|sidecar>-<name>.log.
  const t = ctx.template;
  const other = async (c: UserContainer, kind: "init" | "sidecar", signal: AbortSignal): Promise<PodEnd> => {
    const spec = await otherContainerSpec(pod, c);
    const end = await ctx.executor.run({ ...base, ...spec, ...(c.image ? { image: c.image } : {}), logFile: path.join(dir, `${kind}-${safeName(c.name)}.log`), signal });
    return end.startError ? { ...end, startError: explainStartError(end.startError, `${t.name}" (${kind} container "${c.name}`, c.image, spec.command[0]) } : end;
  };
  for (const c of t.initContainers ?? []) {
    const r = await other(c, "init", ctx.signal);
    if (r.startError || r.exitCode !== 0 || r.aborted || r.timedOut) {
      const why = r.startError ?? (r.aborted ? "stopped" : `exit code ${r.exitCode}`);
      return { exitCode: r.exitCode || 1, stdout: "", timedOut: false, aborted: r.aborted, message: `init container "${c.name}" failed: ${why}` };
    }
  }
  const sidecarStop = new AbortController();
  const stopSidecars = (): void => sidecarStop.abort();
  ctx.signal.addEventListener("abort", stopSidecars, { once: true });
  const sidecars = (t.sidecars ?? []).map((c) =>
    other(c, "sidecar", sidecarStop.signal).catch((err: unknown) => fs.appendFile(path.join(dir, NODE_FILES.log), `${where}: sidecar "${c.name}": ${(err as Error).message}\n`).catch(() => undefined)),
  );
  const progressFile = path.join(dir, "progress");
  const poll = setInterval(() => {
    fs.readFile(progressFile, "utf8")
      .then((text) => {
        const p = parseProgress(text);
        if (p) ctx.onProgress(p);
      })
      .catch(() => undefined);
  }, 1000);
  poll.unref();
  let end: PodEnd;
  try {
    end = await ctx.executor.run({ ...base, ...resolved, ...(ctx.onSpawn ? { onSpawn: (pid: number, start?: string) => ctx.onSpawn?.(pid, start) } : {}) });
  } finally {
    clearInterval(poll);
    sidecarStop.abort();
    ctx.signal.removeEventListener("abort", stopSidecars);
    await Promise.all(sidecars);
  }
  // Most steps report no progress: look before reading (a failed read costs an exception).
  if (statSync(progressFile, { throwIfNoEntry: false })) {
    let text = "";
    try {
      text = readFileSync(progressFile, "utf8");
    } catch {
      /* gone again: no progress to report */
    }
    const p = parseProgress(text);
    if (p) ctx.onProgress(p);
  }
  if (end.exitCode !== 0 && end.message === undefined && !end.startError && !end.timedOut && !end.aborted) {
    // A template's failed pre or post script says so in the log's last lines (template/_pre-post.ts).
    const said = prePostFailure(await logTail(base.logFile));
    if (said) end = { ...end, message: said };
  }
  return end;
}

/** The last few kilobytes of a log file ("" when there is none). */
async function logTail(file: string): Promise<string> {
  try {
    const handle = await fs.open(file, "r");
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 8192);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}
