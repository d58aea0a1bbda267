/**
 * Process identity: a pid names a process only while it lives. After a crash, a reboot or a
 * wrap-around of pid numbers, a recorded pid may name an unrelated process (an unrelated
 * `sleep` was seen killed that way). A {@link ProcessIdentity} adds what tells processes apart
 * on Linux: the start time from `/proc/<pid>/stat` (clock ticks since boot) and the boot id, and
 * {@link isSameProcess} checks both before anyone signals a recorded pid.
 */
import { readFileSync } from "node:fs";
import { processStartTime } from "./proc-start.mjs";

export { processStartTime };

/** A process as recorded: its pid, and on Linux its start time and the boot it started in. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of `/proc/<pid>/stat`: start time in clock ticks after boot. */
  readonly startTime?: string;
  /** `/proc/sys/kernel/random/boot_id` when the record was made. */
  readonly bootId?: string;
}

let cachedBootId: string | null | undefined;

/** This boot's id, or undefined where there is no `/proc` (not Linux). */
export function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId ?? undefined;
}

/**
 * The identity of a live process (default: this one), to record beside its pid.
 *
 * @example
 * writeFileSync("engine.pid", formatIdentity(processIdentity()));
 */
export function processIdentity(pid: number = process.pid, knownStart?: string): ProcessIdentity {
  const startTime = knownStart ?? processStartTime(pid);
  const boot = bootId();
  return { pid, ...(startTime !== undefined ? { startTime } : {}), ...(boot !== undefined ? { bootId: boot } : {}) };
}

/**
 * Whether the recorded process still runs: same pid, same boot, same start time. Where the
 * system has no `/proc` it can only check that the pid is in use. A record without a start time
 * or boot id (an older engine's) is not trusted on Linux.
 */
export function isSameProcess(id: ProcessIdentity): boolean {
  if (!Number.isInteger(id.pid) || id.pid <= 1) return false;
  const boot = bootId();
  if (boot === undefined) return pidInUse(id.pid);
  if (id.bootId !== boot || id.startTime === undefined) return false;
  return processStartTime(id.pid) === id.startTime;
}

function pidInUse(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** One line for a pid file: `pid startTime bootId` (the pid first, for people and older readers). */
export function formatIdentity(id: ProcessIdentity): string {
  return [id.pid, id.startTime ?? "-", id.bootId ?? "-"].join(" ");
}

/** Reads what {@link formatIdentity} wrote (a bare pid too); undefined when it holds no pid. */
export function parseIdentity(text: string): ProcessIdentity | undefined {
  const [pidText = "", start, boot] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, ...(start && start !== "-" ? { startTime: start } : {}), ...(boot && boot !== "-" ? { bootId: boot } : {}) };
}

/**
 * Sends `signal` to the recorded process, or with `group` to its process group, only when
 * {@link isSameProcess} confirms it is still that process. Returns whether a signal was sent.
 */
export function signalIfSame(id: ProcessIdentity, signal: NodeJS.Signals, group = false): boolean {
  if (!isSameProcess(id)) return false;
  try {
    process.kill(group ? -id.pid : id.pid, signal);
    return true;
  } catch {
    return false;
  }
}
