import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import type { Workflow, WorkflowStatus } from "./model.ts";
import type { ArgoClient } from "./client.ts";
import { createArgoClient } from "./create-argo-client.ts";
import { submitWorkflow, workflowHandle, WorkflowHandle } from "./workflow-handle.ts";
import { querySteps, type ArgoStep, type QueriedStep } from "./query.ts";
import { SubmitError } from "../errors.ts";
import { FakeKubeServer, crdValidation } from "../../test/fake-kube-server.ts";
import { argoStatus } from "../../test/fake-argo-status.ts";

const TOKEN = "fake-sa-token-7f3a9c1e5b";
let server: FakeKubeServer;
let dir: string;
let kubeconfig: string;

function manifest(name = "hello-"): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { generateName: name, labels: { team: "chem" } },
    spec: {
      entrypoint: "main",
      arguments: { parameters: [{ name: "n", value: "3" }] },
      templates: [
        {
          name: "main",
          steps: [
            [{ name: "gen", template: "gen", arguments: { parameters: [{ name: "opflow-key", value: "gen-1" }] } }],
            [{ name: "train", template: "train", arguments: { artifacts: [{ name: "data", from: "{{steps.gen.outputs.artifacts.data}}" }] } }],
          ],
        },
        {
          name: "gen",
          inputs: { parameters: [{ name: "opflow-key" }] },
          outputs: {
            parameters: [{ name: "count", valueFrom: { path: "/tmp/outputs/parameters/count" }, globalName: "count" }],
            artifacts: [{ name: "data", path: "/tmp/outputs/artifacts/data" }],
          },
          container: { image: "busybox", command: ["sh", "-c", "echo gen"] },
        },
        {
          name: "train",
          inputs: { artifacts: [{ name: "data", path: "/tmp/inputs/artifacts/data" }] },
          outputs: { parameters: [{ name: "loss", valueFrom: { path: "/tmp/outputs/parameters/loss" } }] },
          retryStrategy: { limit: 2 },
          script: { image: "busybox", command: ["sh"], source: "echo train" },
        },
      ],
    },
  };
}

/** Gives the node inputs that Argo records (the key parameter) to the gen node. */
function withKeys(wf: Workflow, status: WorkflowStatus): WorkflowStatus {
  for (const n of Object.values(status.nodes ?? {})) {
    if (n.templateName === "gen" && n.type === "Pod") n.inputs = { parameters: [{ name: "opflow-key", value: "gen-1" }] };
  }
  void wf;
  return status;
}

function drive(ns: string, name: string, phase: "Pending" | "Running" | "Succeeded" | "Failed"): Workflow {
  const wf = server.workflow(ns, name) as Workflow;
  const { status, logs } = argoStatus(wf, phase);
  for (const [pod, text] of logs) server.setPodLog(ns, pod, text);
  return server.setStatus(ns, name, withKeys(wf, status));
}

beforeAll(async () => {
  server = await FakeKubeServer.start({ token: TOKEN });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-argo-"));
  kubeconfig = server.writeKubeconfig(dir, { token: TOKEN, namespace: "argo" });
  if (!crdValidation()) console.warn("SKIPPED: strict CRD validation (../shared/argo is absent)");
});

afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => server.reset(TOKEN));

function backends(): [string, () => ArgoClient][] {
  return [
    ["kubernetes", () => createArgoClient({ kubeconfig, env: {} })],
    ["argo-server", () => createArgoClient({ argoServer: server.url, token: TOKEN, namespace: "argo", env: {} })],
  ];
}

