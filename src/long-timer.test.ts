import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_TIMEOUT_MS, setLongTimeout } from "./long-timer.ts";

const DAY = 24 * 3600_000;

afterEach(() => {
  vi.useRealTimers();
});

describe("setLongTimeout", () => {
  it("waits 30 days, not 1 ms, past setTimeout's 2^31 ms limit", () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    setLongTimeout(fn, 30 * DAY);
    vi.advanceTimersByTime(MAX_TIMEOUT_MS + 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY - MAX_TIMEOUT_MS - 2);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(100 * DAY);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("never fires for Infinity, fires at once for negative delays, and can be cleared across links", () => {
    vi.useFakeTimers();
    const never = vi.fn();
    setLongTimeout(never, Infinity);
    const soon = vi.fn();
    setLongTimeout(soon, -5);
    const cleared = vi.fn();
    const t = setLongTimeout(cleared, 60 * DAY).unref();
    vi.advanceTimersByTime(40 * DAY);
    t.clear();
    vi.advanceTimersByTime(400 * DAY);
    expect(never).not.toHaveBeenCalled();
    expect(soon).toHaveBeenCalledTimes(1);
    expect(cleared).not.toHaveBeenCalled();
  });
});
