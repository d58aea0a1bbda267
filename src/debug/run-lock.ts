/**
 * The run lock: one engine at a time in a run's folder (`<workdir>/<name>/engine.lock`).
 *
 * The lock file names its holder — pid, host, the kernel's boot id and the process's start
 * time (so that a recycled pid is not taken for the engine) — and is created whole: written to
 * a temporary file, then hard-linked to its name, which fails when a lock is already there. A
 * second engine on the same run reads it and refuses at once, naming the pid and host. A lock
 * whose holder is gone (killed, machine rebooted) is taken over; two engines racing for the
 * same stale lock are serialised by a claim file named after that lock's nonce, which only one
 * of them can create, so a live engine's lock is never removed by another.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { readFileSync, unlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineError } from "../errors.ts";
import { processStartTime } from "../executors/process-identity.ts";

/** File name of the lock inside a run's folder. */
export const LOCK_FILE = "engine.lock";

/** Who holds a run lock, as written in the lock file. */
export interface RunLockHolder {
  /** Process id of the engine. */
  readonly pid: number;
  /** Host name of the machine it runs on. */
  readonly host: string;
  /** `/proc/sys/kernel/random/boot_id` of that machine (Linux), to tell a reboot. */
  readonly bootId?: string;
  /** The process's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22). */
  readonly startTime?: string;
  /** When the lock was taken (ISO 8601). */
  readonly startedAt: string;
  /** Random tag of this lock, so that a takeover removes exactly the lock it judged stale. */
  readonly nonce: string;
}

/** A second engine tried to run a run that a live engine holds. */
export class RunLockedError extends EngineError {
  override readonly name: string = "RunLockedError";
  constructor(
    readonly run: string,
    readonly holder: RunLockHolder,
  ) {
    super(
      `run "${run}" is being run by another engine (pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}); ` +
        `wait for it to end, or stop it (opflow terminate ${run} --mode debug)` +
        (holder.host !== os.hostname() ? `; if that engine is gone, remove ${LOCK_FILE} from the run's folder` : ""),
    );
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The identity of this process as a lock holder. */
export function currentHolder(): RunLockHolder {
  const bootId = readText("/proc/sys/kernel/random/boot_id");
  const startTime = processStartTime(process.pid);
  return {
    pid: process.pid,
    host: os.hostname(),
    ...(bootId ? { bootId } : {}),
    ...(startTime ? { startTime } : {}),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(8).toString("hex"),
  };
}

/**
 * Whether the process a lock names still runs: the same machine (host and boot id), a live
 * pid, and — where `/proc` tells — the same start time (a recycled pid is another process).
 * A holder on another host cannot be checked and counts as alive.
 */
export function holderAlive(holder: RunLockHolder): boolean {
  if (holder.host !== os.hostname()) return true;
  const bootId = readText("/proc/sys/kernel/random/boot_id");
  if (holder.bootId && bootId && holder.bootId !== bootId) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (holder.startTime) {
    const now = processStartTime(holder.pid);
    if (now !== undefined && now !== holder.startTime) return false;
  }
  return true;
}

function parseHolder(text: string, file: string): RunLockHolder {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new EngineError(`run lock ${file}: not a lock this engine wrote (expected JSON with pid, host, startedAt, nonce), got ${JSON.stringify(text.slice(0, 80))}`);
  }
  const h = v as Partial<RunLockHolder>;
  if (typeof h.pid !== "number" || typeof h.host !== "string" || typeof h.nonce !== "string" || typeof h.startedAt !== "string") {
    throw new EngineError(`run lock ${file}: expected pid (number), host, startedAt and nonce (strings), got ${JSON.stringify(text.slice(0, 120))}`);
  }
  return h as RunLockHolder;
}

/** The holder named in `file`, or undefined when there is no such file. */
async function readHolder(file: string): Promise<RunLockHolder | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return parseHolder(text, file);
}

/** Creates `file` holding `holder`, whole, or returns false when something is there already. */
async function createWhole(file: string, holder: RunLockHolder): Promise<boolean> {
  const tmp = `${file}.new-${holder.pid}-${holder.nonce}`;
  await fs.writeFile(tmp, JSON.stringify(holder));
  try {
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Removes `file` if the holder it names is gone. Returns the live holder when there is one,
 * undefined when the file is gone (removed here or by another engine). Concurrent callers
 * agree through `<file>.takeover-<nonce>`: only the one that creates it removes the file, and
 * only while it still names that nonce; a claim whose own holder died is cleared the same way.
 */
async function removeIfStale(file: string, me: RunLockHolder, depth = 0): Promise<RunLockHolder | undefined> {
  for (let attempt = 0; ; attempt++) {
    const holder = await readHolder(file);
    if (!holder) return undefined;
    if (holderAlive(holder)) return holder;
    const claim = `${file}.takeover-${holder.nonce}`;
    if (await createWhole(claim, me)) {
      try {
        const again = await readHolder(file);
        if (again?.nonce === holder.nonce) await fs.rm(file, { force: true });
      } finally {
        await fs.rm(claim, { force: true });
      }
      return undefined;
    }
    // Another engine is taking the same stale lock over (milliseconds), or died doing it.
    if (depth < 8) await removeIfStale(claim, me, depth + 1);
    if (attempt > 200) throw new EngineError(`run lock ${file}: could not take over the lock of dead engine pid ${holder.pid} (claim ${path.basename(claim)} stays)`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A run lock this process holds; {@link release} it when the run ends. */
export class RunLock {
  private released = false;

  constructor(
    /** The lock file. */
    readonly file: string,
    /** This process, as the lock names it. */
    readonly holder: RunLockHolder,
    /** The lock of a dead engine that this one took over, if any. */
    readonly tookOverFrom?: RunLockHolder,
  ) {}

  /** Removes the lock file if it is still this lock. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const now = await readHolder(this.file).catch(() => undefined);
    if (now?.nonce === this.holder.nonce) await fs.rm(this.file, { force: true });
  }

  /** {@link release} for exit paths that cannot wait. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (parseHolder(readFileSync(this.file, "utf8"), this.file).nonce === this.holder.nonce) unlinkSync(this.file);
    } catch {
      /* gone already */
    }
  }
}

/**
 * Takes the lock of the run folder `dir` (created if missing) for this process. Throws
 * {@link RunLockedError} at once when a live engine holds it; takes over the lock of a dead one.
 *
 * @example
 * ```ts
 * const lock = await acquireRunLock("opflow-runs/hello-x7k2p");
 * try { … } finally { await lock.release(); }
 * ```
 */
export async function acquireRunLock(dir: string): Promise<RunLock> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const me = currentHolder();
  let stale: RunLockHolder | undefined;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await createWhole(file, me)) return new RunLock(file, me, stale);
    const seen = await readHolder(file);
    if (seen && !holderAlive(seen)) stale = seen;
    const live = await removeIfStale(file, me);
    if (live) throw new RunLockedError(path.basename(dir), live);
  }
  throw new EngineError(`run lock ${file}: could not be taken after 100 attempts (engines keep starting and ending on this run)`);
}

/** The holder of the lock of run folder `dir` when that engine is alive, else undefined. */
export async function liveRunLockHolder(dir: string): Promise<RunLockHolder | undefined> {
  const holder = await readHolder(path.join(dir, LOCK_FILE)).catch(() => undefined);
  return holder && holderAlive(holder) ? holder : undefined;
}
