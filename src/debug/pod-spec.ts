/**
 * Resolving a container or script template into the {@link PodSpec} an executor runs: tags of
 * the body substituted, the command (the script written to the step's folder), environment
 * (the contract's variables included), working directory, mounts of the step's folder and
 * volumes, and the deadline.
 */
import fs from "node:fs/promises";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Container, Parameter, Template, UserContainer } from "../argo/model.ts";
import { PROGRESS_FILE_ENV, ROOT_ENV } from "../contract.ts";
import { EngineError } from "../errors.ts";
import type { Mount, PodRoot, PodSpec } from "../executors/executor.ts";
import { parseDuration } from "../duration.ts";
import { substituteTagsDeep } from "./_expr.ts";
import { POD_ROOT_DIR, hasPodRootPaths, hostPath, podPath, podRootPaths, type PathMode } from "./pod-paths.ts";
import { containerCommand } from "./image-entrypoints.ts";
import { inputParametersJson } from "./input-parameters-json.ts";
import type { LocalObjects } from "./local-objects.ts";
import { containerEnv } from "./pod-env.ts";
import { substituteStrict, type Vars } from "./scope.ts";
import { NODE_FILES } from "./state-tree.ts";

/**
 * The variables of the engine's environment a step process gets: what a container image's
 * environment would hold (where programs are, who runs them, locale and time zone), never the
 * engine's credentials or configuration (`OPFLOW_S3_SECRET_KEY`, `AWS_*`, `ARGO_TOKEN`,
 * `KUBECONFIG` …). The rest of a step's environment comes from its contract: the template's
 * `env`, the progress file and the root folder.
 */
const INHERITED_ENV = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|TMPDIR|HOSTNAME)$/;

/**
 * The environment step processes start from: the few variables of this process's environment
 * that a container image would also hold (see `INHERITED_ENV`), with `/usr/games` on `PATH`
 * (where Debian puts `cowsay`, the stand-in for the upstream examples' whalesay image). An
 * engine reads it once per run: `process.env` is slow to copy, and a step's environment should
 * not depend on what the engine's process changed while it ran.
 */
export function processEnvironment(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) if (v !== undefined && INHERITED_ENV.test(k)) env[k] = v;
  if (!(env["PATH"] ?? "").split(":").includes("/usr/games")) env["PATH"] = `${env["PATH"] ?? "/usr/bin:/bin"}:/usr/games`;
  return env;
}

/** Applies tags to every string of `value`; a missing tag is an error of `where`. */
export function substituteDeep<T>(value: T, vars: Vars, where: string): T {
  return substituteTagsDeep(value, (text) => {
    try {
      return substituteStrict(text, vars);
    } catch (err) {
      throw new EngineError(`${where}: ${(err as Error).message}`);
    }
  });
}

/** The variables of a template body: globals, inputs, declared paths as the pod sees them, pod and node name. */
export function bodyVars(t: Template, globals: Vars, parameters: readonly Parameter[], seen: (declared: string) => string, nodeId: string, nodeName: string): Vars {
  const vars: Vars = { ...globals };
  for (const p of parameters) vars[`inputs.parameters.${p.name}`] = p.value ?? "";
  vars["inputs.parameters"] = inputParametersJson(t.inputs?.parameters, parameters);
  for (const a of t.inputs?.artifacts ?? []) if (a.path) vars[`inputs.artifacts.${a.name}.path`] = seen(a.path);
  for (const p of t.outputs?.parameters ?? []) if (p.valueFrom?.path) vars[`outputs.parameters.${p.name}.path`] = seen(p.valueFrom.path);
  for (const a of t.outputs?.artifacts ?? []) if (a.path) vars[`outputs.artifacts.${a.name}.path`] = seen(a.path);
  vars["pod.name"] = nodeId;
  vars["node.name"] = nodeName;
  return vars;
}

/** The pod's deadline: the smaller of activeDeadlineSeconds and timeout, with the message it ends with. */
export function podDeadline(t: Template, where: string): { timeoutMs?: number; message: string } {
  let timeoutMs: number | undefined;
  let message = "";
  if (t.activeDeadlineSeconds !== undefined) {
    timeoutMs = parseDuration(t.activeDeadlineSeconds, `${where}: activeDeadlineSeconds`, EngineError);
    message = "Pod was active on the node longer than the specified deadline";
  }
  if (t.timeout !== undefined) {
    const ms = parseDuration(t.timeout, `${where}: timeout`, EngineError);
    if (timeoutMs === undefined || ms < timeoutMs) {
      timeoutMs = ms;
      message = `Step exceeded its deadline (timeout ${t.timeout})`;
    }
  }
  return { ...(timeoutMs !== undefined ? { timeoutMs } : {}), message };
}

