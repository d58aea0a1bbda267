/**
 * What a cluster gets is enough: hello's manifest, submitted through the Kubernetes API (the
 * fake API server, CRD-checked) with its bundle uploaded to the artifact repository (s3rver,
 * the real minio client), carries everything its pod needs. The pod is then run as a kubelet
 * and Argo's executor would: the manifest's image (the local Node image: node, no opflow), its
 * command, args and env with the step's arguments substituted, and the input artifacts
 * downloaded to their declared paths — nothing else.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Artifact, Template, Workflow as ArgoWorkflow } from "../argo/model.ts";
import { createArgoClient } from "../argo/create-argo-client.ts";
import { runContainer } from "../executors/container.ts";
import { NODE_IMAGE, ensureImage, podmanSkipReason } from "../executors/_test-images.ts";
import type { StorageClient } from "../storage/client.ts";
import { S3StorageClient } from "../storage/s3.ts";
import type { Workflow } from "./workflow.ts";
import { FakeKubeServer } from "../../test/fake-kube-server.ts";
import { startS3Server, type S3TestServer } from "../../test/s3-server.ts";

const TOKEN = "bundle-test-token";
const skip = podmanSkipReason();
if (skip) console.warn(`the pod run of hello's manifest is skipped: ${skip}`);

let s3: S3TestServer;
let storage: S3StorageClient;
let kube: FakeKubeServer;
let dir: string;
let kubeconfig: string;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["artifacts"] });
  storage = new S3StorageClient({ endpoint: s3.endpoint, bucket: "artifacts", accessKey: s3.clientOptions.accessKey, secretKey: s3.clientOptions.secretKey });
  kube = await FakeKubeServer.start({ token: TOKEN });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-pod-"));
  kubeconfig = kube.writeKubeconfig(dir, { token: TOKEN, namespace: "argo" });
  if (!skip) ensureImage(NODE_IMAGE);
}, 300_000);
afterAll(async () => {
  await s3?.stop();
  await kube?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A storage client that records what it uploads. */
function recording(inner: StorageClient, uploads: string[]): StorageClient {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === "upload") return (local: string, key: string, options?: object) => (uploads.push(key), target.upload(local, key, options));
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** `{{inputs.parameters.x}}` tags replaced as Argo does before the pod starts. */
function substitute(text: string, params: ReadonlyMap<string, string>): string {
  return text.replace(/\{\{inputs\.parameters\.([\w-]+)\}\}/g, (_, name: string) => {
    const v = params.get(name);
    if (v === undefined) throw new Error(`no value for input parameter ${name}`);
    return v;
  });
}

describe("hello's manifest and its uploaded bundle", () => {
  let submitted: ArgoWorkflow;
  let uploads: string[];

  beforeAll(async () => {
    uploads = [];
    const wf = ((await import("../../examples/hello.ts")) as { default: Workflow }).default;
    const client = createArgoClient({ kubeconfig, env: {} });
    const handle = await wf.submit({ client, storage: recording(storage, uploads), warn: () => {} });
    submitted = kube.workflow("argo", handle.name) as ArgoWorkflow;
  }, 120_000);

  it("submit uploads the bundle once, under its content-addressed key", async () => {
    const bundleKeys = uploads.filter((k) => k.startsWith("opflow-bundles/"));
    expect(bundleKeys).toHaveLength(1);
    expect(bundleKeys[0]).toMatch(/^opflow-bundles\/[0-9a-f]{20}\.mjs$/);
    expect(await storage.exists(bundleKeys[0] as string)).toBe(true);
    // Again: the key exists, nothing is uploaded.
    const again: string[] = [];
    const wf = ((await import("../../examples/hello.ts")) as { default: Workflow }).default;
    await wf.submit({ client: createArgoClient({ kubeconfig, env: {} }), storage: recording(storage, again), warn: () => {} });
    expect(again.filter((k) => k.startsWith("opflow-bundles/"))).toEqual([]);
    // The manifest names the bundle by key and stays small.
    expect(JSON.stringify(submitted).length).toBeLessThan(5000);
  });

  it.skipIf(skip !== undefined)(`runs the pod from the manifest alone in ${NODE_IMAGE}${skip ? ` (skipped: ${skip})` : ""}`, async () => {
    const templates = submitted.spec.templates ?? [];
    const main = templates.find((t) => t.name === submitted.spec.entrypoint) as Template;
    const step = main.steps?.[0]?.[0];
    const tmpl = templates.find((t) => t.name === step?.template) as Template;
    expect(tmpl.container?.command?.[0]).toBe("node");

    // The step's arguments over the template's defaults, as Argo resolves them.
    const params = new Map<string, string>();
    for (const p of tmpl.inputs?.parameters ?? []) if (p.default !== undefined) params.set(p.name, p.default);
    for (const p of step?.arguments?.parameters ?? []) params.set(p.name, String(p.value));

    // Input artifacts at their declared paths under the pod's /tmp: raw ones from the manifest,
    // keyed ones from the artifact repository.
    const podTmp = path.join(dir, "pod-tmp");
    await fs.mkdir(podTmp, { recursive: true });
    const given = new Map<string, Artifact>((step?.arguments?.artifacts ?? []).map((a) => [a.name, a]));
    for (const decl of tmpl.inputs?.artifacts ?? []) {
      const a = given.get(decl.name) ?? decl;
      expect(decl.path?.startsWith("/tmp/")).toBe(true);
      const local = path.join(podTmp, (decl.path as string).slice("/tmp/".length));
      await fs.mkdir(path.dirname(local), { recursive: true });
      if (a.raw) await fs.writeFile(local, a.raw.data);
      else if (a.s3?.key) await storage.download(a.s3.key, local);
      else throw new Error(`input artifact ${decl.name} has no source the test can fetch: ${JSON.stringify(a)}`);
    }

    const c = tmpl.container ?? {};
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) env[e.name] = substitute(e.value ?? "", params);
    const r = await runContainer({
      image: c.image === "node:20-slim" ? NODE_IMAGE : (c.image as string),
      command: (c.command ?? []).map((w) => substitute(w, params)),
      args: (c.args ?? []).map((w) => substitute(w, params)),
      env,
      mounts: [{ source: podTmp, target: "/tmp" }],
      logFile: path.join(dir, "pod.log"),
    });
    expect(r.startError).toBeUndefined();
    expect(r.exitCode, await fs.readFile(path.join(dir, "pod.log"), "utf8").catch(() => "")).toBe(0);
    // Outputs where the manifest says Argo reads them.
    const out = (p: string): Promise<string> => fs.readFile(path.join(podTmp, p.slice("/tmp/".length)), "utf8");
    const byName = new Map((tmpl.outputs?.parameters ?? []).map((p) => [p.name, p.valueFrom?.path as string]));
    expect(await out(byName.get("greeting") as string)).toBe("Hello, opflow! Hello, opflow!");
    expect(await out(byName.get("length") as string)).toBe("29");
    const report = (tmpl.outputs?.artifacts ?? []).find((a) => a.name === "report")?.path as string;
    expect(await out(report)).toContain("--- notes ---\nTyped workflows for science.");
  }, 120_000);
});
