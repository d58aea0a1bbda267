/**
 * Where a pod's declared paths are. Paths a template declares are mapped into the step's
 * folder so parallel steps never share them: `/tmp/x` → `<step>/x` (the step's folder *is* its
 * `/tmp`, the contract root), `/mnt/x` → `<step>/mnt/x`, relative paths → `<step>/workdir/x`.
 *
 * - **mounted** (an executor that mounts, e.g. a private mount namespace: used when the template
 *   mentions `/tmp` or `/mnt` or declares other absolute paths): the step's folder is mounted on
 *   `/tmp` (and `<step>/mnt` on `/mnt`), and `<step>/fs` is the pod's own file system at its
 *   other absolute paths (`/output` is `<step>/fs/output`), so the process itself sees the
 *   mapping, literal paths in scripts included.
 * - **host** (elsewhere, or `OPFLOW_NO_NAMESPACES=1`): the contract root travels in
 *   `OPFLOW_ROOT`, `$ARGO_PROGRESS_FILE` and tags such as `{{inputs.artifacts.a.path}}` resolve to
 *   the mapped paths, and for scripts that use a declared path literally the engine also places
 *   inputs at, and collects outputs from, the literal path (shared by steps running at once).
 * - **binding**: the OP gets the step's folder as `task.root`.
 *
 * Nothing a template declares reaches outside the step's folder: other absolute paths (`/data`,
 * `/workspace`, `/etc/shadow`) are the pod's own file system, `<step>/fs/…`, as a container
 * sees its image rather than the host; a relative path that goes up (`../`) is refused; and
 * parameter and artifact names, which become file names, must be Argo names.
 */
import { statSync } from "node:fs";
import path from "node:path";
import type { Container, Parameter, Template } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import type { Executor, PodRoot } from "../executors/executor.ts";

/** How a pod sees paths (see the module's comment). */
export type PathMode = "mounted" | "host" | "binding";

const MAPPED = /(^|[^\w.-])\/(tmp|mnt)(\/|\b)/;

function mentionsMappedPaths(t: Template): boolean {
  // Init containers, sidecars and a containerSet's containers share the pod's volumes.
  const set = t.containerSet as { containers?: Container[]; volumeMounts?: unknown[] } | undefined;
  if ((set?.volumeMounts?.length ?? 0) > 0) return true;
  for (const x of [...(t.initContainers ?? []), ...(t.sidecars ?? []), ...(set?.containers ?? [])]) {
    if ((x.volumeMounts?.length ?? 0) > 0 || [...(x.command ?? []), ...(x.args ?? [])].some((s) => MAPPED.test(s))) return true;
  }
  const c = t.script ?? t.container;
  const texts: string[] = [...(c?.command ?? []), ...(c?.args ?? []), t.script?.source ?? "", c?.workingDir ?? ""];
  for (const a of [...(t.inputs?.artifacts ?? []), ...(t.outputs?.artifacts ?? [])]) texts.push(a.path ?? "");
  for (const p of t.outputs?.parameters ?? []) texts.push(p.valueFrom?.path ?? "");
  return (c?.volumeMounts?.length ?? 0) > 0 || texts.some((s) => MAPPED.test(s));
}

/** Whether `declared` is a path of the pod's own file system: absolute, outside `/tmp` and `/mnt`, not `/`. */
function ownPath(declared: string | undefined): declared is string {
  if (declared === undefined || declared === "" || declared.includes("\0")) return false;
  const p = path.posix.normalize(declared);
  return path.posix.isAbsolute(p) && p !== "/" && !/^\/(tmp|mnt)(\/|$)/.test(p);
}

/**
 * The paths of `t` in the pod's own file system (see {@link PodRoot}): its input artifact
 * paths, output parameter and artifact paths, working directory and volume mount points
 * outside `/tmp` and `/mnt`, as declared (tags not yet resolved: use the resolved ones to run).
 */
