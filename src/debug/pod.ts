/**
 * Runs one leaf node (a container or script template) of a local run: lays out its inputs in the
 * step's directory (the contract root), runs the in-process binding or the local process, and
 * collects its outputs as Argo's executor would.
 *
 * Paths a template declares are mapped into the step's directory so parallel steps never share
 * them: `/tmp/x` → `<step>/x` (the step's folder *is* its `/tmp`, the contract root), `/mnt/x` →
 * `<step>/mnt/x`, relative paths → `<step>/workdir/x`.
 *
 * - **Private mount namespace** (root, `unshare` available; used when the template mentions
 *   `/tmp` or `/mnt`): the step's folder is bind-mounted on `/tmp` (and `<step>/mnt` on `/mnt`),
 *   so the process itself sees the mapping, literal paths in scripts included.
 * - **Fallback** (elsewhere, or `OPFLOW_NO_NAMESPACES=1`): the contract root travels in
 *   `OPFLOW_ROOT`, `$ARGO_PROGRESS_FILE` and tags such as `{{inputs.artifacts.a.path}}` resolve to
 *   the mapped paths, and for scripts that use a declared path literally the engine also places
 *   inputs at, and collects outputs from, the literal path (shared by steps running at once).
 * - **In-process binding**: the OP gets the step's folder as `task.root`.
 */
import fs from "node:fs/promises";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Artifact, NodePhase, Outputs, Parameter, Template } from "../argo/model.ts";
import { contractPaths, PROGRESS_FILE_ENV, ROOT_ENV, type LocalBinding } from "../contract.ts";
import { EngineError, OpflowError } from "../errors.ts";
import { runProcess, type Mount, type ProcessResult } from "../executors/local-process.ts";
import type { ArtifactIO, ArtifactRef } from "./artifact-io.ts";
import { parseDuration } from "../duration.ts";
import { parseProgress } from "./progress.ts";
import { substituteStrict, type Vars } from "./scope.ts";
import { substituteTagsDeep } from "./_expr.ts";
import { atomicWrite, atomicWriteSync, writeText } from "./state-tree.ts";

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
  readonly binding?: LocalBinding;
  readonly artifactIO: ArtifactIO;
  /** Write small files with direct calls (few steps in flight) rather than through the pool. */
  readonly directIO?: boolean;
  /** Run in a private mount namespace when the template uses mapped paths. */
  readonly namespaces: boolean;
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

type Mode = "namespace" | "fallback" | "binding";

/**
 * The environment step processes start from: this process's, with `/usr/games` on `PATH`
 * (where Debian puts `cowsay`, the stand-in for the upstream examples' whalesay image). An
 * engine reads it once per run: `process.env` is slow to copy, and a step's environment should
 * not depend on what the engine's process changed while it ran.
 */
export function processEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  if (!(env["PATH"] ?? "").split(":").includes("/usr/games")) env["PATH"] = `${env["PATH"] ?? "/usr/bin:/bin"}:/usr/games`;
  return env;
}

const MAPPED = /(^|[^\w.-])\/(tmp|mnt)(\/|\b)/;

function mentionsMappedPaths(t: Template): boolean {
  const c = t.script ?? t.container;
  const texts: string[] = [...(c?.command ?? []), ...(c?.args ?? []), t.script?.source ?? "", c?.workingDir ?? ""];
  for (const a of [...(t.inputs?.artifacts ?? []), ...(t.outputs?.artifacts ?? [])]) texts.push(a.path ?? "");
  for (const p of t.outputs?.parameters ?? []) texts.push(p.valueFrom?.path ?? "");
  return (c?.volumeMounts?.length ?? 0) > 0 || texts.some((s) => MAPPED.test(s));
}

/**
 * Maps a declared absolute path into the step's folder: `/tmp/x` → `<step>/x`, `/mnt/x` →
 * `<step>/mnt/x`, a relative path → `<step>/workdir/x`; other absolute paths stay as they are.
 * The same in every mode: what differs is whether the process sees the mapping (a private
 * namespace) or only the engine and the tags do (the fallback; see {@link literalPath}).
 */
