// @ts-check
/**
 * A process's start time from `/proc` (Linux): with the boot id it tells a live process from
 * another that later got the same pid. Plain JavaScript, shared by the launcher (which reads it
 * the moment it starts a process, before that process can be reaped) and the engine.
 */
import { readFileSync } from "node:fs";

/**
 * The start time of `pid` in clock ticks after boot, or undefined when there is no such
 * process or no `/proc`.
 * @param {number} pid
 * @returns {string | undefined}
 */
export function processStartTime(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19]; // field 22 overall: after pid and comm, the 20th
}
