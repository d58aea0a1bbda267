/** The one abortable sleep of the local engine and its executors. */

/**
 * Resolves after `ms` milliseconds, or at once when `signal` is (or gets) aborted; never
 * rejects. Callers look at `signal.aborted` to tell which.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