function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** What resolving a process pod needs. */
export interface ProcessPod {
  readonly template: Template;
  /** The container or script, tags resolved. */
  readonly container: Container & { source?: string };
  readonly dir: string;
  readonly mode: PathMode;
  readonly environment: Readonly<Record<string, string>>;
  /** Shared volume folders of the workflow. */
  readonly volumesDir: string;
  readonly workflowVolumes: readonly Record<string, unknown>[];
  readonly where: string;
  /** ConfigMaps and Secrets (env `valueFrom`, `envFrom`). */
  readonly objects?: LocalObjects;
  /** The pod's name (`fieldRef: metadata.name`). */
  readonly podName: string;
  /** The template's outputs with tags resolved. @default the template's own */
  readonly outputs?: Template["outputs"];
}

/** The pod's own file system of a mounted pod whose template declares paths outside /tmp and /mnt (see {@link PodRoot}). */
function podRootOf(p: ProcessPod): PodRoot | undefined {
  if (p.mode !== "mounted") return undefined;
  const t = p.template;
  const resolved: Template = { ...t, ...(t.script ? { script: { ...t.script, ...p.container } } : t.container ? { container: { ...t.container, ...p.container } } : {}), ...(p.outputs ? { outputs: p.outputs } : {}) };
  const root = podRootPaths(resolved);
  return hasPodRootPaths(root) ? { ...root, source: path.join(p.dir, POD_ROOT_DIR) } : undefined;
}

/** The command, environment, working directory and mounts of a process pod (its script written). */
export async function processPodSpec(p: ProcessPod): Promise<Pick<PodSpec, "command" | "env" | "workingDir" | "mounts" | "podRoot">> {
  const { container, dir, mode, where } = p;
  // Without a command, the image's entrypoint runs (when the engine knows it), args after it;
  // without args either, the image's CMD (when the engine knows it).
  const argv = [...(containerCommand(container) ?? [])];
  if (p.template.script) {
    const scriptFile = path.join(dir, NODE_FILES.script);
    // Written before the process starts; a run that dies here writes it again. Mode 0755, as
    // Argo stages it (workflow/executor/executor.go StageFiles): `command: [sh, -c]` runs the
    // file itself (upstream examples/scripts-bash.yaml).
    writeFileSync(scriptFile, container.source ?? "", { mode: 0o755 });
    chmodSync(scriptFile, 0o755);
    argv.push(mode === "mounted" ? "/tmp/script" : scriptFile);
  } else {
    argv.push(...(container.args ?? []));
    writeFileSync(path.join(dir, NODE_FILES.script), `${shellQuote(argv)}\n`);
  }
  if (argv.length === 0) {
    throw new EngineError(`${where}: container has no command; the local engine ignores images, so it needs command (or args) to know what to run`);
  }
  const env: Record<string, string> = { ...p.environment, ...containerEnv(container, p.objects, where, { podName: p.podName }) };
  env[PROGRESS_FILE_ENV] = mode === "mounted" ? "/tmp/progress" : path.join(dir, "progress");
  env[ROOT_ENV] = mode === "mounted" ? "/tmp" : dir;
  const seen = (declared: string): string => podPath(declared, dir, mode);
  const workingDir = container.workingDir ? seen(container.workingDir) : mode === "mounted" ? "/tmp/workdir" : path.join(dir, "workdir");
  if (container.workingDir) await fs.mkdir(hostPath(container.workingDir, dir), { recursive: true });
  const mounts: Mount[] = [];
  if (mode === "mounted") {
    mounts.push({ source: dir, target: "/tmp" }, { source: path.join(dir, "mnt"), target: "/mnt" });
    mounts.push(...(await volumeMounts(p, container.volumeMounts ?? [])));
  }
  const podRoot = podRootOf(p);
  return { command: argv, env, workingDir, mounts, ...(podRoot ? { podRoot } : {}) };
}

/** Where a pod's volumes are on this machine. */
export interface VolumePlaces {
  readonly template: Template;
  readonly dir: string;
  readonly volumesDir: string;
  readonly workflowVolumes: readonly Record<string, unknown>[];
}

