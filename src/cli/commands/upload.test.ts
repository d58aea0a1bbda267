import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startS3Server } from "../../../test/s3-server.ts";
import download from "./download.ts";
import upload from "./upload.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "opflow-cli-upload-"));
  await mkdir(path.join(work, "data", "sub"), { recursive: true });
  await writeFile(path.join(work, "data", "sub", "f.txt"), "payload");
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function capture(): { out: () => string; err: () => string; restore: () => void } {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  return { out: () => out, err: () => err, restore: () => (o.mockRestore(), e.mockRestore()) };
}

describe("opflow upload / download", () => {
  it("uploads a directory, writes the reference, and downloads it back", async () => {
    const store = path.join(work, "store");
    const refFile = path.join(work, "ref.json");
    const io = capture();
    try {
      expect(await upload.run([path.join(work, "data"), "--storage", store, "--key", "wf/n1/data.tgz", "--out", refFile, "--no-progress"])).toBe(0);
      expect(io.err()).toContain("wf/n1/data.tgz");
      expect(await download.run([refFile, path.join(work, "back"), "--storage", store])).toBe(0);
      expect(io.out()).toContain(path.join(work, "back"));
      expect(await download.run(["--key", "wf/n1/data.tgz", path.join(work, "by-key"), "--storage", store])).toBe(0);
    } finally {
      io.restore();
    }
    expect(JSON.parse(await readFile(refFile, "utf8"))).toMatchObject({ kind: "single", archive: "tar", key: "wf/n1/data.tgz" });
    expect(await readFile(path.join(work, "back", "sub", "f.txt"), "utf8")).toBe("payload");
    expect(await readFile(path.join(work, "by-key", "sub", "f.txt"), "utf8")).toBe("payload");
  });

  it("exits 2 with usage on bad arguments and 1 on storage errors", async () => {
    const io = capture();
    try {
      expect(await upload.run([])).toBe(2);
      expect(await upload.run(["x", "--archive", "zip"])).toBe(2);
      expect(io.err()).toContain("--archive must be tar or none");
      expect(await download.run(["--key", "no/such.tgz", path.join(work, "none"), "--storage", path.join(work, "store")])).toBe(1);
      expect(io.err()).toContain("no/such.tgz");
    } finally {
      io.restore();
    }
  });

  it("uses the S3 repository named by OPFLOW_S3_* variables", async () => {
    const s3 = await startS3Server({ buckets: ["cli-art"] });
    const vars: Record<string, string> = {
      OPFLOW_S3_ENDPOINT: s3.endpoint,
      OPFLOW_S3_BUCKET: "cli-art",
      OPFLOW_S3_ACCESS_KEY: s3.clientOptions.accessKey,
      OPFLOW_S3_SECRET_KEY: s3.clientOptions.secretKey,
    };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    const io = capture();
    try {
      expect(await upload.run([path.join(work, "data", "sub", "f.txt"), "--key", "cli/f.txt", "--archive", "none"])).toBe(0);
      expect(JSON.parse(io.out())).toMatchObject({ kind: "single", archive: "none", location: `s3://127.0.0.1:${s3.port}/cli-art` });
      expect(await download.run(["--key", "cli/f.txt", path.join(work, "from-s3.txt")])).toBe(0);
    } finally {
      io.restore();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await s3.stop();
    }
    expect(await readFile(path.join(work, "from-s3.txt"), "utf8")).toBe("payload");
  });
});