export function podRootPaths(t: Template): PodRoot {
  const c = t.script ?? t.container;
  const set = t.containerSet as { containers?: Container[]; volumeMounts?: { mountPath: string }[] } | undefined;
  const others = [c?.workingDir, ...[...(c?.volumeMounts ?? []), ...(set?.volumeMounts ?? []), ...[...(t.initContainers ?? []), ...(t.sidecars ?? []), ...(set?.containers ?? [])].flatMap((x) => x.volumeMounts ?? [])].map((m) => m.mountPath)];
  return {
    source: "",
    inputs: (t.inputs?.artifacts ?? []).map((a) => a.path).filter(ownPath),
    outputs: [...(t.outputs?.parameters ?? []).map((p) => p.valueFrom?.path), ...(t.outputs?.artifacts ?? []).map((a) => a.path)].filter(ownPath),
    others: others.filter(ownPath),
  };
}

/** Whether `root` holds any path. */
export function hasPodRootPaths(root: PodRoot): boolean {
  return root.inputs.length + root.outputs.length + root.others.length > 0;
}

/**
 * How the pod of `t` run by `executor` sees paths: mounted where the executor mounts, and (for
 * an executor that mounts when needed) when the template uses `/tmp` or `/mnt` paths or has
 * paths of its own file system outside them.
 */
export function pathMode(executor: Executor, binding: boolean, t: Template): PathMode {
  if (binding) return "binding";
  if (executor.mounts === "always" || (executor.mounts === "when-needed" && (mentionsMappedPaths(t) || hasPodRootPaths(podRootPaths(t))))) return "mounted";
  return "host";
}

/** The step's sub-folder holding the pod's own root file system (absolute paths outside `/tmp` and `/mnt`). */
export const POD_ROOT_DIR = "fs";

/** Argo's rule for parameter and artifact names (validate.go); they become file names here. */
const ARGO_NAME = /^[-a-zA-Z0-9_]+$/;

/** Why `declared` cannot be a pod path, or undefined when it can. */
function pathProblem(declared: string): string | undefined {
  if (declared === "") return "a path must not be empty";
  if (declared.includes("\0")) return "a path must not hold a NUL character";
  const p = path.posix.normalize(declared);
  if (!path.posix.isAbsolute(p) && (p === ".." || p.startsWith("../"))) return `a relative path must stay in the working directory (no "../" above it)`;
  return undefined;
}

/**
 * Maps a declared path into the step's folder: `/tmp/x` → `<step>/x`, `/mnt/x` →
 * `<step>/mnt/x`, a relative path → `<step>/workdir/x`, any other absolute path →
 * `<step>/fs/x` (the pod's own file system: never the host's `/data` or `/etc`). The same in
 * every mode: what differs is whether the process sees the mapping (mounted) or only the
 * engine and the tags do (host; see {@link literalPath}).
 *
 * @throws EngineError for a relative path that goes up out of the working directory.
 */
export function hostPath(declared: string, dir: string): string {
  const problem = pathProblem(declared);
  if (problem) throw new EngineError(`path ${JSON.stringify(declared)}: ${problem}`);
  const p = path.posix.normalize(declared);
  if (!path.posix.isAbsolute(p)) return path.join(dir, "workdir", p);
  if (p === "/tmp" || p.startsWith("/tmp/")) return path.join(dir, p.slice(4));
  if (p === "/mnt" || p.startsWith("/mnt/")) return path.join(dir, "mnt", p.slice(4));
  return path.join(dir, POD_ROOT_DIR, p.slice(1));
}

/**
 * A declared path as the pod's process sees it: the mapped host path, or with mounts (the
 * step's folder on `/tmp`, the pod's own file system at its other absolute paths) the path
 * itself.
 */
export function podPath(declared: string, dir: string, mode: PathMode): string {
  const mapped = hostPath(declared, dir);
  return mode === "mounted" ? declared : mapped;
}

