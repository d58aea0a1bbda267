/**
 * Checksums of what goes into a node digest but lives outside the manifest: the bytes of input
 * artifacts (a file or a folder tree) and the source of the module that defines an OP.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { ArtifactRef } from "./artifact-io.ts";

async function feed(hash: Hash, p: string, top = false): Promise<void> {
  // The artifact itself may be a link (to the file a step wrote): its content counts; links inside a folder count as links.
  const info = top ? await fs.stat(p) : await fs.lstat(p);
  if (info.isSymbolicLink()) {
    hash.update(`l${await fs.readlink(p)}\0`);
  } else if (info.isDirectory()) {
    const entries = (await fs.readdir(p)).sort();
    hash.update(`d${entries.length}\0`);
    for (const e of entries) {
      hash.update(`${e}\0`);
      await feed(hash, path.join(p, e));
    }
  } else {
    // The executable bit matters (a script artifact); other mode bits and times do not.
    hash.update(`f${info.mode & 0o111 ? "x" : "-"}${info.size}\0`);
    for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
  }
}

/**
 * `sha256:<hex>` of a file's bytes, or of a folder tree (names, contents, executable bits and
 * link targets; not times).
 *
 * @example
 * ```ts
 * await contentChecksum("runs/wf/gen/outputs/artifacts/data");  // "sha256:9f86d0…"
 * ```
 */
export async function contentChecksum(p: string): Promise<string> {
  const hash = createHash("sha256");
  await feed(hash, p, true);
  return `sha256:${hash.digest("hex")}`;
}

/**
 * The checksum of an input artifact for a node digest: its bytes when they are on this machine
 * (an earlier step's output), else what names them uniquely — inline data, or the store key
 * with the store's MD5 when `md5` can tell it.
 */
export async function artifactChecksum(ref: ArtifactRef, md5?: (key: string) => Promise<string | undefined>): Promise<string> {
  if (ref.localPath) {
    try {
      return await contentChecksum(ref.localPath);
    } catch {
      /* gone: fall back on what names it */
    }
  }
  const a = ref.artifact;
  if (a.raw) return `sha256:${createHash("sha256").update(a.raw.data).digest("hex")}`;
  const key = a.s3?.key;
  if (key) {
    const sum = await md5?.(key).catch(() => undefined);
    return sum ? `md5:${sum}` : `key:${key}`;
  }
  return `none`;
}

const sourceHashes = new Map<string, { mtimeMs: number; size: number; hash: string }>();

/**
 * `sha256:<hex>` of the source file of an OP's module, or undefined when it cannot be read.
 * Cached by path, size and modification time.
 */
export function moduleSourceHash(file: string): string | undefined {
  try {
    const info = statSync(file);
    const known = sourceHashes.get(file);
    if (known && known.mtimeMs === info.mtimeMs && known.size === info.size) return known.hash;
    const hash = `sha256:${createHash("sha256").update(readFileSync(file)).digest("hex")}`;
    sourceHashes.set(file, { mtimeMs: info.mtimeMs, size: info.size, hash });
    return hash;
  } catch {
    return undefined;
  }
}
