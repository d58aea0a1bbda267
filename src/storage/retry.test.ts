import { describe, expect, it } from "vitest";
import { StorageError } from "../errors.ts";
import { isTransientStorageError, withRetry } from "./retry.ts";

const target = { operation: "upload", endpoint: "127.0.0.1:9000", bucket: "b", key: "wf/a.tgz" };
const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe("withRetry", () => {
  it("retries transient errors and returns the first success", async () => {
    let calls = 0;
    const value = await withRetry(async () => {
      calls++;
      if (calls < 3) throw coded("ECONNRESET");
      return "ok";
    }, target, { attempts: 4, baseDelayMs: 1 });
    expect(value).toBe("ok");
    expect(calls).toBe(3);
  });

  it("does not retry permanent errors and names endpoint, bucket and key", async () => {
    let calls = 0;
    const err = await withRetry(async () => {
      calls++;
      throw coded("AccessDenied", "Access Denied.");
    }, target, { baseDelayMs: 1 }).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toBe(
      "Storage: upload of 127.0.0.1:9000/b/wf/a.tgz failed: AccessDenied: Access Denied. (the credentials are not allowed this operation)",
    );
  });

  it("gives up after the last attempt with the attempt count", async () => {
    const err = await withRetry(async () => {
      throw coded("SlowDown");
    }, target, { attempts: 2, baseDelayMs: 1 }).catch((e: unknown) => e);
    expect((err as Error).message).toContain("after 2 attempts");
  });

  it("classifies errors", () => {
    expect(isTransientStorageError(coded("ECONNREFUSED"))).toBe(true);
    expect(isTransientStorageError(Object.assign(new Error("x"), { statusCode: 503 }))).toBe(true);
    expect(isTransientStorageError(new Error("socket hang up"))).toBe(true);
    expect(isTransientStorageError(coded("NoSuchKey"))).toBe(false);
    expect(isTransientStorageError(new StorageError("already wrapped"))).toBe(false);
    expect(isTransientStorageError("not an error")).toBe(false);
  });
});
