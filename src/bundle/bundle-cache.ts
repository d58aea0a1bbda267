/**
 * The bundle cache: OP bundles kept on disk across processes, so that `opflow render`, `run`
 * and `submit` bundle a module with esbuild only when something that went into its bundle
 * changed.
 *
 * Where: `$OPFLOW_CACHE_DIR/bundles` when that variable is set; else
 * `node_modules/.cache/opflow/bundles` of the nearest `node_modules` above the module (the
 * convention of build tools, cleared by a fresh install); else the user's cache folder
 * (`$XDG_CACHE_HOME/opflow` or `~/.cache/opflow`, `~/Library/Caches/opflow` on macOS,
 * `%LOCALAPPDATA%\opflow\Cache` on Windows) under `bundles/`. `opflow cache clear` empties it.
 *
 * What: per module and bundle options (and opflow's and esbuild's versions), one entry file
 * `<key>.json` listing the last few bundles made of it, each with every input esbuild read
 * (its size, modification time and SHA-256), the folders they were found in (by their
 * listing: a new file that could change how an import resolves is a change), the
 * `package.json` / `tsconfig.json` files that steer esbuild, and the SHA-256 of the bundle's
 * bytes, stored as `<sha256>.mjs`. A bundle is reused only when every recorded input is
 * unchanged (same size and time, or else same content) and its bytes still hash to what was
 * recorded; anything else (a changed or missing input, a torn or corrupt entry, a bad object)
 * is a miss, and the bundle is made again. Files are written to a temporary name and renamed,
 * so that processes bundling at once never see half an entry.
 *
 * Synchronous on purpose: `bundleModuleSync` looks here on the calling thread, before it
 * starts the bundling thread and esbuild.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LockedPackage } from "./externals.ts";
import { atomicWriteSync } from "../files.ts";

/** Version of the entry format and of what a bundle is made of; bump it when either changes. */
const FORMAT = 2;
/** Bundles kept per module and options (switching branches back and forth stays cached). */
const KEPT_PER_KEY = 4;
/** Files beside a package's sources that change what esbuild makes of them. */
const CONFIG_FILES = ["package.json", "tsconfig.json", "jsconfig.json"];

/** The environment variable that moves opflow's cache. */
export const CACHE_DIR_ENV = "OPFLOW_CACHE_DIR";

/** What a cached bundle is made of, apart from its inputs (part of the entry's key). */
export interface BundleCacheKey {
  /** The module (absolute path). */
  readonly module: string;
  readonly externals: readonly string[];
  readonly minify: boolean;
  /** Whether opflow ran from its TypeScript sources (they resolve differently). */
  readonly fromSources: boolean;
}

/** What the cache returns and keeps of a bundle (an `OpBundle`). */
export interface CachedBundle {
  readonly module: string;
  readonly hash: string;
  readonly fileName: string;
  readonly contents: Uint8Array;
  readonly externals: readonly string[];
  readonly locked?: { readonly root: string; readonly packages: readonly LockedPackage[] };
}

/** A file as the cache knows it. */
interface FileStamp {
  readonly file: string;
  /** Size and modification time (ns), the quick check; "" for a missing file, "racy" for a file too fresh to judge by it. */
  readonly stat: string;
  /** SHA-256 of the content; "" for a missing file. */
  readonly sha256: string;
}

/** A folder as the cache knows it: the hash of its sorted listing. */
interface DirStamp {
  readonly dir: string;
  readonly listing: string;
}

interface Entry {
  readonly files: readonly FileStamp[];
  readonly dirs: readonly DirStamp[];
  /** SHA-256 of the bundle's bytes: its object is `<contents>.mjs`. */
  readonly contents: string;
  readonly bundle: Omit<CachedBundle, "contents">;
}

interface EntryFile {
  readonly format: number;
  readonly module: string;
  readonly entries: readonly Entry[];
}

/** The user's cache folder for opflow, by the platform's convention. */
function userCacheRoot(): string {
  const home = os.homedir();
  if (process.platform === "win32") return path.join(process.env["LOCALAPPDATA"] ?? path.join(home, "AppData", "Local"), "opflow", "Cache");
  if (process.platform === "darwin") return path.join(home, "Library", "Caches", "opflow");
  const xdg = process.env["XDG_CACHE_HOME"];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, ".cache"), "opflow");
}