export function hostPath(declared: string, dir: string): string {
  const p = path.posix.normalize(declared);
  if (!path.posix.isAbsolute(p)) return path.join(dir, "workdir", p);
  if (p === "/tmp" || p.startsWith("/tmp/")) return path.join(dir, p.slice(4));
  if (p === "/mnt" || p.startsWith("/mnt/")) return path.join(dir, "mnt", p.slice(4));
  return p;
}

/**
 * In the fallback (no private namespace), a script that uses a declared path literally
 * (`cat /tmp/message`) reads and writes the real `/tmp/message`: the engine then also places
 * inputs there and collects outputs from there when the mapped path holds none. Returns that
 * literal path, or undefined when there is none to care about.
 */
function literalPath(declared: string, dir: string, mode: Mode): string | undefined {
  if (mode !== "fallback") return undefined;
  const p = path.posix.normalize(declared);
  if (!path.posix.isAbsolute(p) || /^\/tmp\/(inputs|outputs)(\/|$)/.test(p)) return undefined;
  return hostPath(p, dir) === p ? undefined : p;
}

function existsSyncSafe(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function substituteDeep<T>(value: T, vars: Vars, where: string): T {
  return substituteTagsDeep(value, (text) => {
    try {
      return substituteStrict(text, vars);
    } catch (err) {
      throw new EngineError(`${where}: ${(err as Error).message}`);
    }
  });
}

/** Reads a small text file (directly: cheaper than a round trip through the thread pool). */
function readText(file: string): string {
  return readFileSync(file, "utf8");
}

function trimOneNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

async function symlinkIfElsewhere(link: string, target: string): Promise<void> {
  if (path.resolve(link) === path.resolve(target)) return;
  await fs.mkdir(path.dirname(link), { recursive: true });
  await fs.rm(link, { recursive: true, force: true });
  await fs.symlink(path.relative(path.dirname(link), target) || ".", link).catch(() => undefined);
}

/**
 * Runs a leaf node and collects its outputs. Never throws for a step's own failure: the result
 * says Failed or Error with Argo's message.
 */
export async function runPod(ctx: PodContext): Promise<PodResult> {
  const t = ctx.template;
  const where = `node "${ctx.nodeName}" (template "${t.name}")`;
  const mode: Mode = ctx.binding ? "binding" : ctx.namespaces && mentionsMappedPaths(t) ? "namespace" : "fallback";
  const dir = ctx.dir;
  const seen = (declared: string): string => (mode === "namespace" ? declared : hostPath(declared, dir));
  const recordedInputs: { parameters?: Parameter[]; artifacts?: Artifact[] } = {};
  if (ctx.parameters.length > 0) recordedInputs.parameters = ctx.parameters.map((p) => ({ name: p.name, value: p.value ?? "" }));

  try {
    // Variables of the template body.
    const vars: Vars = { ...ctx.globals };
    for (const p of ctx.parameters) vars[`inputs.parameters.${p.name}`] = p.value ?? "";
    for (const a of t.inputs?.artifacts ?? []) if (a.path) vars[`inputs.artifacts.${a.name}.path`] = seen(a.path);
    for (const p of t.outputs?.parameters ?? []) if (p.valueFrom?.path) vars[`outputs.parameters.${p.name}.path`] = seen(p.valueFrom.path);
    for (const a of t.outputs?.artifacts ?? []) if (a.path) vars[`outputs.artifacts.${a.name}.path`] = seen(a.path);
    vars["pod.name"] = ctx.nodeId;
    vars["node.name"] = ctx.nodeName;

    const container = substituteDeep(t.script ?? t.container ?? {}, vars, where);
    const outArtifacts = substituteDeep(t.outputs?.artifacts ?? [], vars, where);
    const outParams = substituteDeep(t.outputs?.parameters ?? [], vars, where);

    // Lay out inputs.
    // The engine created <dir>/outputs/parameters and <dir>/inputs/parameters.
    // The engine created workdir/ (processes) and outputs/artifacts/ (declared artifacts).
    if (mode === "namespace") mkdirSync(path.join(dir, "mnt"), { recursive: true });
    // Inputs of a step that has not started: nothing reads them yet, and a run that dies here
    // lays them out again when it re-runs the step.
    if (ctx.directIO) for (const p of ctx.parameters) writeFileSync(path.join(dir, contractPaths.inputParameter(p.name)), p.value ?? "");
    else await Promise.all(ctx.parameters.map((p) => writeText(path.join(dir, contractPaths.inputParameter(p.name)), p.value ?? "")));
    const inputArtifacts: Artifact[] = [];
    for (const a of t.inputs?.artifacts ?? []) {
      const ref = ctx.artifacts.get(a.name);
      if (!ref) continue;
      const contractPath = path.join(dir, contractPaths.inputArtifact(a.name));
      const dest = a.path ? hostPath(a.path, dir) : contractPath;
      await ctx.artifactIO.loadInput(ctx.nodeName, a.name, ref, dest, a.subPath);
      const literal = a.path ? literalPath(a.path, dir, mode) : undefined;
      if (literal) await ctx.artifactIO.loadInput(ctx.nodeName, a.name, ref, literal, a.subPath);
      if (a.mode !== undefined) await fs.chmod(dest, a.mode).catch(() => undefined);
      await symlinkIfElsewhere(contractPath, dest);
      inputArtifacts.push({ ...ref.artifact, name: a.name, ...(a.path ? { path: a.path } : {}) });
    }
    if (inputArtifacts.length > 0) recordedInputs.artifacts = inputArtifacts;

    // Deadline: the smaller of activeDeadlineSeconds and timeout.
    let timeoutMs: number | undefined;
    let timeoutMessage = "";
    if (t.activeDeadlineSeconds !== undefined) {
      timeoutMs = parseDuration(t.activeDeadlineSeconds, `${where}: activeDeadlineSeconds`, EngineError);
      timeoutMessage = "Pod was active on the node longer than the specified deadline";
    }
    if (t.timeout !== undefined) {
      const ms = parseDuration(t.timeout, `${where}: timeout`, EngineError);
      if (timeoutMs === undefined || ms < timeoutMs) {
        timeoutMs = ms;
        timeoutMessage = `Step exceeded its deadline (timeout ${t.timeout})`;
      }
    }

    let result: ProcessResult;
    if (ctx.binding) {
      result = await runBinding(ctx, dir, timeoutMs);
    } else {
      const argv = [...(container.command ?? [])];
      if (t.script) {
        const scriptFile = path.join(dir, "script");
        // Written before the process starts; a run that dies here writes it again.
        writeFileSync(scriptFile, (container as { source?: string }).source ?? "");
        argv.push(mode === "namespace" ? "/tmp/script" : scriptFile);
      } else {
        argv.push(...(container.args ?? []));
        writeFileSync(path.join(dir, "script"), `${shellQuote(argv)}\n`);
      }
      if (argv.length === 0) {
        throw new EngineError(`${where}: container has no command; the local engine ignores images, so it needs command (or args) to know what to run`);
      }
      const env: Record<string, string> = { ...(ctx.environment ?? processEnvironment()) };
      for (const e of container.env ?? []) {
        if (e.valueFrom) throw new EngineError(`${where}: env "${e.name}": valueFrom (secrets, config maps, field refs) is not supported by the local engine`);
        env[e.name] = e.value ?? "";
      }
      env[PROGRESS_FILE_ENV] = mode === "namespace" ? "/tmp/progress" : path.join(dir, "progress");
      env[ROOT_ENV] = mode === "namespace" ? "/tmp" : dir;
      const cwd = container.workingDir ? seen(container.workingDir) : mode === "namespace" ? "/tmp/workdir" : path.join(dir, "workdir");
      if (container.workingDir) await fs.mkdir(hostPath(container.workingDir, dir), { recursive: true });
      const mounts: Mount[] = [];
      if (mode === "namespace") {
        mounts.push({ source: dir, target: "/tmp" }, { source: path.join(dir, "mnt"), target: "/mnt" });
        mounts.push(...(await volumeMounts(ctx, container.volumeMounts ?? [], where)));
      }
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
      try {
        result = await runProcess({
          argv,
          cwd,
          env,
          logFile: path.join(dir, "log.txt"),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          signal: ctx.signal,
          ...(mounts.length > 0 ? { mounts } : {}),
          // Recorded so that a resumed run can end what a killed engine left running.
          onSpawn: (pid) => ctx.onSpawn?.(pid),
        });
      } finally {
        clearInterval(poll);
      }
      // Most steps report no progress: look before reading (a failed read costs an exception).
      if (statSync(progressFile, { throwIfNoEntry: false })) {
        let text = "";
        try {
          text = readText(progressFile);
        } catch {
          /* gone again: no progress to report */
        }
        const p = parseProgress(text);
        if (p) ctx.onProgress(p);
      }
    }

    // Phase, as the pod would end.
    let phase: NodePhase = "Succeeded";
    let message: string | undefined;
    if (result.startError) {
      phase = "Error";
      message = result.startError;
    } else if (result.timedOut) {
      phase = "Failed";
      message = timeoutMessage;
    } else if (result.aborted) {
      phase = "Failed";
      message = "Stopped: the engine was interrupted";
    } else if (result.exitCode !== 0) {
      phase = "Failed";
      message = (result as { message?: string }).message ?? `Error (exit code ${result.exitCode})`;
    }

    // Outputs, as Argo's executor collects them.
    const outputs: Outputs = { exitCode: String(result.exitCode) };
    if (t.script || t.container) outputs.result = trimOneNewline(result.stdout);
    const params: Parameter[] = [];
    const artifacts = new Map<string, ArtifactRef>();
    const recordedArtifacts: Artifact[] = [];
    try {
      for (const p of outParams) {
        let value: string | undefined;
        if (p.valueFrom?.path) {
          let file = hostPath(p.valueFrom.path, dir);
          const literal = literalPath(p.valueFrom.path, dir, mode);
          if (literal && !existsSyncSafe(file)) file = literal;
          try {
            value = trimOneNewline(readText(file));
          } catch {
            value = p.valueFrom.default;
            if (value === undefined && phase === "Succeeded") {
              throw new EngineError(`${where}: output parameter "${p.name}": ${p.valueFrom.path} does not exist and has no default`);
            }
          }
        } else if (p.value !== undefined) {
          value = p.value;
        } else if (p.valueFrom?.default !== undefined) {
          value = p.valueFrom.default;
        } else if (p.valueFrom && phase === "Succeeded") {
          throw new EngineError(`${where}: output parameter "${p.name}": only valueFrom.path, value and default are supported on a container/script template, got ${JSON.stringify(p.valueFrom)}`);
        }
        if (value === undefined) continue;
        const recorded: Parameter = { name: p.name, value };
        if (p.globalName) recorded.globalName = p.globalName;
        params.push(recorded);
        const contractFile = path.join(dir, contractPaths.outputParameter(p.name));
        if (!p.valueFrom?.path || path.resolve(hostPath(p.valueFrom.path, dir)) !== contractFile) {
          atomicWriteSync(contractFile, value);
        }
      }
      for (const a of outArtifacts) {
        let src = a.path ? hostPath(a.path, dir) : path.join(dir, contractPaths.outputArtifact(a.name));
        const literal = a.path ? literalPath(a.path, dir, mode) : undefined;
        if (literal && !existsSyncSafe(src)) src = literal;
        try {
          const ref = await ctx.artifactIO.saveOutput(ctx.nodeName, ctx.nodeId, a, src);
          if (!ref) continue;
          artifacts.set(a.name, ref);
          recordedArtifacts.push(ref.artifact);
          await symlinkIfElsewhere(path.join(dir, contractPaths.outputArtifact(a.name)), src);
        } catch (err) {
          if (phase === "Succeeded") throw err;
        }
      }
    } catch (err) {
      phase = "Error";
      message = err instanceof OpflowError ? err.message : `${where}: ${(err as Error).message}`;
    }
    if (params.length > 0) outputs.parameters = params;
    if (recordedArtifacts.length > 0) outputs.artifacts = recordedArtifacts;
    return { phase, ...(message !== undefined ? { message } : {}), exitCode: result.exitCode, outputs, artifacts, inputs: recordedInputs };
  } catch (err) {
    const message = err instanceof OpflowError ? err.message : `${where}: ${(err as Error).message}`;
    await fs.appendFile(path.join(dir, "log.txt"), `${message}\n`).catch(() => undefined);
    return { phase: "Error", message, artifacts: new Map(), inputs: recordedInputs };
  }
}

async function runBinding(ctx: PodContext, dir: string, timeoutMs: number | undefined): Promise<ProcessResult & { message?: string }> {
  const binding = ctx.binding as LocalBinding;
  const abort = new AbortController();
  let timedOut = false;
  const onAbort = (): void => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const timer = timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), abort.abort(new Error("timeout"))), timeoutMs) : undefined;
  const logs: string[] = [];
  // An in-process OP shares the engine's process: a chdir must not outlive it.
  const cwd = process.cwd();
  const parameters: Record<string, string> = {};
  for (const p of ctx.parameters) parameters[p.name] = p.value ?? "";
  try {
    const call = binding({
      root: dir,
      parameters,
      template: ctx.template.name,
      progress: (done, total) => ctx.onProgress(`${done}/${total}`),
      log: (text) => void logs.push(text),
      signal: abort.signal,
    });
    // A binding that ignores its signal still loses the race against its deadline.
    const aborted = new Promise<never>((_, reject) => {
      if (abort.signal.aborted) reject(abort.signal.reason);
      abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true });
    });
    const r = await Promise.race([call, aborted]);
    if (timedOut) return { exitCode: 137, stdout: "", timedOut: true, aborted: false };
    if (ctx.signal.aborted) return { exitCode: 143, stdout: "", timedOut: false, aborted: true };
    const out = r.result ?? "";
    return { exitCode: r.exitCode, stdout: out, timedOut: false, aborted: false, ...(r.message !== undefined && r.exitCode !== 0 ? { message: r.message } : {}) };
  } catch (err) {
    if (timedOut) return { exitCode: 137, stdout: "", timedOut: true, aborted: false };
    if (ctx.signal.aborted) return { exitCode: 143, stdout: "", timedOut: false, aborted: true };
    logs.push(`${(err as Error).stack ?? String(err)}\n`);
    return { exitCode: 1, stdout: "", timedOut: false, aborted: false, message: `${(err as Error).message}` } as ProcessResult & { message?: string };
  } finally {
    if (process.cwd() !== cwd) {
      process.chdir(cwd);
      logs.push(`opflow: template "${ctx.template.name}" changed the working directory of the engine; restored to ${cwd}\n`);
    }
    if (timer) clearTimeout(timer);
    ctx.signal.removeEventListener("abort", onAbort);
    if (logs.length > 0) await atomicWrite(path.join(dir, "log.txt"), logs.join(""));
  }
}

