import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";
import { EngineError, ValidationError } from "./errors.ts";
import { renderRetry } from "./template/retry.ts";

describe("durations (one grammar: Argo's)", () => {
  it("reads Go durations, whole seconds as strings and numbers of seconds", () => {
    expect(parseDuration("1m30s", "t")).toBe(90_000);
    expect(parseDuration("250ms", "t")).toBe(250);
    expect(parseDuration("1.5h", "t")).toBe(5_400_000);
    expect(parseDuration("2h45m", "t")).toBe(9_900_000);
    expect(parseDuration("30", "t")).toBe(30_000);
    expect(parseDuration("0", "t")).toBe(0);
    expect(parseDuration(2, "t")).toBe(2000);
    expect(parseDuration(0.5, "t")).toBe(500);
    expect(parseDuration("1000ns", "t")).toBeCloseTo(0.001);
  });

  it("accepts microseconds in every spelling Go does (the compiler used to reject 500us)", () => {
    expect(parseDuration("500us", "t")).toBe(0.5);
    expect(parseDuration("500µs", "t")).toBe(0.5);
    expect(parseDuration("500μs", "t")).toBe(0.5);
    // The compiler renders it as written, so Argo and the engine read the same value.
    expect(renderRetry("t", { limit: 1, backoff: { duration: "500us" } }, "failure").backoff).toEqual({ duration: "500us" });
  });

  it("rejects days, which neither Go nor Argo know (the authoring side used to accept 1d)", () => {
    expect(() => parseDuration("1d", 'Workflow: ttl.afterCompletion')).toThrow(ValidationError);
    expect(() => parseDuration("1d", "Workflow: ttl.afterCompletion")).toThrow(/Workflow: ttl.afterCompletion: .*"1d" is not a duration.*write hours, e.g. "24h"/);
    expect(() => parseDuration("2d", "x", EngineError)).toThrow(EngineError);
  });

  it("rejects bare decimals, signs, empty text and junk, naming the field and the value", () => {
    expect(() => parseDuration("1.5", "template \"t\": timeout")).toThrow(/template "t": timeout: expects a duration.*"1.5" is not a duration.*write "1.5s"/);
    expect(() => parseDuration("-1s", "t")).toThrow(/"-1s" is not a duration/);
    expect(() => parseDuration("", "t")).toThrow(/"" is not a duration/);
    expect(() => parseDuration("5 m", "t")).toThrow(/"5 m" is not a duration/);
    expect(() => parseDuration("soon", "t")).toThrow(/"soon" is not a duration/);
    expect(() => parseDuration("1s2", "t")).toThrow(/"1s2" is not a duration/);
    expect(() => parseDuration(-1, "t")).toThrow(/non-negative number of seconds, got -1/);
    expect(() => parseDuration(Number.NaN, "t")).toThrow(/non-negative number of seconds/);
  });

  it("renders whole seconds bare and fractions with a unit", () => {
    expect(renderRetry("t", { limit: 1, backoff: { duration: 2, cap: 0.5, maxDuration: "1m" } }, "failure").backoff).toEqual({ duration: "2", cap: "0.5s", maxDuration: "1m" });
  });
});