describe.each(backends())("ArgoClient over %s", (backend, make) => {
  it("submits a manifest with generateName and reads it back", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    expect(handle).toBeInstanceOf(WorkflowHandle);
    expect(handle.name).toMatch(/^hello-[a-z0-9]{5}$/);
    expect(handle.namespace).toBe("argo");
    const stored = server.workflow("argo", handle.name) as Workflow;
    expect(stored.metadata.labels).toMatchObject({ team: "chem", "app.kubernetes.io/managed-by": "opflow" });
    expect(await handle.phase()).toBe("Pending");
    expect(await handle.status()).toEqual({});
  });

  it("drives Pending → Running → Succeeded and wait() reports each status", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    const seen: string[] = [];
    const progress: string[] = [];
    // The cluster moves on once the client has seen each phase: every phase is observed however
    // slowly this machine runs.
    const next: Record<string, "Pending" | "Running" | "Succeeded"> = { "": "Pending", Pending: "Running", Running: "Succeeded" };
    const done = await handle.wait({
      timeout: "10s",
      pollInterval: "5s", // only the watch can be this quick
      onUpdate: (status) => {
        seen.push(status.phase ?? "");
        progress.push(status.progress ?? "");
        const to = next[status.phase ?? ""];
        if (to !== undefined) setTimeout(() => drive("argo", handle.name, to), 10);
      },
    });
    expect(done.status?.phase).toBe("Succeeded");
    expect(seen).toEqual(["", "Pending", "Running", "Succeeded"]);
    expect(progress.at(-1)).toBe("2/2");
  });

  it("waits by polling alone when asked, and reports a Failed workflow without throwing", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    setTimeout(() => drive("argo", handle.name, "Running"), 50);
    const seen: string[] = [];
    const onUpdate = (s: { phase?: string }): void => {
      seen.push(s.phase ?? "");
      if (s.phase === "Running") setTimeout(() => drive("argo", handle.name, "Failed"), 10);
    };
    const done = await handle.wait({ watch: false, pollInterval: "20ms", timeout: "10s", onUpdate });
    expect(done.status?.phase).toBe("Failed");
    expect(seen).toContain("Running");
    const failed = await handle.querySteps({ phase: "Failed", type: "Pod" });
    expect(failed.map((s) => s.displayName)).toEqual(["train(0)"]);
    expect(failed[0]?.message).toBe("Error (exit code 1)");
  });

  it("falls back to polling when RBAC forbids watching", async () => {
    server.deny = [{ verb: "watch", resource: "workflows" }];
    const handle = await submitWorkflow(manifest(), { client: make() });
    setTimeout(() => drive("argo", handle.name, "Succeeded"), 80);
    const done = await handle.wait({ timeout: "10s", pollInterval: "30ms" });
    expect(done.status?.phase).toBe("Succeeded");
  });

  it("rejects when the workflow is deleted while waiting", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    setTimeout(() => void make().delete(handle.name), 80);
    await expect(handle.wait({ timeout: "10s", pollInterval: "5s" })).rejects.toThrow(new RegExp(`workflow "${handle.name}" was deleted while waiting for it`));
  });

  it("times out with the phase and progress in the message", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    drive("argo", handle.name, "Running");
    await expect(handle.wait({ timeout: "100ms", pollInterval: "20ms" })).rejects.toThrow(
      new RegExp(`workflow "${handle.name}" did not finish within 100ms \\(phase Running, progress 1/2\\)`),
    );
  });

  it("queries steps by name, key, phase and type with typed outputs", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    drive("argo", handle.name, "Succeeded");
    const steps = await handle.querySteps();
    expectTypeOf(steps).toEqualTypeOf<QueriedStep[]>();
    expect(steps.map((s) => `${s.displayName}:${s.type}`)).toEqual([handle.name + ":Steps", "gen:Pod", "train:Retry", "train(0):Pod"]);
    const [gen] = await handle.querySteps({ key: "gen-1" });
    expect(gen?.displayName).toBe("gen");
    expect(gen?.key).toBe("gen-1");
    expect(gen?.phase).toBe("Succeeded");
    expect(gen?.podName).toMatch(new RegExp(`^${handle.name}-gen-\\d+$`));
    expect(gen?.outputs.parameters).toEqual({ count: "count-value" });
    expect(gen?.outputs.artifacts["data"]).toEqual({ name: "data", s3: { key: `${handle.name}/${gen?.podName}/data.tgz` } });
    const [train] = await handle.querySteps({ name: "train", type: "Retry" });
    expect(train?.outputs.result).toBe("result of train");
    expect(await handle.querySteps({ name: "tr*", type: ["Pod"] })).toHaveLength(1);
    expect(await handle.querySteps({ name: /^gen$/, phase: "Failed" })).toEqual([]);
    expect(await handle.querySteps({ type: "StepGroup" })).toHaveLength(2);
    expect(await handle.globalOutputs()).toEqual({ parameters: { count: "count-value" }, artifacts: {} });
  });

  it("passes an output artifact reference as the input of a new workflow", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    drive("argo", handle.name, "Succeeded");
    const [gen] = await handle.querySteps({ name: "gen" });
    const data = gen?.outputs.artifacts["data"];
    expect(data).toBeDefined();
    const next: Workflow = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { generateName: "reuse-" },
      spec: {
        entrypoint: "train",
        arguments: { artifacts: [{ ...data!, name: "data" }] },
        templates: [
          {
            name: "train",
            inputs: { artifacts: [{ name: "data", path: "/tmp/inputs/artifacts/data" }] },
            container: { image: "busybox", command: ["ls", "/tmp/inputs/artifacts/data"] },
          },
        ],
      },
    };
    const second = await submitWorkflow(next, { client: make() });
    expect(server.workflow("argo", second.name)?.spec.arguments?.artifacts?.[0]?.s3?.key).toBe(`${handle.name}/${gen?.podName}/data.tgz`);
  });

  it("reads the logs of one step and of the whole workflow", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    drive("argo", handle.name, "Succeeded");
    const one = await handle.logs({ step: { name: "gen" } });
    expect(one).toHaveLength(1);
    expect(one[0]?.text).toBe("gen: started\ngen: done\n");
    const all = await handle.logs();
    expect(all.map((l) => l.step)).toEqual(["gen", "train(0)"]);
    const tail = await handle.logs({ step: { name: "gen" }, tailLines: 1 });
    expect(tail[0]?.text).toBe("gen: done\n");
  });

  it("reports a pod deleted by pod GC as missing, not as an error", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    const wf = drive("argo", handle.name, "Succeeded");
    const [gen] = querySteps(wf, { name: "gen" });
    server.podLogs.delete(`argo/${gen?.podName}`);
    const logs = await handle.logs({ step: { name: "gen" } });
    expect(logs[0]?.missing).toMatch(/not found/);
  });

  it("lists by label, phase and name prefix", async () => {
    const client = make();
    const a = await submitWorkflow(manifest(`list-${backend}-a-`), { client, labels: { batch: `b-${backend}` } });
    const b = await submitWorkflow(manifest(`list-${backend}-b-`), { client, labels: { batch: `b-${backend}` } });
    drive("argo", a.name, "Running");
    drive("argo", b.name, "Succeeded");
    const byLabel = await client.list({ labels: { batch: `b-${backend}` } });
    expect(byLabel.map((w) => w.metadata.name).sort()).toEqual([a.name, b.name].sort());
    expect((await client.list({ labels: `batch=b-${backend}`, phases: ["Running"] })).map((w) => w.metadata.name)).toEqual([a.name]);
    expect((await client.list({ namePrefix: `list-${backend}-b-` })).map((w) => w.metadata.name)).toEqual([b.name]);
    expect(await client.list({ labels: { batch: "none" } })).toEqual([]);
  });

  it("terminates, stops, suspends and resumes", async () => {
    const client = make();
    const handle = await submitWorkflow(manifest(), { client });
    drive("argo", handle.name, "Running");
    await handle.suspend();
    expect(server.workflow("argo", handle.name)?.spec.suspend).toBe(true);
    await handle.resume();
    expect(server.workflow("argo", handle.name)?.spec.suspend).toBeUndefined();
    await handle.stop();
    expect(server.workflow("argo", handle.name)?.spec.shutdown).toBe("Stop");
    await handle.terminate();
    expect(server.workflow("argo", handle.name)?.spec.shutdown).toBe("Terminate");
  });

  it("sets supplied outputs of a waiting suspend node and resumes it by selector, as argo node set / argo resume", async () => {
    const client = make();
    const handle = await submitWorkflow(manifest(), { client });
    const suspend = { id: `${handle.name}-1`, name: `${handle.name}[0].approve`, displayName: "approve", type: "Suspend" as const, phase: "Running" as const, templateName: "approve", outputs: { parameters: [{ name: "message", valueFrom: { supplied: {} } }] } };
    server.setStatus("argo", handle.name, { phase: "Running", nodes: { [suspend.id]: suspend } });
    await expect(handle.setOutputs({ message: "hi" }, { nodeFieldSelector: "displayName=nobody" })).rejects.toThrow(/no suspend node waiting to be resumed matches it/);
    await expect(handle.resume()).rejects.toThrow(/raw output parameter 'message' has not been set and does not have a default value/);
    await handle.setOutputs({ message: "hi" }, { nodeFieldSelector: "displayName=approve" });
    expect(server.workflow("argo", handle.name)?.status?.nodes?.[suspend.id]).toMatchObject({ phase: "Running", outputs: { parameters: [{ name: "message", value: "hi" }] } });
    await handle.resume({ nodeFieldSelector: "displayName=approve" });
    expect(server.workflow("argo", handle.name)?.status?.nodes?.[suspend.id]?.phase).toBe("Succeeded");
  });

  it("retries a failed workflow in place and resubmits a copy", async () => {
    const client = make();
    const handle = await submitWorkflow(manifest(), { client });
    drive("argo", handle.name, "Running");
    await expect(handle.retry()).rejects.toThrow(/Failed or Error|Failed\/Error/);
    drive("argo", handle.name, "Failed");
    await handle.retry();
    const retried = server.workflow("argo", handle.name) as Workflow;
    expect(retried.status?.phase).toBe("Running");
    expect(retried.status?.finishedAt).toBeUndefined();
    if (backend === "kubernetes") {
      expect(server.deletedPods).toEqual([expect.stringMatching(new RegExp(`^argo/${handle.name}-train-\\d+$`))]);
      server.deletedPods.length = 0;
      const phases = Object.values(retried.status?.nodes ?? {}).map((n) => `${n.displayName}:${n.phase}`);
      expect(phases).not.toContain("train(0):Failed");
      expect(phases).toContain("gen:Succeeded");
    }
    const copy = await handle.resubmit();
    expect(copy.name).toMatch(new RegExp(`^${handle.name}-[a-z0-9]{5}$`));
    const stored = server.workflow("argo", copy.name) as Workflow;
    expect(stored.metadata.labels?.["workflows.argoproj.io/resubmitted-from-workflow"]).toBe(handle.name);
    expect(stored.spec.entrypoint).toBe("main");
  });

  it("deletes a workflow", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    await handle.delete();
    expect(server.workflow("argo", handle.name)).toBeUndefined();
    await expect(handle.get()).rejects.toThrow(new RegExp(`not found \\(404\\): workflows.argoproj.io "${handle.name}" not found`));
  });

  it("never sends the token inside a manifest", () => {
    for (const r of server.requests) expect(r.body).not.toContain(TOKEN);
  });
});

