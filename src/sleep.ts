/** The one abortable sleep of the local engine and its executors. */
import { setLongTimeout } from "./long-timer.ts";

/**
 * Resolves after `ms` milliseconds, or at once when `signal` is (or gets) aborted; never
 * rejects. Callers look at `signal.aborted` to tell which.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    // Any length: a suspend of 30 days must not end at once (setTimeout's 2^31 ms limit).
    const t = setLongTimeout(done, ms);
    function done(): void {
      t.clear();
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