/** The folder of this machine a volume mount shows: emptyDir in the step, hostPath as given, a claim shared by the run. */
export function volumeSource(p: VolumePlaces, m: { name: string; subPath?: string }): string {
  const vol = p.workflowVolumes.find((v) => v["name"] === m.name) ?? (p.template.volumes ?? []).find((v) => v["name"] === m.name);
  let source: string;
  if (vol && "emptyDir" in vol) source = path.join(p.dir, "volumes", m.name);
  else if (vol && "hostPath" in vol) source = String((vol["hostPath"] as { path?: string }).path ?? "");
  else source = path.join(p.volumesDir, m.name);
  return m.subPath ? path.join(source, m.subPath) : source;
}

/**
 * Where a declared path inside a volume mounted outside /tmp and /mnt (`/workspace/out`) is on
 * this machine, or undefined when it is in none.
 */
export function inVolume(p: VolumePlaces, declared: string): string | undefined {
  const norm = path.posix.normalize(declared);
  const set = p.template.containerSet as { volumeMounts?: { name: string; mountPath: string; subPath?: string }[] } | undefined;
  for (const m of [...((p.template.script ?? p.template.container)?.volumeMounts ?? []), ...(set?.volumeMounts ?? [])]) {
    const mp = path.posix.normalize(m.mountPath);
    if (/^\/(tmp|mnt)(\/|$)/.test(mp)) continue; // those are inside the step's folder already
    if (norm === mp || norm.startsWith(`${mp}/`)) return path.join(volumeSource(p, m), norm.slice(mp.length));
  }
  return undefined;
}

/**
 * The mounts of volumes: under /tmp and /mnt, on their place inside the step's folder (bound
 * recursively with it, so the mount point exists there whatever this machine has); elsewhere
 * (`/workspace`) on the path itself, in the pod's own file system (its mount point made there,
 * never on this machine).
 */
export async function volumeMounts(p: VolumePlaces & { readonly where: string }, mounts: readonly { name: string; mountPath: string; subPath?: string }[]): Promise<Mount[]> {
  const out: Mount[] = [];
  for (const m of mounts) {
    const source = volumeSource(p, m);
    await fs.mkdir(source, { recursive: true });
    const target = path.posix.normalize(m.mountPath);
    if (target !== "/tmp" && !target.startsWith("/tmp/") && target !== "/mnt" && !target.startsWith("/mnt/")) {
      if (target === "/" || /^\/(proc|sys|dev|etc|usr|bin|sbin|lib|lib64|boot|run|var|root|home)(\/|$)/.test(target)) {
        throw new EngineError(`${p.where}: volumeMount "${m.name}" at ${m.mountPath}: the local engine does not mount volumes over this machine's system folders`);
      }
      out.push({ source, target });
      continue;
    }
    const inStep = hostPath(target, p.dir);
    await fs.mkdir(inStep, { recursive: true });
    out.push({ source, target: inStep });
  }
  return out;
}

/**
 * The command, environment and mounts of another container of the pod — an init container, a
 * sidecar, a containerSet's container — beside the main one: same working directory and folder,
 * the set's and its own volumes.
 */
export async function otherContainerSpec(p: ProcessPod, c: UserContainer, extraMounts: readonly { name: string; mountPath: string; subPath?: string }[] = []): Promise<Pick<PodSpec, "command" | "env" | "workingDir" | "mounts" | "podRoot">> {
  const at = `${p.where}: container "${c.name}"`;
  const command = [...(containerCommand(c) ?? []), ...(c.args ?? [])];
  if (command.length === 0) throw new EngineError(`${at}: has no command; the local engine ignores images, so it needs command (or args) to know what to run`);
  const env: Record<string, string> = { ...p.environment, ...containerEnv(c, p.objects, at, { podName: p.podName }) };
  env[ROOT_ENV] = p.mode === "mounted" ? "/tmp" : p.dir;
  const mounts: Mount[] = [];
  if (p.mode === "mounted") {
    mounts.push({ source: p.dir, target: "/tmp" }, { source: path.join(p.dir, "mnt"), target: "/mnt" });
    mounts.push(...(await volumeMounts(p, [...extraMounts, ...(c.volumeMounts ?? [])])));
  }
  // The pod's own file system is shared by its containers; outputs are the main container's.
  const podRoot = podRootOf(p);
  return { command, env, workingDir: p.mode === "mounted" ? "/tmp/workdir" : path.join(p.dir, "workdir"), mounts, ...(podRoot ? { podRoot: { ...podRoot, collect: c.name === "main" && p.template.containerSet !== undefined } } : {}) };
}
