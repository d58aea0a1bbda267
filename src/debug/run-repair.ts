/**
 * What a killed engine may leave in a run's folder, made right by the next engine before it
 * writes: a torn last line of the journal, temporary files of interrupted writes.
 */
import fs from "node:fs/promises";
import path from "node:path";

/**
 * Cuts a torn last line off the journal (a crash or a full disk in the middle of an append),
 * so that the next line starts on a line of its own instead of being glued to the torn one.
 */
export async function repairJournal(file: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r+");
  } catch {
    return; // no journal yet
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return;
    // Read backwards in chunks up to the last newline.
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    let end = size;
    let keep = 0;
    let lastByte = true;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      if (lastByte && chunk[bytesRead - 1] === 0x0a) return; // ends with a whole line
      lastByte = false;
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        keep = start + nl + 1;
        break;
      }
      end = start;
    }
    await handle.truncate(keep);
  } finally {
    await handle.close();
  }
}

/**
 * Removes the temporary files (`*.tmp-PID-N` of atomic writes, `*.opflow-tmp-…` of artifact
 * transfers) a killed engine left in the run folder and in its step folders' contract
 * sub-folders. One engine holds a run at a time, so none of them is being written.
 */
export async function removeStaleTemporaries(runDir: string): Promise<void> {
  const TEMPORARY = /\.(tmp-\d+(-\d+)?|opflow-tmp-[0-9a-f]{16})$/;
  /** Removes the temporaries in `dir`; returns its sub-folders. */
  const sweep = async (dir: string): Promise<string[]> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    const folders: string[] = [];
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (TEMPORARY.test(e.name)) await fs.rm(p, { recursive: true, force: true }).catch(() => undefined);
      else if (e.isDirectory() && !e.name.startsWith(".")) folders.push(p);
    }
    return folders;
  };
  // The run folder, each step folder, its inputs/ and outputs/ and their parameters/ and
  // artifacts/: where the engine writes. Never a step's workdir/ (the step's own files).
  const steps = await sweep(runDir);
  await Promise.all(
    steps.map(async (step) => {
      await sweep(step);
      for (const side of ["inputs", "outputs"]) {
        await sweep(path.join(step, side));
        for (const kind of ["parameters", "artifacts"]) await sweep(path.join(step, side, kind));
      }
    }),
  );
}
