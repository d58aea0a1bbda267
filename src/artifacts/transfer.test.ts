import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Server, type S3TestServer } from "../../test/s3-server.ts";
import { StorageError, ValidationError } from "../errors.ts";
import type { StorageClient } from "../storage/client.ts";
import { LocalStorageClient } from "../storage/local.ts";
import { S3StorageClient } from "../storage/s3.ts";
import { artifactKey } from "./keys.ts";
import { downloadArtifact, uploadArtifact, type TransferProgress } from "./transfer.ts";

let work: string;
let s3: S3TestServer;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "opflow-transfer-"));
  s3 = await startS3Server({ buckets: ["transfer"] });
  const src = path.join(work, "src");
  await mkdir(path.join(src, "results", "nested"), { recursive: true });
  await writeFile(path.join(src, "results", "a.txt"), "A");
  await writeFile(path.join(src, "results", "nested", "b.txt"), "BB");
  await writeFile(path.join(src, "one.txt"), "one");
  await mkdir(path.join(src, "x"), { recursive: true });
  await mkdir(path.join(src, "y"), { recursive: true });
  await writeFile(path.join(src, "x", "same.txt"), "from x");
  await writeFile(path.join(src, "y", "same.txt"), "from y");
});

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const backends: [string, () => StorageClient][] = [
  ["local", () => new LocalStorageClient({ root: path.join(work, "store") })],
  [
    "s3",
    () =>
      new S3StorageClient({
        endpoint: s3.endpoint,
        bucket: "transfer",
        accessKey: s3.clientOptions.accessKey,
        secretKey: s3.clientOptions.secretKey,
        retry: { attempts: 2, baseDelayMs: 10 },
      }),
  ],
];

describe.each(backends)("uploadArtifact / downloadArtifact on %s storage", (name, make) => {
  const src = (...p: string[]): string => path.join(work, "src", ...p);
  const out = (...p: string[]): string => path.join(work, `out-${name}`, ...p);

  it("round-trips a directory as tar.gz under the engine's key layout", async () => {
    const storage = make();
    const key = artifactKey({ workflow: "wf", node: "wf-1", artifact: "results" });
    const ref = await uploadArtifact(storage, src("results"), { key });
    expect(ref).toMatchObject({ kind: "single", archive: "tar", key: "wf/wf-1/results.tgz", location: storage.location });
    expect(ref.items).toHaveLength(1);
    expect(ref.items[0]).toMatchObject({ path: "", type: "directory", key: "wf/wf-1/results.tgz" });
    expect(ref.items[0]?.objects[0]?.md5).toMatch(/^[0-9a-f]{32}$/);
    const got = await downloadArtifact(storage, JSON.parse(JSON.stringify(ref)), out("results"));
    expect(got.paths).toEqual([out("results")]);
    expect(await readFile(out("results", "nested", "b.txt"), "utf8")).toBe("BB");
    await expect(downloadArtifact(storage, ref, out("results"))).rejects.toThrow(/already exists/);
    await downloadArtifact(storage, ref, out("results"), { overwrite: true });
  });

  it("stores a directory object by object with archive none, and downloads it by bare key", async () => {
    const storage = make();
    const ref = await uploadArtifact(storage, src("results"), { key: "none/results", archive: "none" });
    expect(ref.items[0]?.objects.map((o) => o.key)).toEqual(["none/results/a.txt", "none/results/nested/b.txt"]);
    await downloadArtifact(storage, ref, out("none-results"));
    expect(await readFile(out("none-results", "a.txt"), "utf8")).toBe("A");
    await downloadArtifact(storage, "none/results", out("bare-dir"));
    expect(await readFile(out("bare-dir", "nested", "b.txt"), "utf8")).toBe("BB");
    await downloadArtifact(storage, "none/results/a.txt", out("bare-file.txt"));
    expect(await readFile(out("bare-file.txt"), "utf8")).toBe("A");
  });

  it("uploads a list keeping relative paths and order, and a record by name", async () => {
    const storage = make();
    const list = await uploadArtifact(storage, ["x/same.txt", "y/same.txt", "one.txt"], { cwd: src(), key: "lists/l1" });
    expect(list.kind).toBe("list");
    expect(list.items.map((i) => [i.path, i.key])).toEqual([
      ["x/same.txt", "lists/l1/x/same.txt.tgz"],
      ["y/same.txt", "lists/l1/y/same.txt.tgz"],
      ["one.txt", "lists/l1/one.txt.tgz"],
    ]);
    const got = await downloadArtifact(storage, list, out("list"));
    expect(await Promise.all(got.paths.map((p) => readFile(p, "utf8")))).toEqual(["from x", "from y", "one"]);

    const record = await uploadArtifact(storage, { model: src("one.txt"), data: src("results") }, { archive: "none" });
    expect(record.key).toMatch(/^uploads\//);
    const named = await downloadArtifact(storage, record, out("record"));
    expect(await readFile(named.byName.model as string, "utf8")).toBe("one");
    expect(await readFile(path.join(named.byName.data as string, "a.txt"), "utf8")).toBe("A");
  });

  it("round-trips an empty directory with archive none", async () => {
    const storage = make();
    const empty = path.join(work, `empty-${name}`);
    await mkdir(empty, { recursive: true });
    const ref = await uploadArtifact(storage, empty, { archive: "none" });
    expect(ref.items[0]?.objects).toEqual([]);
    const got = await downloadArtifact(storage, ref, out("empty"));
    expect(got.paths).toEqual([out("empty")]);
  });

  it("reports progress and finishes at the totals", async () => {
    const storage = make();
    const seen: TransferProgress[] = [];
    await uploadArtifact(storage, src("results"), { archive: "none", onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toEqual({ bytes: 3, totalBytes: 3, files: 2, totalFiles: 2 });
  });

  it("rejects a colliding list and a corrupted object", async () => {
    const storage = make();
    await expect(uploadArtifact(storage, [src("x", "same.txt"), src("y", "same.txt")], { cwd: "/" + "nonexistent-cwd" })).rejects.toThrow(
      /would both be stored as "same.txt"/,
    );
    const ref = await uploadArtifact(storage, src("one.txt"), { key: "corrupt/one.txt", archive: "none" });
    const bad = { ...ref, items: [{ ...ref.items[0]!, objects: [{ ...ref.items[0]!.objects[0]!, md5: "0".repeat(32) }] }] };
    const err = await downloadArtifact(storage, bad, out("corrupt.txt")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toMatch(/MD5 mismatch/);
    expect((err as Error).message).toContain("corrupt/one.txt");
    await expect(readFile(out("corrupt.txt"))).rejects.toThrow();
    await expect(downloadArtifact(storage, { ...ref, items: [{ ...ref.items[0]!, path: "../x" }], kind: "list" }, out("evil"))).rejects.toThrow(
      ValidationError,
    );
  });
});

