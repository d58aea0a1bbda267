/**
 * Timers for deadlines of any length. Node's `setTimeout` takes at most 2^31-1 ms (24.8 days)
 * and fires at once beyond that, so `activeDeadlineSeconds: 2592000` or `timeout: 720h` would
 * end a step as soon as it started. A long timer chains shorter ones.
 */

/** The longest delay `setTimeout` honours. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A timer from {@link setLongTimeout}. */
export interface LongTimer {
  /** Cancels the timer (nothing happens when it has fired already). */
  clear(): void;
  /** Lets the process exit while the timer is pending; returns the timer. */
  unref(): LongTimer;
}

/**
 * Calls `fn` once after `ms` milliseconds, for any `ms` (`Infinity`: never). Negative or NaN
 * delays fire on the next turn, as `setTimeout` does.
 *
 * @example
 * const t = setLongTimeout(() => stop("Workflow exceeded its deadline"), 30 * 24 * 3600_000);
 * t.unref();
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let handle: NodeJS.Timeout | undefined;
  let unref = false;
  let cleared = false;
  const due = Number.isNaN(ms) ? Date.now() : Date.now() + Math.max(0, ms);
  const arm = (): void => {
    if (cleared || due === Infinity) return;
    const left = due - Date.now();
    if (left > MAX_TIMEOUT_MS) {
      handle = setTimeout(arm, MAX_TIMEOUT_MS);
    } else {
      handle = setTimeout(() => {
        handle = undefined;
        if (!cleared) fn();
      }, Math.max(0, left));
    }
    if (unref) handle.unref();
  };
  arm();
  const timer: LongTimer = {
    clear() {
      cleared = true;
      if (handle) clearTimeout(handle);
      handle = undefined;
    },
    unref() {
      unref = true;
      handle?.unref();
      return timer;
    },
  };
  return timer;
}
