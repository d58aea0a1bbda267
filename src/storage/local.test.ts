import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError, ValidationError } from "../errors.ts";
import { LocalStorageClient } from "./local.ts";

const md5 = (data: string): string => createHash("md5").update(data).digest("hex");
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "opflow-local-storage-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("LocalStorageClient", () => {
  it("stores objects as files under the root and round-trips them", async () => {
    const storage = new LocalStorageClient({ root: path.join(work, "store") });
    const file = path.join(work, "a.txt");
    await writeFile(file, "alpha");
    expect(await storage.upload(file, "wf/s1/a.txt")).toEqual({ key: "wf/s1/a.txt", size: 5, md5: md5("alpha") });
    expect(await readFile(path.join(work, "store", "wf", "s1", "a.txt"), "utf8")).toBe("alpha");
    expect(storage.location).toMatch(/^file:\/\//);
    await storage.copy("wf/s1/a.txt", "wf/s2/b.txt");
    expect(await storage.list("wf/")).toEqual(["wf/s1/a.txt", "wf/s2/b.txt"]);
    expect(await storage.list("wf/s1")).toEqual(["wf/s1/a.txt"]);
    expect(await storage.list("nothing/")).toEqual([]);
    expect(await storage.md5("wf/s2/b.txt")).toBe(md5("alpha"));
    expect(await storage.md5("wf/none")).toBeUndefined();
    const out = path.join(work, "out", "deep", "a.txt");
    const seen: number[] = [];
    await storage.download("wf/s2/b.txt", out, { onProgress: (n) => seen.push(n) });
    expect(await readFile(out, "utf8")).toBe("alpha");
    expect(seen.at(-1)).toBe(5);
    await storage.remove("wf/s2/b.txt");
    await storage.remove("wf/s2/b.txt");
    expect(await storage.exists("wf/s2/b.txt")).toBe(false);
  });

  it("checks an expected MD5 and leaves nothing behind on a mismatch", async () => {
    const storage = new LocalStorageClient({ root: path.join(work, "md5") });
    const file = path.join(work, "m.txt");
    await writeFile(file, "content");
    await expect(storage.upload(file, "k/m.txt", { expectedMd5: md5("other") })).rejects.toThrow(/MD5 mismatch/);
    expect(await storage.exists("k/m.txt")).toBe(false);
    expect(await readdir(path.join(work, "md5", "k"))).toEqual([]);
  });

  it("names the store and key when an object is missing, and rejects unsafe keys", async () => {
    const storage = new LocalStorageClient({ root: path.join(work, "missing") });
    const err = await storage.download("no/key", path.join(work, "x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain("download of file://");
    expect((err as Error).message).toContain("no/key");
    await expect(storage.upload(path.join(work, "a.txt"), "../up")).rejects.toThrow(ValidationError);
    await expect(storage.upload(path.join(work, "a.txt"), "/abs")).rejects.toThrow(/must not start with/);
    await expect(storage.upload(work, "dir")).rejects.toThrow(/not a regular file/);
  });
});
