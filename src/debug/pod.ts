/**
 * Runs one leaf node (a container or script template) of a local run in three stages: lay out
 * its inputs in the step's folder (the contract root, `pod-inputs.ts`), run it through an
 * {@link Executor} (the spec resolved by `pod-spec.ts`; paths as `pod-paths.ts` maps them), and
 * collect its outputs as Argo's executor would (`pod-outputs.ts`).
 */
import fs from "node:fs/promises";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Artifact, Container, NodePhase, Outputs, Parameter, ResourceRequirements, Template } from "../argo/model.ts";
import { OpflowError } from "../errors.ts";
import type { Executor, PodEnd, PodResources } from "../executors/executor.ts";
import type { ArtifactIO, ArtifactRef } from "./artifact-io.ts";
import { layOutInputs } from "./pod-inputs.ts";
import { collectOutputs, podPhase } from "./pod-outputs.ts";
import { checkPodPaths, pathMode, podPath, type PathMode } from "./pod-paths.ts";
import { bodyVars, podDeadline, processEnvironment, processPodSpec, substituteDeep } from "./pod-spec.ts";
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
  /** Shared volume folders of the workflow. */
  readonly volumesDir: string;
  readonly workflowVolumes: readonly Record<string, unknown>[];
  /**
   * The environment step processes start from (before the template's `env`).
   * @default {@link processEnvironment} now
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** Aborted when the engine stops. */
  readonly signal: AbortSignal;
  /** Called when the step reports progress (`N/M`). */
  onProgress(progress: string): void;
  /** Called with the process group id once the step's process started. */
  onSpawn?(pid: number): void;
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
    const end = await execute(ctx, container, mode, deadline.timeoutMs, where);

    const collected = await collectOutputs(
      { nodeName: ctx.nodeName, nodeId: ctx.nodeId, dir, mode, parameters: outParams, artifacts: outArtifacts, artifactIO: ctx.artifactIO, where },
      end,
      podPhase(end, deadline.message),
    );
    return { ...collected, exitCode: end.exitCode, inputs: recordedInputs };
  } catch (err) {
    const message = err instanceof OpflowError ? err.message : `${where}: ${(err as Error).message}`;
    await fs.appendFile(path.join(dir, NODE_FILES.log), `${message}\n`).catch(() => undefined);
    return { phase: "Error", message, artifacts: new Map(), inputs: recordedInputs };
  }
}

/** Resource quantities as strings (`2` → `"2"`). */
function podResources(r: ResourceRequirements): PodResources {
  const strings = (m: Record<string, string | number> | undefined): Record<string, string> | undefined => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined);
  const requests = strings(r.requests);
  const limits = strings(r.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

/** Resolves the pod spec and runs it through the executor, following its progress file. */
async function execute(ctx: PodContext, container: Container & { source?: string }, mode: PathMode, timeoutMs: number | undefined, where: string): Promise<PodEnd> {
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
  if (ctx.binding) return ctx.executor.run({ ...base, command: [], env: {}, workingDir: dir, mounts: [] });
  const resolved = await processPodSpec({
    template: ctx.template,
    container,
    dir,
    mode,
    environment: ctx.environment ?? processEnvironment(),
    volumesDir: ctx.volumesDir,
    workflowVolumes: ctx.workflowVolumes,
    where,
  });
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
    end = await ctx.executor.run({ ...base, ...resolved, ...(ctx.onSpawn ? { onSpawn: (pid: number) => ctx.onSpawn?.(pid) } : {}) });
  } finally {
    clearInterval(poll);
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
  return end;
}