/**
 * Checks, before a pod runs, what of its template becomes a path in the step's folder: the
 * names of its parameters and artifacts (file names under `inputs/` and `outputs/`) and its
 * declared paths. Argo's validation refuses such manifests; the engine checks again where a
 * name or a path would otherwise reach outside the step's folder.
 *
 * @throws EngineError naming the field and the offending value.
 */
export function checkPodPaths(t: Template, parameters: readonly Parameter[], where: string): void {
  const names: [string, string][] = [
    ...parameters.map((p): [string, string] => ["input parameter", p.name]),
    ...(t.inputs?.artifacts ?? []).map((a): [string, string] => ["input artifact", a.name]),
    ...(t.outputs?.parameters ?? []).map((p): [string, string] => ["output parameter", p.name]),
    ...(t.outputs?.artifacts ?? []).map((a): [string, string] => ["output artifact", a.name]),
  ];
  for (const [kind, name] of names) {
    if (!ARGO_NAME.test(name)) throw new EngineError(`${where}: ${kind} name ${JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name)} must be letters, digits, '-' and '_' (Argo's rule; it names a file of the step)`);
  }
  const paths: [string, string | undefined][] = [
    ...(t.inputs?.artifacts ?? []).map((a): [string, string | undefined] => [`input artifact "${a.name}"`, a.path]),
    ...(t.outputs?.artifacts ?? []).map((a): [string, string | undefined] => [`output artifact "${a.name}"`, a.path]),
    ...(t.outputs?.parameters ?? []).map((p): [string, string | undefined] => [`output parameter "${p.name}"`, p.valueFrom?.path]),
    ["workingDir", (t.script ?? t.container)?.workingDir],
  ];
  for (const [what, declared] of paths) {
    const problem = declared === undefined ? undefined : pathProblem(declared);
    if (problem) throw new EngineError(`${where}: ${what}: path ${JSON.stringify(declared)}: ${problem}`);
  }
}

/**
 * In host mode (no mounts), a script that uses a declared path literally (`cat /tmp/message`)
 * reads and writes the real `/tmp/message`: the engine then also places inputs there and
 * collects outputs from there when the mapped path holds none. Returns that literal path, or
 * undefined when there is none to care about.
 */
export function literalPath(declared: string, dir: string, mode: PathMode): string | undefined {
  if (mode !== "host") return undefined;
  const p = path.posix.normalize(declared);
  if (!path.posix.isAbsolute(p) || /^\/tmp\/(inputs|outputs)(\/|$)/.test(p)) return undefined;
  // Only the shared scratch places a container also has: never a host path elsewhere.
  const shared = p.startsWith("/tmp/") || p.startsWith("/mnt/");
  return shared && hostPath(p, dir) !== p ? p : undefined;
}

/** The host path of a declared path, or its literal path when only that exists (host mode). */
export function existingPath(declared: string, dir: string, mode: PathMode): string {
  const mapped = hostPath(declared, dir);
  const literal = literalPath(declared, dir, mode);
  return literal && !exists(mapped) ? literal : mapped;
}

/**
 * Where an output declared at an absolute path outside `/tmp` and `/mnt` (`/output`,
 * `/result.txt`) is found: in the volume mounted there, if any (`volume`); else in the pod's own
 * file system, `<step>/fs/<path>`, where the pod sees it; else at `<step>/workdir/<path>`, since
 * in a pod that path is in the container's own file system, whose root is the default working
 * directory of most images (a script writing `result.txt` makes `/result.txt`). Never the host's
 * path itself. Other paths give `found` back.
 */
export function outsideOfMappedPaths(declared: string, found: string, dir: string, _startedMs: number, volume?: string): string {
  const p = path.posix.normalize(declared);
  if (!path.posix.isAbsolute(p) || p === "/" || /^\/(tmp|mnt)(\/|$)/.test(p)) return found;
  if (volume !== undefined) return volume;
  if (exists(found)) return found;
  const inWorkdir = path.join(dir, "workdir", p);
  return exists(inWorkdir) ? inWorkdir : found;
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
