/**
 * The local engine on S3 storage: artifacts pass between steps through a real S3 server on
 * loopback (s3rver) with the real minio client, including stacked slices.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3StorageClient } from "../storage/s3.ts";
import type { Workflow } from "../workflow/workflow.ts";
import { startS3Server, type S3TestServer } from "../../test/s3-server.ts";

let s3: S3TestServer;
let storage: S3StorageClient;
let workdir: string;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["artifacts"] });
  storage = new S3StorageClient({ endpoint: s3.endpoint, bucket: "artifacts", accessKey: s3.clientOptions.accessKey, secretKey: s3.clientOptions.secretKey });
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-engine-s3-"));
});
afterAll(async () => {
  await s3?.stop();
  await fs.rm(workdir, { recursive: true, force: true });
});

async function runExample(name: string) {
  const wf = ((await import(`../../examples/${name}.ts`)) as { default: Workflow }).default;
  const result = await wf.run({ workdir, storage });
  const root = Object.values(result.status.nodes ?? {}).find((n) => n.name === result.name);
  return { result, out: (p: string) => root?.outputs?.parameters?.find((x) => x.name === p)?.value };
}

describe("the local engine with S3 storage", () => {
  it("passes artifacts between steps through the S3 server", async () => {
    const { result } = await runExample("hello");
    expect(result.status.phase).toBe("Succeeded");
    const keys = await storage.list(`${result.name}/`);
    expect(keys.some((k) => k.endsWith("/report.tgz"))).toBe(true);
  });

  it("stacks sliced artifacts under one key on the S3 server", async () => {
    const { result, out } = await runExample("slices");
    expect(result.status.phase).toBe("Succeeded");
    expect(JSON.parse(out("lines") as string)).toHaveLength(5);
    const keys = await storage.list(`${result.name}/slices/count-rows/summary/`);
    expect(keys.map((k) => k.split("/").slice(-2).join("/")).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${i}/summary.txt`));
  });
});
