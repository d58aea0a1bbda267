/**
 * Externals of an OP bundle: packages left out of the bundle (native addons, packages that load
 * modules by computed names) and installed into the bundle's directory instead, at the versions
 * the project's `package-lock.json` pins, with every package they depend on, so that the
 * bundle's `import "pkg"` finds them in `node_modules` beside it. Nothing is downloaded: the
 * packages come from the project's installed `node_modules`, checked against the lock file.
 */
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { BundleError } from "./bundle-error.ts";

/** One package of a lock file (`packages["node_modules/…"]`). */
interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly link?: boolean;
  readonly resolved?: string;
}

/** A package to install: its folder key in the lock file and its version. */
export interface LockedPackage {
  /** `node_modules/a` or `node_modules/a/node_modules/b`. */
  readonly key: string;
  readonly name: string;
  readonly version: string;
}

/** The folder holding `package-lock.json`, from `from` upwards. */
export function findLockRoot(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, "package-lock.json"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function readLock(root: string): Record<string, LockEntry> {
  const file = path.join(root, "package-lock.json");
  let lock: { lockfileVersion?: number; packages?: Record<string, LockEntry> };
  try {
    lock = JSON.parse(readFileSync(file, "utf8")) as typeof lock;
  } catch (err) {
    throw new BundleError(`OP bundle externals: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!lock.packages) throw new BundleError(`OP bundle externals: ${file} has no "packages" (lockfileVersion ${lock.lockfileVersion ?? "?"}); npm 7 or later writes one`);
  return lock.packages;
}

/** Where Node would find package `name` required from the package folder `from` (a lock key, "" for the root). */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const key = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[key]) return key;
    if (!base) return undefined;
    const i = base.lastIndexOf("/node_modules/");
    base = i < 0 ? "" : base.slice(0, i);
  }
}

/**
 * The packages to install for `externals`: each of them and everything it depends on, as the
 * lock file of `root` resolves them.
 *
 * @throws BundleError naming an external the lock file does not have.
 */
export function lockedClosure(root: string, externals: readonly string[]): LockedPackage[] {
  const packages = readLock(root);
  const out = new Map<string, LockedPackage>();
  const visit = (key: string, name: string): void => {
    if (out.has(key)) return;
    const entry = packages[key] as LockEntry;
    if (entry.link) throw new BundleError(`OP bundle externals: package "${name}" is a link (${entry.resolved ?? key}) in ${root}/package-lock.json; only installed packages can be copied into a bundle's directory`);
    out.set(key, { key, name, version: entry.version ?? "" });
    const deps = { ...entry.peerDependencies, ...entry.optionalDependencies, ...entry.dependencies };
    for (const dep of Object.keys(deps)) {
      const found = locate(packages, key, dep);
      if (found) visit(found, dep);
      else if (!entry.optionalDependencies?.[dep] && !entry.peerDependencies?.[dep]) {
        throw new BundleError(`OP bundle externals: "${name}" depends on "${dep}", which ${root}/package-lock.json does not have; run npm install`);
      }
    }
  };
  for (const e of externals) {
    const key = `node_modules/${e}`;
    if (!packages[key]) throw new BundleError(`OP bundle externals: package "${e}" is not in ${root}/package-lock.json; add it to the project (npm install ${e})`);
    visit(key, e);
  }
  return [...out.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Copies the packages of {@link lockedClosure} from `root`'s `node_modules` into `dest`
 * (as `dest/node_modules/…`), each checked against the version its lock file pins.
 *
 * @throws BundleError when a package is not installed, or installed at another version.
 * @example
 * await installExternals("/my/project", ["sharp"], "/tmp/bundle-dir"); // /tmp/bundle-dir/node_modules/sharp …
 */
export async function installExternals(root: string, externals: readonly string[], dest: string): Promise<LockedPackage[]> {
  const closure = lockedClosure(root, externals);
  for (const p of closure) {
    const src = path.join(root, p.key);
    let installed: string | undefined;
    try {
      installed = (JSON.parse(await fs.readFile(path.join(src, "package.json"), "utf8")) as { version?: string }).version;
    } catch {
      throw new BundleError(`OP bundle externals: package "${p.name}" ${p.version} is in the lock file but not installed at ${src}; run npm ci`);
    }
    if (p.version && installed !== p.version) {
      throw new BundleError(`OP bundle externals: package "${p.name}" is installed at ${installed} but the lock file pins ${p.version} (${src}); run npm ci`);
    }
    const target = path.join(dest, p.key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Nested node_modules are packages of the closure themselves (or not needed).
    await fs.cp(src, target, { recursive: true, verbatimSymlinks: true, filter: (s) => path.relative(src, s).split(path.sep)[0] !== "node_modules" });
  }
  return closure;
}
