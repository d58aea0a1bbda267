import { describe, expect, it } from "vitest";
import { sleep } from "./sleep.ts";

describe("sleep", () => {
  it("waits the time given", async () => {
    const t0 = Date.now();
    await sleep(50);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it("ends at once when its signal aborts, or was aborted already", async () => {
    const c = new AbortController();
    const t0 = Date.now();
    setTimeout(() => c.abort(), 20);
    await sleep(10_000, c.signal);
    expect(Date.now() - t0).toBeLessThan(2000);
    await sleep(10_000, c.signal);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
