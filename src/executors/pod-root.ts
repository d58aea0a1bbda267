/**
 * A local process's own root file system, as a container has one: the paths a template
 * declares outside `/tmp` and `/mnt` (`/output`, `/data/in.csv`, a working directory, a
 * volume's mount point) are the pod's, backed by the step's folder (`<step>/fs`), and never
 * this machine's — even where this machine has a file at that path, even where it has none.
 *
 * In the process's private mount namespace the pod's root is an overlay: its upper layer is
 * `<step>/fs` (what the pod writes anywhere outside the folders of this machine lands there,
 * and inputs laid out there appear at their paths), its lower layer a skeleton made in the
 * step's folder of the folders on the way to the declared paths. Every other entry of those
 * folders (`/usr`, `/etc`, `/home`, `/proc` …) is this machine's, bound at its place, so the
 * process finds its programs and libraries; the declared paths themselves are not bound, so
 * the pod sees only its own. The step's `/tmp` and `/mnt` and the volumes are mounted on
 * top, and the command runs chrooted into that root. Nothing is created or changed outside
 * the step's folder: the namespace and its mounts end with the process.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { EngineError } from "../errors.ts";
import type { Mount, PodRoot } from "./executor.ts";

/** The step's sub-folder holding the overlay's skeleton, work folder and mount point. */
export const POD_ROOT_SCRATCH = ".pod-root";

/**
 * How the mount script (`NAMESPACE_SCRIPT` of local-process.ts) sets up a namespace: steps
 * `b SOURCE TARGET` (bind, recursively), `o DIR LOWER UPPER WORK TARGET` (an overlay whose
 * layers are given relative to DIR), `u TARGET` (detach), then the root to chroot into, or
 * `-` for none.
 */
export interface NamespacePlan {
  readonly steps: readonly string[];
  readonly root: string;
}

function inside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(`${dir}/`);
}

/** The declared paths of `root` that are the pod's own (absolute, outside `/tmp` and `/mnt`, not `/`). */
export function ownPaths(root: PodRoot): string[] {
  const out = new Set<string>();
  for (const p of [...root.inputs, ...root.outputs, ...root.others]) {
    const n = path.posix.normalize(p);
    if (path.posix.isAbsolute(n) && n !== "/" && !/^\/(tmp|mnt)(\/|$)/.test(n)) out.add(n);
  }
  return [...out].sort();
}

/** A namespace with bind mounts only: each host folder at its target, the step's folder on /tmp last. */
export function bindPlan(mounts: readonly Mount[]): NamespacePlan {
  const ordered = [...mounts].sort((a, b) => b.target.length - a.target.length);
  // Mount /tmp last: sources may live under it.
  ordered.sort((a, b) => Number(a.target === "/tmp") - Number(b.target === "/tmp"));
  return { steps: ordered.flatMap((m) => ["b", m.source, m.target]), root: "-" };
}

/**
 * The namespace of a pod with its own root file system: the skeleton written into
 * `<dir>/.pod-root/lower` now, the mounts to make in the namespace, the root to chroot into.
 * `mounts` are the pod's other mounts: targets inside `dir` (volumes under `/tmp`) are bound
 * there first; the others (`/tmp`, `/mnt`, volumes elsewhere) at their places in the root.
 *
 * `scratchName` names the sub-folder of `dir` this pod's overlay uses: each container running at
 * once needs its own.
 *
 * @throws EngineError when a declared path lies under a symbolic link of this machine (the
 *   pod's root cannot be laid over a link without following it onto this machine's folders).
 */
export function podRootPlan(dir: string, root: PodRoot, mounts: readonly Mount[], where = "pod", scratchName = POD_ROOT_SCRATCH): NamespacePlan {
  const scratch = path.join(dir, scratchName);
  const lower = path.join(scratch, "lower");
  const work = path.join(scratch, "work");
  const merged = path.join(scratch, "root");
  const upper = path.relative(dir, root.source);
  if (upper.startsWith("..") || path.isAbsolute(upper) || /[,:\\]/.test(upper) || upper === "") {
    throw new EngineError(`${where}: the pod's own file system ${root.source} must be a plain sub-folder of the step's folder ${dir}`);
  }
  // What an earlier attempt of this step left (the mounts ended with its namespace).
  rmSync(scratch, { recursive: true, force: true });
  for (const d of [lower, work, merged, root.source]) mkdirSync(d, { recursive: true });

  const declared = ownPaths(root);
  const inStep = mounts.filter((m) => inside(m.target, dir));
  const inPod = mounts.filter((m) => !inside(m.target, dir)).map((m) => ({ source: m.source, target: path.posix.normalize(m.target) }));
  const places = new Set([...declared, ...inPod.map((m) => m.target)]);
  const ancestors = new Set<string>();
  for (const p of places) {
    for (let a = path.posix.dirname(p); ; a = path.posix.dirname(a)) {
      ancestors.add(a);
      if (a === "/") break;
    }
  }
  const binds: string[] = [];
  // Parents before children ("/" first): a folder's skeleton exists before its entries'.
  for (const a of [...ancestors].sort()) {
    const st = lstatSync(a, { throwIfNoEntry: false });
    if (!st) continue; // absent here: the pod makes it in its own file system, if it makes it
    if (st.isSymbolicLink()) {
      const under = [...places].filter((p) => inside(p, a)).sort()[0] ?? a;
      throw new EngineError(`${where}: path ${under}: ${a} is a symbolic link on this machine (to ${readlinkSync(a)}); the local engine cannot give the pod its own ${under} there without following the link onto this machine's files: declare the path the link points to`);
    }
    if (!st.isDirectory()) continue;
    mkdirSync(path.join(lower, a), { recursive: true });
    for (const e of readdirSync(a, { withFileTypes: true })) {
      const full = path.posix.join(a, e.name);
      // The pod's own paths are never this machine's; folders on the way are skeletons of their own.
      if (places.has(full) || ancestors.has(full)) continue;
      const at = path.join(lower, full);
      if (e.isSymbolicLink()) {
        symlinkSync(readlinkSync(full), at);
        continue;
      }
      if (e.isDirectory()) mkdirSync(at);
      else writeFileSync(at, "");
      binds.push("b", full, path.join(merged, full));
    }
  }
  // Mount points of the pod's mounts, in the skeleton (so that the upper layer gets none).
  for (const m of inPod) mkdirSync(path.join(lower, m.target), { recursive: true });

  const steps: string[] = [];
  steps.push(...bindPlan(inStep).steps);
  steps.push("o", dir, path.relative(dir, lower), upper, path.relative(dir, work), merged);
  // The step's folder holds the root itself: its copy in the pod's /tmp is detached at once.
  const ordered = [...inPod].sort((a, b) => Number(inside(merged, b.source)) - Number(inside(merged, a.source)) || a.target.length - b.target.length);
  for (const m of ordered) {
    steps.push("b", m.source, path.join(merged, m.target));
    if (inside(merged, m.source)) steps.push("u", path.join(merged, m.target, path.relative(m.source, merged)));
  }
  steps.push(...binds);
  return { steps, root: merged };
}

/** The `chroot` program of this machine. */
export function chrootProgram(): string {
  return ["/usr/sbin/chroot", "/sbin/chroot", "/usr/bin/chroot", "/bin/chroot"].find((p) => existsSync(p)) ?? "chroot";
}