/**
 * opflow's cache folder for work under `from` (a module or a project folder): `$OPFLOW_CACHE_DIR`,
 * else `node_modules/.cache/opflow` of the nearest `node_modules` above `from`, else the user's
 * cache folder. Bundles are kept in its `bundles/` folder.
 *
 * @example
 * cacheRoot("/my/project/wf.ts"); // "/my/project/node_modules/.cache/opflow"
 */
export function cacheRoot(from: string = process.cwd()): string {
  const env = process.env[CACHE_DIR_ENV];
  if (env) return path.resolve(env);
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, "node_modules"))) return path.join(dir, "node_modules", ".cache", "opflow");
    const up = path.dirname(dir);
    if (up === dir) return userCacheRoot();
    dir = up;
  }
}

/** The folder of cached bundles for `moduleFile`. */
export function bundleCacheDir(moduleFile: string): string {
  return path.join(cacheRoot(path.dirname(moduleFile)), "bundles");
}

let versions: string | undefined;

/** opflow's and esbuild's versions: a new release of either makes other bundles. */
function toolVersions(): string {
  if (versions === undefined) {
    const read = (file: string): string => {
      try {
        return (JSON.parse(fs.readFileSync(file, "utf8")) as { version?: string }).version ?? "?";
      } catch {
        return "?";
      }
    };
    const opflowPkg = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json");
    let esbuildPkg = "";
    try {
      esbuildPkg = createRequire(import.meta.url).resolve("esbuild/package.json");
    } catch {
      /* not installed: bundling will say so */
    }
    versions = `opflow@${read(opflowPkg)} esbuild@${esbuildPkg ? read(esbuildPkg) : "?"}`;
  }
  return versions;
}

function entryPath(dir: string, key: BundleCacheKey): string {
  const id = createHash("sha256")
    .update(JSON.stringify([FORMAT, toolVersions(), key.module, [...key.externals], key.minify, key.fromSources]))
    .digest("hex")
    .slice(0, 32);
  return path.join(dir, `${id}.json`);
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function statOf(file: string): string {
  try {
    const s = fs.statSync(file, { bigint: true });
    return s.isFile() ? `${s.size}:${s.mtimeNs}` : "";
  } catch {
    return "";
  }
}

/**
 * A file modified this recently may be modified again within the file system's clock tick with
 * the same size and time ("racy" stamps, as git calls them): its stamp keeps no stat, so that
 * only its content can prove it unchanged.
 */
const RACY_NS = 2_000_000_000n;

function stampFile(file: string): FileStamp {
  let stat = statOf(file);
  const mtime = stat ? BigInt(stat.slice(stat.indexOf(":") + 1)) : 0n;
  if (stat && BigInt(Date.now()) * 1_000_000n - mtime < RACY_NS) stat = "racy";
  let hash = "";
  if (stat) {
    try {
      hash = sha256(fs.readFileSync(file));
    } catch {
      /* gone meanwhile: missing */
    }
  }
  return { file, stat: hash ? stat : "", sha256: hash };
}

function fileUnchanged(f: FileStamp): boolean {
  const stat = statOf(f.file);
  if (stat === f.stat) return true;
  if (!stat || !f.sha256) return false;
  // Touched (a checkout, a copy) but maybe not changed: the content decides.
  try {
    return sha256(fs.readFileSync(f.file)) === f.sha256;
  } catch {
    return false;
  }
}

function listingOf(dir: string): string {
  try {
    return sha256(fs.readdirSync(dir).sort().join("\n"));
  } catch {
    return "";
  }
}

/** The nearest folder at or above `dir` that holds a package.json (or the root). */
function packageDirOf(dir: string): string {
  for (let d = dir; ; ) {
    if (fs.existsSync(path.join(d, "package.json"))) return d;
    const up = path.dirname(d);
    if (up === d) return d;
    d = up;
  }
}

/**
 * Everything a bundle depends on, from the files esbuild read (`inputs`, absolute paths): those
 * files; the folders they were found in, up to (not including) their package's folder; and the
 * configuration files of each of those folders and of the package's folder.
 */
function stampsOf(inputs: readonly string[]): { files: FileStamp[]; dirs: DirStamp[] } {
  const files = new Set(inputs);
  const dirs = new Set<string>();
  const packageDirs = new Map<string, string>();
  for (const input of inputs) {
    const start = path.dirname(input);
    if (dirs.has(start) || packageDirs.has(start)) continue;
    const pkg = packageDirOf(start);
    for (let d = start; ; d = path.dirname(d)) {
      for (const c of CONFIG_FILES) files.add(path.join(d, c));
      if (d === pkg || path.dirname(d) === d) {
        packageDirs.set(d, d);
        break;
      }
      if (dirs.has(d)) break;
      dirs.add(d);
    }
  }
  return {
    files: [...files].sort().map(stampFile),
    dirs: [...dirs].sort().map((dir) => ({ dir, listing: listingOf(dir) })),
  };
}

/** What a bundle was made from, as {@link stampInputs} records it. */
export interface InputStamps {
  readonly files: readonly FileStamp[];
  readonly dirs: readonly DirStamp[];
}

/** Records the inputs of a bundle (absolute paths of the files esbuild read) and what steers their resolution. */
export function stampInputs(inputs: readonly string[]): InputStamps {
  return stampsOf(inputs);
}

/** Whether nothing recorded in `s` changed since. */
export function stampsUnchanged(s: InputStamps): boolean {
  return s.dirs.every((d) => listingOf(d.dir) === d.listing) && s.files.every(fileUnchanged);
}

function entryValid(e: Entry): boolean {
  return stampsUnchanged(e);
}

function readEntryFile(file: string, module: string): EntryFile | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as EntryFile;
    if (parsed?.format !== FORMAT || parsed.module !== module || !Array.isArray(parsed.entries)) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

/**
 * The cached bundle made with `key` whose inputs are all unchanged, or undefined (a miss:
 * nothing cached, an input changed, or the entry or its bytes are unreadable or corrupt).
 */
export function lookupBundle(key: BundleCacheKey, dir: string = bundleCacheDir(key.module)): CachedBundle | undefined {
  const file = readEntryFile(entryPath(dir, key), key.module);
  if (!file) return undefined;
  for (const e of file.entries) {
    if (!e || typeof e.contents !== "string" || !Array.isArray(e.files) || !Array.isArray(e.dirs) || !e.bundle) continue;
    if (!entryValid(e)) continue;
    let contents: Buffer;
    try {
      contents = fs.readFileSync(path.join(dir, `${e.contents}.mjs`));
    } catch {
      return undefined;
    }
    if (sha256(contents) !== e.contents) return undefined;
    return { ...e.bundle, contents: new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength) };
  }
  return undefined;
}

