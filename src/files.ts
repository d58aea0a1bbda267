/**
 * Small file-system helpers shared by the OP runner, the local engine and the artifact layer.
 */
import { rename as renameCb, renameSync, rmSync, unlink as unlinkCb, writeFile as writeFileCb, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

let tmpCounter = 0;

/** Whether anything (a file, a folder, a link, even a dangling one) is at `p`. */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `data` to `file` atomically: a temporary file in the same folder, then a rename.
 * Creates the parent folder when `mkdir` is true.
 *
 * @example
 * await atomicWrite("/runs/wf/status", "Succeeded");
 */
export async function atomicWrite(file: string, data: string | Uint8Array, mkdir = false): Promise<void> {
  if (mkdir) await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${++tmpCounter}`;
  // Callback fs: a fraction of the cost of fs/promises' FileHandle path for small files.
  await new Promise<void>((resolve, reject) => {
    writeFileCb(tmp, data, (err) => {
      // A failed write (a full disk) leaves no temporary file behind, and the error names the file.
      if (err) return unlinkCb(tmp, () => reject(namingFile(err, file)));
      renameCb(tmp, file, (err2) => {
        if (!err2) return resolve();
        unlinkCb(tmp, () => reject(namingFile(err2, file)));
      });
    });
  });
}

/**
 * {@link atomicWrite} without the thread pool: for small records (the engine's `phase` and output
 * parameters, the bundle cache's entries), where a couple of direct system calls cost far less
 * than queueing them behind other file operations.
 */
export function atomicWriteSync(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${++tmpCounter}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw namingFile(err, file);
  }
}

/**
 * The same error with a message that names `file`: a failed `write()` names none
 * ("ENOSPC: no space left on device, write"), and a message without the path helps nobody.
 */
export function namingFile(err: unknown, file: string): NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.message !== "string" || e.message.includes(file)) return e;
  const named: NodeJS.ErrnoException = new Error(`${e.message} (${file})`, { cause: e });
  if (e.code !== undefined) named.code = e.code;
  if (e.errno !== undefined) named.errno = e.errno;
  if (e.syscall !== undefined) named.syscall = e.syscall;
  named.path = file;
  return named;
}