async function volumeMounts(
  ctx: PodContext,
  mounts: readonly { name: string; mountPath: string; subPath?: string }[],
  where: string,
): Promise<Mount[]> {
  const out: Mount[] = [];
  for (const m of mounts) {
    const vol = ctx.workflowVolumes.find((v) => v["name"] === m.name) ?? (ctx.template.volumes ?? []).find((v) => v["name"] === m.name);
    let source: string;
    if (vol && "emptyDir" in vol) source = path.join(ctx.dir, "volumes", m.name);
    else if (vol && "hostPath" in vol) source = String((vol["hostPath"] as { path?: string }).path ?? "");
    else source = path.join(ctx.volumesDir, m.name);
    if (m.subPath) source = path.join(source, m.subPath);
    await fs.mkdir(source, { recursive: true });
    const target = path.posix.normalize(m.mountPath);
    if (target !== "/tmp" && !target.startsWith("/tmp/") && target !== "/mnt" && !target.startsWith("/mnt/")) {
      throw new EngineError(`${where}: volumeMount "${m.name}" at ${m.mountPath}: the local engine maps volumes only under /tmp or /mnt`);
    }
    await fs.mkdir(hostPath(target, ctx.dir), { recursive: true });
    out.push({ source, target });
  }
  return out;
}
