import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError, ValidationError } from "../errors.ts";
import { startS3Server, type S3TestServer } from "../../test/s3-server.ts";
import { S3StorageClient, parseEndpoint } from "./s3.ts";

const md5 = (data: Buffer | string): string => createHash("md5").update(data).digest("hex");
const MiB = 1024 * 1024;

let s3: S3TestServer;
let work: string;

function client(overrides: Partial<ConstructorParameters<typeof S3StorageClient>[0]> = {}): S3StorageClient {
  return new S3StorageClient({
    endpoint: s3.endpoint,
    bucket: "opflow-test",
    accessKey: s3.clientOptions.accessKey,
    secretKey: s3.clientOptions.secretKey,
    partSize: 5 * MiB,
    retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
    ...overrides,
  });
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["opflow-test"] });
  work = await mkdtemp(path.join(tmpdir(), "opflow-s3-test-"));
});

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("S3StorageClient against s3rver", () => {
  it("uploads, lists, downloads and checks the MD5 of a small file", async () => {
    const storage = client();
    const file = path.join(work, "hello.txt");
    await writeFile(file, "hello opflow\n");
    const stored = await storage.upload(file, "wf/step-a/hello.txt");
    expect(stored).toEqual({ key: "wf/step-a/hello.txt", size: 13, md5: md5("hello opflow\n") });
    expect(await storage.exists("wf/step-a/hello.txt")).toBe(true);
    expect(await storage.md5("wf/step-a/hello.txt")).toBe(md5("hello opflow\n"));
    expect(await storage.list("wf/step-a/")).toEqual(["wf/step-a/hello.txt"]);
    const out = path.join(work, "out", "hello.txt");
    await storage.download("wf/step-a/hello.txt", out);
    expect(await readFile(out, "utf8")).toBe("hello opflow\n");
    expect((await readdir(path.dirname(out))).filter((f) => f.includes("opflow-tmp"))).toEqual([]);
  });

  it("uploads an 11 MB object in 5 MiB parts and keeps its MD5", async () => {
    const storage = client();
    const data = randomBytes(11 * 1000 * 1000);
    const file = path.join(work, "big.bin");
    await writeFile(file, data);
    const parts: string[] = [];
    const unsubscribe = s3.onRequest((r) => {
      if (r.method === "PUT" && r.url.includes("partNumber=")) parts.push(r.url);
    });
    const progress: number[] = [];
    try {
      await storage.upload(file, "wf/big/data.bin", { onProgress: (done) => progress.push(done) });
    } finally {
      unsubscribe();
    }
    expect(parts.length).toBe(3);
    expect(progress.at(-1)).toBe(data.length);
    expect(await storage.md5("wf/big/data.bin")).toBe(md5(data));
    const out = path.join(work, "big-out.bin");
    await storage.download("wf/big/data.bin", out);
    expect(md5(await readFile(out))).toBe(md5(data));
  });

  it("uploads files over the copy limit straight to their key in parts, with their MD5", async () => {
    const storage = client({ copyLimit: 6 * MiB });
    const data = randomBytes(11 * 1000 * 1000);
    const file = path.join(work, "direct.bin");
    await writeFile(file, data);
    const keys: string[] = [];
    const unsubscribe = s3.onRequest((r) => {
      if (r.method === "PUT") keys.push(r.url.split("?")[0] as string);
    });
    try {
      expect(await storage.upload(file, "direct/data.bin")).toEqual({ key: "direct/data.bin", size: data.length, md5: md5(data) });
    } finally {
      unsubscribe();
    }
    expect(new Set(keys)).toEqual(new Set(["/opflow-test/direct/data.bin"]));
    expect(await storage.md5("direct/data.bin")).toBe(md5(data));
    await writeFile(path.join(work, "empty"), "");
    expect(await storage.upload(path.join(work, "empty"), "direct/empty")).toMatchObject({ size: 0, md5: md5("") });
    await storage.download("direct/empty", path.join(work, "empty-out"));
    expect(await readFile(path.join(work, "empty-out"), "utf8")).toBe("");
  });

  it("copies server-side and lists recursively, hiding nothing but temporary keys", async () => {
    const storage = client();
    const file = path.join(work, "c.txt");
    await writeFile(file, "copy me");
    await storage.upload(file, "copy/src/c.txt");
    await storage.copy("copy/src/c.txt", "copy/dst/deep/c.txt");
    expect(await storage.list("copy/")).toEqual(["copy/dst/deep/c.txt", "copy/src/c.txt"]);
    expect(await storage.md5("copy/dst/deep/c.txt")).toBe(md5("copy me"));
    await storage.remove("copy/src/c.txt");
    await storage.remove("copy/src/absent.txt");
    expect(await storage.exists("copy/src/c.txt")).toBe(false);
  });

  it("fails with a StorageError naming endpoint, bucket and key when the object is missing", async () => {
    const storage = client();
    const err = await storage.download("no/such/key", path.join(work, "nothing")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(String((err as Error).message)).toContain(`127.0.0.1:${s3.port}/opflow-test/no/such/key`);
    expect(await readdir(work)).not.toContain("nothing");
  });

  it("rejects a wrong secret key with a clear StorageError", async () => {
    const storage = client({ secretKey: "wrong-secret" });
    const file = path.join(work, "denied.txt");
    await writeFile(file, "x");
    const err = await storage.upload(file, "denied/x.txt").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toMatch(/SignatureDoesNotMatch|secret key is wrong/);
    expect((err as Error).message).toContain("opflow-test/denied/x.txt");
    const unknown = client({ accessKey: "NOBODY" });
    const err2 = await unknown.list("").catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(StorageError);
    expect((err2 as Error).message).toMatch(/InvalidAccessKeyId|access key/);
  });

  it("rejects invalid keys and options with a ValidationError", async () => {
    const storage = client();
    await expect(storage.upload(path.join(work, "hello.txt"), "../escape")).rejects.toThrow(ValidationError);
    await expect(storage.upload(path.join(work, "hello.txt"), "md5/hello.txt", { expectedMd5: "0".repeat(32) })).rejects.toThrow(
      /upload of .*opflow-test\/md5\/hello.txt failed: BadDigest: MD5 mismatch/,
    );
    expect(await storage.list("md5/")).toEqual([]);
    expect(() => client({ bucket: "Bad_Bucket" })).toThrow(/bucket/);
    expect(() => client({ partSize: 1024 })).toThrow(/partSize/);
    expect(parseEndpoint("http://127.0.0.1:9000")).toEqual({ host: "127.0.0.1", port: 9000, useSSL: false });
    expect(parseEndpoint("minio.example.org")).toEqual({ host: "minio.example.org", port: undefined, useSSL: true });
    expect(parseEndpoint("minio:9000", true)).toEqual({ host: "minio", port: 9000, useSSL: false });
    expect(() => parseEndpoint("http://h/bucket")).toThrow(/path/);
  });
});

describe("S3StorageClient when the server dies mid-transfer", () => {
  /**
   * Uploads an 11 MB file in 5 MiB parts to `key`, stopping the server when part 2 arrives, then
   * restarts it on the same data and hands back a client on it for the checks.
   */
  async function cutMidUpload(key: string, extra: { copyLimit?: number } = {}) {
    const server = await startS3Server({ buckets: ["opflow-test"] });
    const directory = server.directory;
    const storage = new S3StorageClient({
      endpoint: server.endpoint,
      bucket: "opflow-test",
      accessKey: server.clientOptions.accessKey,
      secretKey: server.clientOptions.secretKey,
      partSize: 5 * MiB,
      ...extra,
      retry: { attempts: 2, baseDelayMs: 20 },
    });
    const file = path.join(work, `${key.replace(/\W/g, "-")}.bin`);
    await writeFile(file, randomBytes(11 * 1000 * 1000));
    let stopping: Promise<void> | undefined;
    server.onRequest((r) => {
      if (r.method === "PUT" && r.url.includes("partNumber=2")) stopping ??= server.stop({ keepData: true });
    });
    const err = await storage.upload(file, key).catch((e: unknown) => e);
    await stopping;
    const again = await startS3Server({ buckets: ["opflow-test"], directory, port: server.port });
    const done = async (): Promise<void> => {
      await again.stop();
      await rm(directory, { recursive: true, force: true });
    };
    return { err, storage, done };
  }

  it("gives a StorageError and leaves no object at the key when an upload is cut", async () => {
    const { err, storage, done } = await cutMidUpload("cut/data.bin");
    try {
      expect(err).toBeInstanceOf(StorageError);
      expect((err as Error).message).toContain(`opflow-test/cut/data.bin`);
      // Restarted on the same data: nothing is visible at the key.
      expect(await storage.exists("cut/data.bin")).toBe(false);
      expect(await storage.list("cut/")).toEqual([]);
    } finally {
      await done();
    }
  });

  it("leaves no object when a direct (over the copy limit) multipart upload is cut", async () => {
    const { err, storage, done } = await cutMidUpload("cut-direct/data.bin", { copyLimit: 0 });
    try {
      expect(err).toBeInstanceOf(StorageError);
      expect(await storage.exists("cut-direct/data.bin")).toBe(false);
    } finally {
      await done();
    }
  });

  it("retries with backoff while the server restarts, then succeeds", async () => {
    const server = await startS3Server({ buckets: ["opflow-test"] });
    const directory = server.directory;
    const port = server.port;
    await server.stop({ keepData: true });
    const storage = new S3StorageClient({
      endpoint: server.endpoint,
      bucket: "opflow-test",
      accessKey: server.clientOptions.accessKey,
      secretKey: server.clientOptions.secretKey,
      retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 400 },
    });
    const file = path.join(work, "retry.txt");
    await writeFile(file, "eventually");
    let again: S3TestServer | undefined;
    const restart = new Promise<void>((resolve) =>
      setTimeout(async () => {
        again = await startS3Server({ buckets: ["opflow-test"], directory, port });
        resolve();
      }, 250),
    );
    try {
      const stored = await storage.upload(file, "retry/ok.txt");
      await restart;
      expect(stored.md5).toBe(md5("eventually"));
      expect(await storage.exists("retry/ok.txt")).toBe(true);
    } finally {
      await restart;
      await again?.stop();
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("gives a StorageError and writes no file when a download is cut", async () => {
    const server = await startS3Server({ buckets: ["opflow-test"] });
    const storage = new S3StorageClient({
      endpoint: server.endpoint,
      bucket: "opflow-test",
      accessKey: server.clientOptions.accessKey,
      secretKey: server.clientOptions.secretKey,
      retry: { attempts: 2, baseDelayMs: 20 },
    });
    const file = path.join(work, "dl.bin");
    await writeFile(file, randomBytes(20 * MiB));
    await storage.upload(file, "dl/data.bin");
    let stopping: Promise<void> | undefined;
    let received = 0;
    const dest = path.join(work, "dl-out", "data.bin");
    // Stop the server once the first bytes have arrived: the cut happens mid-stream.
    const err = await storage
      .download("dl/data.bin", dest, {
        onProgress: (done) => {
          received = done;
          stopping ??= server.stop();
        },
      })
      .catch((e: unknown) => e);
    expect(received).toBeGreaterThan(0);
    await stopping;
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain("opflow-test/dl/data.bin");
    const left = await readdir(path.dirname(dest)).catch(() => []);
    expect(left).toEqual([]);
  });
});
