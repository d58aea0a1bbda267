/**
 * Small file-system helpers shared by the OP runner, the local engine and the artifact layer.
 */
import { rename as renameCb, unlink as unlinkCb, writeFile as writeFileCb } from "node:fs";
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
      if (err) return reject(err);
      renameCb(tmp, file, (err2) => {
        if (!err2) return resolve();
        unlinkCb(tmp, () => reject(err2));
      });
    });
  });
}