describe("workflowHandle", () => {
  it("attaches to an existing workflow by name", async () => {
    const created = await submitWorkflow(manifest(), { kubeconfig, env: {} });
    drive("argo", created.name, "Succeeded");
    const handle = workflowHandle(created.name, { kubeconfig, env: {} });
    expect(await handle.phase()).toBe("Succeeded");
  });
});

describe("submission guards", () => {
  it("refuses a manifest with a literal credential in an env var", async () => {
    const m = manifest();
    m.spec.templates![1]!.container!.env = [{ name: "AWS_SECRET_ACCESS_KEY", value: "hunter2hunter2" }];
    await expect(submitWorkflow(m, { kubeconfig, env: {} })).rejects.toThrow(
      /template "gen": env AWS_SECRET_ACCESS_KEY holds a literal value that looks like a credential; use valueFrom.secretKeyRef/,
    );
  });

  it("refuses a manifest that contains the cluster token", async () => {
    const m = manifest();
    m.metadata.annotations = { note: TOKEN };
    const error = await submitWorkflow(m, { kubeconfig, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitError);
    expect((error as Error).message).toMatch(/contains the cluster token/);
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it("calls the artifact upload hook before submitting", async () => {
    const calls: string[] = [];
    const handle = await submitWorkflow(manifest(), {
      kubeconfig,
      env: {},
      uploadLocalArtifacts: async (m) => {
        calls.push("upload");
        return { ...m, metadata: { ...m.metadata, annotations: { uploaded: "yes" } } };
      },
    });
    expect(calls).toEqual(["upload"]);
    expect(server.workflow("argo", handle.name)?.metadata.annotations).toEqual({ uploaded: "yes" });
  });
});
