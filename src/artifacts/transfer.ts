import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { StorageError, ValidationError } from "../errors.ts";
import type { StorageClient, StoredObject } from "../storage/client.ts";
import { packArtifact, unpackArtifact, type ArchiveFormat } from "./archive.ts";
import { joinKey } from "./keys.ts";
import { pathExists } from "../files.ts";

/** What {@link uploadArtifact} accepts: one path, a list of paths, or a record of named paths. */
export type LocalPaths = string | readonly string[] | Readonly<Record<string, string>>;

/** One stored object of an artifact. */
export interface ArtifactObject {
  /** Its key. */
  readonly key: string;
  /** Its size in bytes (-1 when unknown, for refs built from a bare key). */
  readonly size: number;
  /** The MD5 (hex) of its content, checked on download. */
  readonly md5: string;
}

/** One uploaded path of an artifact. */
export interface ArtifactItem {
  /**
   * Where the item is placed under the download destination: `""` for a single-path
   * artifact (the destination itself), the relative path for a list item, the name for a
   * record entry.
   */
  readonly path: string;
  /** Whether the uploaded path was a file or a directory. */
  readonly type: "file" | "directory";
  /** The item's key: the object (`tar`, or a `none` file) or the prefix of its objects (`none` directory). */
  readonly key: string;
  /** The item's objects: one, or one per file of a `none` directory (keys under `key/`). */
  readonly objects: readonly ArtifactObject[];
}

/** A reference to an uploaded artifact: enough to download and check it. Plain JSON. */
export interface StoredArtifact {
  /** `single` (one path), `list` (paths in order) or `record` (named paths). */
  readonly kind: "single" | "list" | "record";
  /** How items are stored. */
  readonly archive: ArchiveFormat;
  /** The storage's location (informative; downloads use the client they are given). */
  readonly location: string;
  /** The artifact's key: the object of a single item, or the prefix of the items' keys. */
  readonly key: string;
  /** The items, in the order given (list) or by name (record). */
  readonly items: readonly ArtifactItem[];
}

/** Running totals of a transfer. */
export interface TransferProgress {
  /** Bytes moved so far. */
  readonly bytes: number;
  /** Bytes to move in all. */
  readonly totalBytes: number;
  /** Objects finished so far. */
  readonly files: number;
  /** Objects in all. */
  readonly totalFiles: number;
}

/** Options shared by uploads and downloads. */
export interface ArtifactTransferOptions {
  /**
   * Called as data moves (throttled to about 10 calls a second, plus a final one).
   * @default none
   */
  readonly onProgress?: (progress: TransferProgress) => void;
  /**
   * Objects transferred at the same time.
   * @default 8
   */
  readonly concurrency?: number;
}

/** Options of {@link uploadArtifact}. */
export interface UploadArtifactOptions extends ArtifactTransferOptions {
  /**
   * The artifact's key (use `artifactKey` for an engine node's output). For a single `tar`
   * path it is the object's key; otherwise the prefix of the items' keys.
   * @default `uploads/<uuid>/<basename>.tgz` (single path) or `uploads/<uuid>` (list, record)
   */
  readonly key?: string;
  /**
   * `tar` (gzip tarball per item, Argo's default) or `none` (files as they are; a directory
   * as one object per file, empty folders dropped).
   * @default "tar"
   */
  readonly archive?: ArchiveFormat;
  /**
   * Folder that relative list paths are taken from (a list item keeps its path relative to
   * it when inside, else its base name).
   * @default process.cwd()
   */
  readonly cwd?: string;
  /**
   * gzip level of `tar` archives (0-9).
   * @default 6
   */
  readonly compressionLevel?: number;
}

/** Options of {@link downloadArtifact}. */
export interface DownloadArtifactOptions extends ArtifactTransferOptions {
  /**
   * Replace destinations that exist already.
   * @default false: an existing destination is an error
   */
  readonly overwrite?: boolean;
}

/** What {@link downloadArtifact} wrote. */
export interface DownloadedArtifact {
  /** The destination given. */
  readonly dest: string;
  /** Absolute local path of each item, in the ref's order. */
  readonly paths: readonly string[];
  /** For a record, the local path of each name. */
  readonly byName: Readonly<Record<string, string>>;
}

interface PlannedItem {
  readonly localPath: string;
  readonly path: string;
  readonly type: "file" | "directory";
  readonly key: string;
}

/**
 * Uploads a file, a directory, a list of paths or a record of named paths as one artifact and
 * returns its reference (keys, sizes, MD5s). Each path is packed as `tar.gz` (default) or
 * stored as is (`archive: "none"`); every object is uploaded atomically.
 *
 * @example
 * ```ts
 * const storage = new LocalStorageClient({ root: "/tmp/store" });
 * const ref = await uploadArtifact(storage, "results/", { key: "wf/node-1/results.tgz" });
 * const many = await uploadArtifact(storage, ["a.csv", "b.csv"], { archive: "none" });
 * const named = await uploadArtifact(storage, { model: "model.bin", log: "train.log" });
 * ```
 */