/**
 * Keeps `bundle`, made with `key`,
 * as the first of its key's entries (`inputs`: {@link stampInputs} of the files esbuild read). Best effort: a cache that cannot be written is no error.
 */
export function storeBundle(key: BundleCacheKey, bundle: CachedBundle, inputs: InputStamps, dir: string = bundleCacheDir(key.module)): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const contents = sha256(bundle.contents);
    const object = path.join(dir, `${contents}.mjs`);
    if (statOf(object) === "" || sha256(fs.readFileSync(object)) !== contents) atomicWriteSync(object, bundle.contents);
    const { contents: _bytes, ...meta } = bundle;
    const entry: Entry = { files: inputs.files, dirs: inputs.dirs, contents, bundle: meta };
    const file = entryPath(dir, key);
    const previous = readEntryFile(file, key.module)?.entries ?? [];
    const all = [entry, ...previous.filter((p) => p?.contents !== contents)];
    const entries = all.slice(0, KEPT_PER_KEY);
    atomicWriteSync(file, `${JSON.stringify({ format: FORMAT, module: key.module, entries } satisfies EntryFile)}\n`);
    // The bytes of entries no longer kept (another key naming the same bytes would just miss).
    const kept = new Set(entries.map((e) => e.contents));
    for (const dropped of all.slice(KEPT_PER_KEY)) {
      if (typeof dropped?.contents === "string" && /^[0-9a-f]{64}$/.test(dropped.contents) && !kept.has(dropped.contents)) {
        fs.rmSync(path.join(dir, `${dropped.contents}.mjs`), { force: true });
      }
    }
  } catch {
    /* a read-only or full disk: bundles are made again next time */
  }
}

/**
 * Empties the bundle cache folder `dir` (see {@link bundleCacheDir}); returns how many files
 * it removed.
 */
export function clearBundleCache(dir: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!/\.(?:json|mjs)$|\.tmp-/.test(name)) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
