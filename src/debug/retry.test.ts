import { describe, expect, it } from "vitest";
import { parseDuration } from "../duration.ts";
import { decideRetry, type Attempt } from "./retry.ts";

const failed = (startedAt: number, finishedAt: number, exitCode = 1): Attempt => ({ phase: "Failed", exitCode, startedAt, finishedAt });
const never = (): boolean => {
  throw new Error("not called");
};

describe("retry decisions", () => {
  it("parses Argo durations", () => {
    expect(parseDuration("1", "t")).toBe(1000);
    expect(parseDuration("1m30s", "t")).toBe(90_000);
    expect(parseDuration("250ms", "t")).toBe(250);
    expect(parseDuration(2, "t")).toBe(2000);
    expect(() => parseDuration("soon", "template \"t\": timeout")).toThrow(/template "t": timeout: expects a duration/);
  });

  it("waits duration × factor^n capped by cap (retry-backoff.yaml)", () => {
    const s = { limit: "10", backoff: { duration: "1", factor: "2", cap: "5", maxDuration: "1m" } };
    const attempts: Attempt[] = [];
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      attempts.push(failed(i * 10, i * 10 + 1));
      const d = decideRetry(s, attempts, "t", never, 100);
      waits.push(d.retry ? d.waitMs : -1);
    }
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it("stops at the limit, past maxDuration, and on policy", () => {
    const two = [failed(0, 1), failed(2, 3)];
    expect(decideRetry({ limit: 1 }, two, "t", never)).toEqual({ retry: false, message: "No more retries left" });
    expect(decideRetry({ limit: 5, backoff: { duration: "1", maxDuration: "10s" } }, two, "t", never, 20_000)).toEqual({ retry: false, message: "Max duration limit exceeded" });
    expect(decideRetry({ limit: 5, retryPolicy: "OnError" }, two, "t", never)).toMatchObject({ retry: false });
    expect(decideRetry({ limit: 5, retryPolicy: "OnTransientError" }, [failed(0, 1, 75)], "t", never)).toMatchObject({ retry: true });
    expect(decideRetry({ limit: 5, retryPolicy: "Always" }, [failed(0, 1, 76)], "t", never)).toMatchObject({ retry: false });
    expect(decideRetry({ limit: 5, expression: "x" }, [failed(0, 1)], "t", (_e, env) => (env["lastRetry"] as { exitCode: string }).exitCode === "2")).toEqual({
      retry: false,
      message: "retryStrategy.expression evaluated to false",
    });
  });

  it("says under an OP's default policy that only TransientErrors are retried, and how to retry any failure", () => {
    const d = decideRetry({ limit: 3, retryPolicy: "Always", expression: "asInt(lastRetry.exitCode) == 75" }, [{ ...failed(0, 1), message: "Error: boom" }], "t", (_e, env) => (env["lastRetry"] as { exitCode: string }).exitCode === "75");
    expect(d).toEqual({
      retry: false,
      message:
        'retryStrategy.expression evaluated to false: under this retry policy only a TransientError (exit code 75) is retried, and the attempt ended with exit code 1 (Error: boom); throw TransientError for failures worth retrying, or retry on any failure with retry: { limit: N, on: "failure" }',
    });
  });
});