export async function uploadArtifact(
  storage: StorageClient,
  source: LocalPaths,
  options: UploadArtifactOptions = {},
): Promise<StoredArtifact> {
  const archive = options.archive ?? "tar";
  if (archive !== "tar" && archive !== "none") {
    throw new ValidationError(`uploadArtifact: 'archive' must be "tar" or "none", got ${JSON.stringify(archive)}`);
  }
  const concurrency = checkConcurrency(options.concurrency);
  const kind: StoredArtifact["kind"] = typeof source === "string" ? "single" : Array.isArray(source) ? "list" : "record";
  const entries = await describeSources(source, kind, options.cwd ?? process.cwd());
  const ext = (name: string): string => (archive === "tar" ? `${name}.tgz` : name);
  let base: string;
  const planned: PlannedItem[] = [];
  if (kind === "single") {
    const only = entries[0] as (typeof entries)[number];
    const key = options.key ?? joinKey("uploads", randomUUID(), ext(path.basename(only.localPath)));
    base = key;
    planned.push({ ...only, key });
  } else {
    base = options.key ?? joinKey("uploads", randomUUID());
    for (const entry of entries) planned.push({ ...entry, key: joinKey(base, ext(entry.path)) });
  }
  const work = await mkdtemp(path.join(tmpdir(), "opflow-upload-"));
  try {
    // Plan every object: tar items become one packed file each; none directories one object per file.
    const tasks: { item: number; localPath: string; key: string; size: number }[] = [];
    for (const [index, item] of planned.entries()) {
      if (archive === "tar") {
        const packed = await packArtifact(item.localPath, path.join(work, `${index}.tgz`), {
          archive: "tar",
          ...(options.compressionLevel !== undefined && { compressionLevel: options.compressionLevel }),
        });
        tasks.push({ item: index, localPath: packed.file, key: item.key, size: packed.size });
      } else if (item.type === "file") {
        tasks.push({ item: index, localPath: item.localPath, key: item.key, size: (await stat(item.localPath)).size });
      } else {
        for (const file of await listFiles(item.localPath)) {
          tasks.push({ item: index, localPath: path.join(item.localPath, ...file.rel.split("/")), key: joinKey(item.key, file.rel), size: file.size });
        }
      }
    }
    const progress = new ProgressTracker(tasks.reduce((n, t) => n + t.size, 0), tasks.length, options);
    const stored: StoredObject[] = new Array(tasks.length);
    await runPool(tasks, concurrency, async (task, i) => {
      let before = 0;
      const result = await storage.upload(task.localPath, task.key, {
        onProgress: (done) => {
          progress.add(done - before);
          before = done;
        },
      });
      progress.add(task.size - before);
      progress.fileDone();
      stored[i] = result ?? { key: task.key, size: task.size, md5: await requireMd5(storage, task.key) };
    });
    progress.finish();
    const items: ArtifactItem[] = planned.map((item, index) => ({
      path: item.path,
      type: item.type,
      key: item.key,
      objects: tasks.flatMap((t, i) => (t.item === index ? [stored[i] as StoredObject] : [])).map((o) => ({ key: o.key, size: o.size, md5: o.md5 })),
    }));
    return { kind, archive, location: storage.location, key: base, items };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Downloads an artifact to `dest`, checking every object's MD5. A single-path artifact becomes
 * `dest` itself (file or directory); list items go to `dest/<item path>` and record entries
 * to `dest/<name>`. `ref` may also be a bare key: a `.tgz` key is unpacked, another key is a
 * file, and a key with objects under `key/` is a `none` directory.
 *
 * @example
 * ```ts
 * await downloadArtifact(storage, ref, "inputs/artifacts/results");
 * await downloadArtifact(storage, "wf/node-1/results.tgz", "results");
 * ```
 */
export async function downloadArtifact(
  storage: StorageClient,
  ref: StoredArtifact | string,
  dest: string,
  options: DownloadArtifactOptions = {},
): Promise<DownloadedArtifact> {
  const concurrency = checkConcurrency(options.concurrency);
  const resolved = typeof ref === "string" ? await refFromKey(storage, ref) : checkRef(ref);
  const root = path.resolve(dest);
  const targets = resolved.items.map((item) => (resolved.kind === "single" ? root : path.join(root, ...item.path.split("/"))));
  if (!options.overwrite) {
    for (const target of targets) {
      if (await pathExists(target)) throw new StorageError(`downloadArtifact: destination ${JSON.stringify(target)} already exists (pass overwrite: true to replace it)`);
    }
  }
  const all = resolved.items.flatMap((item) => item.objects);
  const progress = new ProgressTracker(all.reduce((n, o) => n + Math.max(0, o.size), 0), all.length, options);
  const work = await mkdtemp(path.join(tmpdir(), "opflow-download-"));
  try {
    const fetch = async (object: ArtifactObject, local: string): Promise<void> => {
      let before = 0;
      await storage.download(object.key, local, {
        expectedMd5: object.md5,
        onProgress: (done) => {
          progress.add(done - before);
          before = done;
        },
      });
      if (object.size >= 0) progress.add(object.size - before);
      progress.fileDone();
    };
    // One task per object; a `none` directory is staged beside its target and renamed when complete.
    const staged = new Map<number, string>();
    const tasks: { object: ArtifactObject; local: string; after?: () => Promise<void> }[] = [];
    for (const [index, item] of resolved.items.entries()) {
      const target = targets[index] as string;
      if (resolved.archive === "tar") {
        const local = path.join(work, `${index}.tgz`);
        const object = item.objects[0] as ArtifactObject;
        tasks.push({
          object,
          local,
          after: async () => {
            await unpackArtifact(local, target, { archive: "tar", overwrite: options.overwrite ?? false });
            await rm(local, { force: true });
          },
        });
      } else if (item.type === "file") {
        tasks.push({ object: item.objects[0] as ArtifactObject, local: target });
      } else {
        const stage = `${target}.opflow-tmp-${randomBytes(8).toString("hex")}`;
        staged.set(index, stage);
        await mkdir(stage, { recursive: true });
        for (const object of item.objects) {
          const rel = object.key.slice(item.key.length + 1);
          tasks.push({ object, local: path.join(stage, ...rel.split("/")) });
        }
      }
    }
    try {
      await runPool(tasks, concurrency, async (task) => {
        await fetch(task.object, task.local);
        await task.after?.();
      });
      for (const [index, stage] of staged) {
        const target = targets[index] as string;
        if (options.overwrite) await rm(target, { recursive: true, force: true });
        await rename(stage, target);
      }
    } finally {
      for (const stage of staged.values()) await rm(stage, { recursive: true, force: true });
    }
    progress.finish();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const byName: Record<string, string> = {};
  if (resolved.kind === "record") resolved.items.forEach((item, i) => (byName[item.path] = targets[i] as string));
  return { dest: root, paths: targets, byName };
}

/** Builds a ref for a bare key by looking at the store. */
async function refFromKey(storage: StorageClient, key: string): Promise<StoredArtifact> {
  const one = (archive: ArchiveFormat, type: "file" | "directory", objects: ArtifactObject[]): StoredArtifact => ({
    kind: "single",
    archive,
    location: storage.location,
    key,
    items: [{ path: "", type, key, objects }],
  });
  const object = async (k: string): Promise<ArtifactObject> => ({ key: k, size: -1, md5: await requireMd5(storage, k) });
  if (await storage.exists(key)) {
    const archive: ArchiveFormat = /\.(tgz|tar\.gz)$/.test(key) ? "tar" : "none";
    return one(archive, "file", [await object(key)]);
  }
  const keys = await storage.list(`${key}/`);
  if (keys.length === 0) throw new StorageError(`downloadArtifact: no object ${JSON.stringify(key)} and nothing under ${JSON.stringify(`${key}/`)} in ${storage.location}`);
  return one("none", "directory", await Promise.all(keys.map(object)));
}

async function requireMd5(storage: StorageClient, key: string): Promise<string> {
  const md5 = await storage.md5(key);
  if (md5 === undefined) throw new StorageError(`Storage ${storage.location}: no MD5 known for ${JSON.stringify(key)}`);
  return md5;
}

function checkRef(ref: StoredArtifact): StoredArtifact {
  const fail = (rule: string): never => {
    throw new ValidationError(`downloadArtifact: ref ${JSON.stringify(ref?.key)}: ${rule}`);
  };
  if (ref === null || typeof ref !== "object") fail("must be an StoredArtifact object");
  if (!["single", "list", "record"].includes(ref.kind)) fail(`'kind' must be single, list or record, got ${JSON.stringify(ref.kind)}`);
  if (ref.archive !== "tar" && ref.archive !== "none") fail(`'archive' must be tar or none, got ${JSON.stringify(ref.archive)}`);
  if (!Array.isArray(ref.items)) fail("'items' must be an array");
  for (const item of ref.items) {
    if (ref.kind !== "single") checkRelative(item.path, `item path ${JSON.stringify(item.path)}`);
    const mayBeEmpty = ref.archive === "none" && item.type === "directory";
    if (!Array.isArray(item.objects) || (item.objects.length === 0 && !mayBeEmpty)) fail(`item ${JSON.stringify(item.path)} has no objects`);
    if (ref.archive === "tar" && item.objects.length !== 1) fail(`item ${JSON.stringify(item.path)} must have one object with archive tar`);
    for (const object of item.objects) {
      if (item.type === "directory" && ref.archive === "none") {
        if (!object.key.startsWith(`${item.key}/`)) fail(`object ${JSON.stringify(object.key)} is not under its item's key ${JSON.stringify(item.key)}`);
        checkRelative(object.key.slice(item.key.length + 1), `object key ${JSON.stringify(object.key)}`);
      }
    }
  }
  return ref;
}

/** A relative path that stays inside its folder (list item paths, record names). */
function checkRelative(rel: string, what: string): void {
  if (typeof rel !== "string" || rel === "" || rel.startsWith("/") || /\\|\0/.test(rel) || rel.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new ValidationError(`Artifact: ${what} must be a relative path without '', '.' or '..' segments`);
  }
}

async function describeSources(
  source: LocalPaths,
  kind: StoredArtifact["kind"],
  cwd: string,
): Promise<{ localPath: string; path: string; type: "file" | "directory" }[]> {
  const pairs: [string, string][] = [];
  if (kind === "single") pairs.push([source as string, ""]);
  else if (kind === "list") {
    const list = source as readonly string[];
    if (list.length === 0) throw new ValidationError("uploadArtifact: the list of paths is empty");
    for (const p of list) {
      const abs = path.resolve(cwd, p);
      const rel = path.relative(path.resolve(cwd), abs).split(path.sep).join("/");
      const inside = rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
      pairs.push([p, inside ? rel : path.basename(abs)]);
    }
  } else {
    const record = source as Readonly<Record<string, string>>;
    const names = Object.keys(record);
    if (names.length === 0) throw new ValidationError("uploadArtifact: the record of paths is empty");
    for (const name of names) {
      checkRelative(name, `record name ${JSON.stringify(name)}`);
      pairs.push([record[name] as string, name]);
    }
  }
  const seen = new Map<string, string>();
  const out: { localPath: string; path: string; type: "file" | "directory" }[] = [];
  for (const [p, rel] of pairs) {
    if (typeof p !== "string" || p === "") throw new ValidationError(`uploadArtifact: paths must be non-empty strings, got ${JSON.stringify(p)}`);
    const localPath = path.resolve(cwd, p);
    const info = await stat(localPath).catch((err: unknown) => {
      throw new ValidationError(`uploadArtifact: path ${JSON.stringify(p)} cannot be read: ${(err as Error).message}`, { cause: err });
    });
    if (!info.isFile() && !info.isDirectory()) throw new ValidationError(`uploadArtifact: path ${JSON.stringify(p)} must be a file or a directory`);
    const previous = seen.get(rel);
    if (previous !== undefined) {
      throw new ValidationError(`uploadArtifact: paths ${JSON.stringify(previous)} and ${JSON.stringify(p)} would both be stored as ${JSON.stringify(rel)}`);
    }
    seen.set(rel, p);
    out.push({ localPath, path: rel, type: info.isDirectory() ? "directory" : "file" });
  }
  return out;
}

async function listFiles(dir: string): Promise<{ rel: string; size: number }[]> {
  const out: { rel: string; size: number }[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    for (const entry of entries) {
      const childAbs = path.join(abs, entry.name);
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(childAbs, childRel);
      else {
        const info = await stat(childAbs).catch(() => undefined);
        if (info?.isFile()) out.push({ rel: childRel, size: info.size });
      }
    }
  };
  await walk(dir, "");
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

async function runPool<T>(tasks: readonly T[], concurrency: number, run: (task: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < tasks.length) {
      const i = next++;
      try {
        await run(tasks[i] as T, i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  if (failed !== undefined) throw failed;
}

function checkConcurrency(value: number | undefined): number {
  const n = value ?? 8;
  if (!Number.isInteger(n) || n < 1) throw new ValidationError(`Artifact transfer: 'concurrency' must be a positive integer, got ${value}`);
  return n;
}


/** Aggregates progress and throttles the {@link ArtifactTransferOptions.onProgress} callback. */
class ProgressTracker {
  private bytes = 0;
  private files = 0;
  private last = 0;

  constructor(
    private readonly totalBytes: number,
    private readonly totalFiles: number,
    private readonly options: ArtifactTransferOptions,
  ) {}

  add(bytes: number): void {
    this.bytes += bytes;
    this.emit(false);
  }

  fileDone(): void {
    this.files++;
    this.emit(false);
  }

  finish(): void {
    this.emit(true);
  }

  private emit(final: boolean): void {
    if (!this.options.onProgress) return;
    const now = Date.now();
    if (!final && now - this.last < 100) return;
    this.last = now;
    this.options.onProgress({ bytes: this.bytes, totalBytes: this.totalBytes, files: this.files, totalFiles: this.totalFiles });
  }
}
