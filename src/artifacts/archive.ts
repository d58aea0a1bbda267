import { randomBytes } from "node:crypto";
import { copyFile, lstat, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { StorageError, ValidationError } from "../errors.ts";
import { pathExists } from "../files.ts";

/**
 * How an artifact is stored: `tar` is a gzip-compressed tarball (Argo's default, key suffix
 * `.tgz`); `none` stores a file as it is (and a directory as one object per file).
 */
export type ArchiveFormat = "tar" | "none";

/** Options of {@link packArtifact}. */
export interface PackOptions {
  /**
   * The archive format.
   * @default "tar"
   */
  readonly archive?: ArchiveFormat;
  /**
   * gzip level for `tar`, 0 (store) to 9 (smallest).
   * @default 6 (gzip's default, as Argo)
   */
  readonly compressionLevel?: number;
}

/** What {@link packArtifact} wrote. */
export interface PackResult {
  /** The format used. */
  readonly archive: ArchiveFormat;
  /** The file written. */
  readonly file: string;
  /** Its size in bytes. */
  readonly size: number;
  /** Whether the source was a file or a directory. */
  readonly type: "file" | "directory";
}

/** Options of {@link unpackArtifact}. */
export interface UnpackOptions {
  /**
   * The format of the file; `auto` detects a (gzip-compressed) tarball by its content, as
   * Argo does, and otherwise treats the file as the artifact itself.
   * @default "auto"
   */
  readonly archive?: ArchiveFormat | "auto";
  /**
   * Replace `dest` when it already exists.
   * @default false: an existing `dest` is an error
   */
  readonly overwrite?: boolean;
}

/**
 * An archive entry that would write outside the destination (tar-slip), or an entry type that
 * artifacts may not hold. Nothing is extracted when this is thrown.
 */
export class UnsafeArchiveError extends ValidationError {
  override readonly name: string = "UnsafeArchiveError";
  constructor(
    /** The archive file. */
    readonly archive: string,
    /** The offending entry's path as written in the archive. */
    readonly entry: string,
    /** The rule it breaks. */
    readonly rule: string,
  ) {
    super(`Archive ${JSON.stringify(archive)}: entry ${JSON.stringify(entry)} rejected: ${rule}; nothing was extracted`);
  }
}

/**
 * Packs a file or directory for storage. With `tar` (the default) writes a `.tgz` whose single
 * top-level entry is the source's base name (Argo's layout, so Argo and opflow read each
 * other's artifacts); with `none` copies the file (directories need `tar`, or
 * `uploadArtifact` with `archive: "none"`). `destFile` appears only when complete.
 *
 * @example
 * ```ts
 * await packArtifact("outputs/artifacts/model", "/tmp/model.tgz");             // tar.gz
 * await packArtifact("outputs/artifacts/log.txt", "/tmp/log.txt", { archive: "none" });
 * ```
 */
export async function packArtifact(src: string, destFile: string, options: PackOptions = {}): Promise<PackResult> {
  const archive = options.archive ?? "tar";
  const level = options.compressionLevel ?? 6;
  if (archive !== "tar" && archive !== "none") {
    throw new ValidationError(`packArtifact: 'archive' must be "tar" or "none", got ${JSON.stringify(archive)}`);
  }
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new ValidationError(`packArtifact: 'compressionLevel' must be an integer from 0 to 9, got ${level}`);
  }
  const source = path.resolve(src);
  const info = await stat(source).catch((err: unknown) => {
    throw new StorageError(`packArtifact: source ${JSON.stringify(src)} cannot be read: ${(err as Error).message}`, { cause: err });
  });
  const type = info.isDirectory() ? "directory" : "file";
  if (!info.isDirectory() && !info.isFile()) {
    throw new ValidationError(`packArtifact: source ${JSON.stringify(src)} must be a file or a directory`);
  }
  if (archive === "none" && type === "directory") {
    throw new ValidationError(
      `packArtifact: source ${JSON.stringify(src)} is a directory; archive "none" packs files only (use "tar", or uploadArtifact with archive "none")`,
    );
  }
  const target = path.resolve(destFile);
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.opflow-tmp-${randomBytes(8).toString("hex")}`;
  try {
    if (archive === "none") await copyFile(source, tmp);
    else {
      await (await import("tar")).create(
        { gzip: { level }, file: tmp, cwd: path.dirname(source), portable: true, follow: false },
        [path.basename(source)],
      );
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err instanceof StorageError ? err : new StorageError(`packArtifact: packing ${JSON.stringify(src)} into ${JSON.stringify(destFile)} failed: ${(err as Error).message}`, { cause: err });
  }
  return { archive, file: target, size: (await stat(target)).size, type };
}

/**
 * Unpacks an artifact file to `dest` (the artifact's path: a file or a directory). A tarball
 * with a single top-level entry becomes `dest` itself (Argo's rule); one with several becomes
 * a directory `dest` holding them. A non-archive file is copied to `dest`.
 *
 * Extraction is safe: every entry is checked before anything is written, and an archive with
 * an absolute path, a `..` segment, a symbolic or hard link pointing outside, a path through
 * such a link, or a device/FIFO entry is rejected with an {@link UnsafeArchiveError}. The
 * archive is extracted into a temporary sibling of `dest` and renamed into place, so `dest`
 * appears only complete.
 *
 * @example
 * ```ts
 * await unpackArtifact("/tmp/model.tgz", "inputs/artifacts/model");
 * ```
 */
export async function unpackArtifact(file: string, dest: string, options: UnpackOptions = {}): Promise<"file" | "directory"> {
  const archivePath = path.resolve(file);
  const target = path.resolve(dest);
  const format = options.archive ?? "auto";
  let isTar = format === "tar" || (format === "auto" && (await looksLikeTar(archivePath)));
  if (isTar) {
    try {
      await checkArchive(archivePath);
    } catch (err) {
      // In `auto` mode a gzip file that is not a tarball is an artifact in its own right.
      if (format === "tar" || err instanceof UnsafeArchiveError) throw err;
      isTar = false;
    }
  }
  if (await pathExists(target)) {
    if (!options.overwrite) {
      throw new StorageError(`unpackArtifact: destination ${JSON.stringify(dest)} already exists (pass overwrite: true to replace it)`);
    }
  }
  await mkdir(path.dirname(target), { recursive: true });
  const suffix = `.opflow-tmp-${randomBytes(8).toString("hex")}`;
  if (!isTar) {
    const tmp = `${target}${suffix}`;
    try {
      await copyFile(archivePath, tmp);
      if (options.overwrite) await rm(target, { recursive: true, force: true });
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new StorageError(`unpackArtifact: copying ${JSON.stringify(file)} to ${JSON.stringify(dest)} failed: ${(err as Error).message}`, { cause: err });
    }
    return "file";
  }
  const staging = `${target}${suffix}`;
  await mkdir(staging);
  try {
    await (await import("tar")).extract({
      file: archivePath,
      cwd: staging,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
    });
    const top = await readdir(staging);
    const only = top.length === 1 ? path.join(staging, top[0] as string) : undefined;
    const source = only ?? staging;
    if (options.overwrite) await rm(target, { recursive: true, force: true });
    await rename(source, target);
    const kind = (await lstat(target)).isDirectory() ? "directory" : "file";
    return kind;
  } catch (err) {
    throw err instanceof StorageError
      ? err
      : new StorageError(`unpackArtifact: extracting ${JSON.stringify(file)} to ${JSON.stringify(dest)} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** One entry as read from an archive header. */
interface Entry {
  readonly path: string;
  readonly type: string;
  readonly linkpath: string | undefined;
}

const ALLOWED_TYPES = new Set(["File", "OldFile", "ContiguousFile", "Directory", "SymbolicLink", "Link"]);

/**
 * Reads every header of a tarball and throws an {@link UnsafeArchiveError} if any entry
 * could write outside the extraction folder. Nothing is written.
 *
 * @example
 * ```ts
 * await checkArchive("untrusted.tgz"); // throws on ../, /abs, or escaping links
 * ```
 */
export async function checkArchive(file: string): Promise<void> {
  const entries: Entry[] = [];
  try {
    await (await import("tar")).list({
      file,
      strict: true,
      onReadEntry: (entry) => {
        entries.push({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
        entry.resume();
      },
    });
  } catch (err) {
    throw new StorageError(`Archive ${JSON.stringify(file)} cannot be read as a tarball: ${(err as Error).message}`, { cause: err });
  }
  const links = new Map<string, string>();
  const normalised = entries.map((entry) => {
    const rel = normalise(file, entry);
    if (entry.type === "SymbolicLink") links.set(rel, entry.linkpath ?? "");
    return { entry, rel };
  });
  // unpackArtifact promotes a single top-level entry to the destination itself: links must
  // then stay inside that entry, since what is beside it in the staging folder is not kept.
  const tops = new Set(normalised.map(({ rel }) => rel.split("/")[0] as string).filter((t) => t !== "."));
  const only = tops.size === 1 ? ([...tops][0] as string) : undefined;
  const confined = (resolved: string): boolean => only === undefined || resolved === only || resolved.startsWith(`${only}/`);
  for (const { entry, rel } of normalised) {
    if (!ALLOWED_TYPES.has(entry.type)) {
      throw new UnsafeArchiveError(file, entry.path, `entry type ${entry.type} is not allowed in an artifact`);
    }
    // The folder the entry is written in must resolve inside, through any link in the archive.
    const parent = path.posix.dirname(rel);
    const folder = parent === "." ? "." : resolveInside(parent, links);
    if (folder === undefined || (parent !== "." && !confined(folder))) {
      throw new UnsafeArchiveError(file, entry.path, "its folder resolves, through a symbolic link, outside the destination");
    }
    if (entry.type === "SymbolicLink" || entry.type === "Link") {
      const link = entry.linkpath ?? "";
      if (link === "") throw new UnsafeArchiveError(file, entry.path, "link with an empty target");
      if (link.includes("\0")) throw new UnsafeArchiveError(file, entry.path, "link target contains NUL");
      if (path.posix.isAbsolute(link) || /^[a-zA-Z]:[\\/]/.test(link) || link.startsWith("\\")) {
        throw new UnsafeArchiveError(file, entry.path, `link target ${JSON.stringify(link)} is an absolute path`);
      }
      // A symbolic link is relative to its own folder; a hard link names an archive path.
      // (Joined as text: path.join would fold `a/..` lexically, hiding an escape through `a`.)
      const joined = entry.type === "SymbolicLink" && parent !== "." ? `${parent}/${link}` : link;
      const resolved = resolveInside(joined, links);
      if (resolved === undefined || !confined(resolved)) {
        throw new UnsafeArchiveError(file, entry.path, `link target ${JSON.stringify(link)} escapes the destination`);
      }
    }
  }
  if (only !== undefined && links.has(only)) {
    throw new UnsafeArchiveError(file, only, "the artifact's single top-level entry is a symbolic link");
  }
}

/** Checks an entry's own path and returns it normalised (no `./`, no trailing `/`). */
function normalise(file: string, entry: Entry): string {
  const raw = entry.path;
  if (raw.includes("\0")) throw new UnsafeArchiveError(file, raw, "path contains NUL");
  if (path.posix.isAbsolute(raw) || /^[a-zA-Z]:/.test(raw) || raw.startsWith("\\")) {
    throw new UnsafeArchiveError(file, raw, "absolute path");
  }
  const segments = raw.split(/[\\/]/);
  if (segments.includes("..")) throw new UnsafeArchiveError(file, raw, "path contains a '..' segment");
  const kept = segments.filter((s) => s !== "" && s !== ".");
  return kept.length === 0 ? "." : kept.join("/");
}

/**
 * Resolves a relative path inside the extraction root, following the archive's symbolic
 * links as the file system would; undefined when it leaves the root (or loops).
 */
function resolveInside(relPath: string, links: ReadonlyMap<string, string>): string | undefined {
  const stack: string[] = [];
  const queue = relPath.split(/[\\/]/);
  let hops = 0;
  while (queue.length > 0) {
    const segment = queue.shift() as string;
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (stack.length === 0) return undefined;
      stack.pop();
      continue;
    }
    stack.push(segment);
    const target = links.get(stack.join("/"));
    if (target !== undefined) {
      if (++hops > 40) return undefined;
      if (path.posix.isAbsolute(target) || /^[a-zA-Z]:/.test(target)) return undefined;
      stack.pop();
      queue.unshift(...target.split(/[\\/]/));
    }
  }
  return stack.join("/");
}

/** Whether a file starts like a gzip stream or a plain ustar tarball. */
async function looksLikeTar(file: string): Promise<boolean> {
  const handle = await open(file, "r").catch((err: unknown) => {
    throw new StorageError(`unpackArtifact: ${JSON.stringify(file)} cannot be read: ${(err as Error).message}`, { cause: err });
  });
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    return bytesRead >= 262 && head.subarray(257, 262).toString("latin1") === "ustar";
  } finally {
    await handle.close();
  }
}

