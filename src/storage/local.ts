import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { StorageError } from "../errors.ts";
import {
  isTemporaryKey,
  temporaryKey,
  validateStorageKey,
  type StorageClient,
  type StoredObject,
  type TransferOptions,
} from "./client.ts";
import { toStorageError } from "./retry.ts";

/** Options of a {@link LocalStorageClient}. */
export interface LocalStorageOptions {
  /** The folder holding the objects; object `a/b` is the file `<root>/a/b`. Created on first write. */
  readonly root: string;
}

/**
 * A {@link StorageClient} over a local folder: the embedded default of the local engine.
 * Object `a/b/c.tgz` is the file `<root>/a/b/c.tgz`. Writes go to a temporary file beside
 * the target, then are renamed into place, so readers never see a partial object.
 *
 * @example
 * ```ts
 * const storage = new LocalStorageClient({ root: "/tmp/opflow-store" });
 * await storage.upload("result.json", "wf/step/result.json");
 * await storage.download("wf/step/result.json", "copy.json");
 * ```
 */
export class LocalStorageClient implements StorageClient {
  /** Absolute path of the root folder. */
  readonly root: string;
  readonly location: string;

  constructor(options: LocalStorageOptions) {
    if (!options || typeof options.root !== "string" || options.root === "") {
      throw new StorageError(`LocalStorageClient: 'root' must be a non-empty folder path, got ${JSON.stringify(options?.root)}`);
    }
    this.root = path.resolve(options.root);
    this.location = pathToFileURL(this.root).href;
  }

  /** The local file holding `key`. */
  pathOf(key: string): string {
    validateStorageKey(key);
    return path.join(this.root, ...key.split("/"));
  }

  async upload(localPath: string, key: string, options: TransferOptions = {}): Promise<StoredObject> {
    const target = this.pathOf(key);
    return this.guard("upload", key, async () => {
      const info = await stat(localPath);
      if (!info.isFile()) throw new Error(`${localPath} is not a regular file`);
      const md5 = await copyAtomically(localPath, target, info.size, options);
      return { key, size: info.size, md5 };
    });
  }

  async download(key: string, localPath: string, options: TransferOptions = {}): Promise<void> {
    const source = this.pathOf(key);
    await this.guard("download", key, async () => {
      const info = await stat(source);
      await copyAtomically(source, path.resolve(localPath), info.size, options);
    });
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    // Walk only the deepest folder named by the prefix, then filter by the full prefix.
    const slash = prefix.lastIndexOf("/");
    const base = slash >= 0 ? prefix.slice(0, slash) : "";
    const start = base === "" ? this.root : path.join(this.root, ...base.split("/"));
    await this.guard("list", prefix, async () => {
      await walk(start, base, out);
    });
    return out.filter((k) => k.startsWith(prefix) && !isTemporaryKey(k)).sort();
  }

  async copy(srcKey: string, dstKey: string): Promise<void> {
    const source = this.pathOf(srcKey);
    const target = this.pathOf(dstKey);
    await this.guard("copy", `${srcKey} -> ${dstKey}`, async () => {
      const info = await stat(source);
      await copyAtomically(source, target, info.size, {});
    });
  }

  async md5(key: string): Promise<string | undefined> {
    const file = this.pathOf(key);
    return this.guard("md5", key, async () => {
      if (!(await isFile(file))) return undefined;
      const hash = createHash("md5");
      await pipeline(createReadStream(file), hash);
      return hash.digest("hex");
    });
  }

  async exists(key: string): Promise<boolean> {
    return isFile(this.pathOf(key));
  }

  async remove(key: string): Promise<void> {
    const file = this.pathOf(key);
    await this.guard("remove", key, async () => {
      if (await isFile(file)) await rm(file, { force: true });
    });
  }

  private async guard<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw toStorageError(err, { operation, endpoint: this.location, key });
    }
  }
}

/** Copies `source` to `target` through a temporary sibling, hashing and reporting progress. */
async function copyAtomically(source: string, target: string, size: number, options: TransferOptions): Promise<string> {
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = temporaryKey(target);
  const hash = createHash("md5");
  let done = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      hash.update(chunk);
      done += chunk.length;
      options.onProgress?.(done, size);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(source), meter, createWriteStream(tmp));
    const md5 = hash.digest("hex");
    if (options.expectedMd5 !== undefined && options.expectedMd5.toLowerCase() !== md5) {
      throw Object.assign(new Error(`MD5 mismatch: expected ${options.expectedMd5}, got ${md5}`), { code: "BadDigest" });
    }
    await rename(tmp, target);
    return md5;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function walk(dir: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return;
    throw err;
  }
  for (const entry of entries) {
    const key = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) await walk(path.join(dir, entry.name), key, out);
    else if (entry.isFile()) out.push(key);
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
