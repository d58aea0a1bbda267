/**
 * Keyed reuse on Argo against the fake Kubernetes API: the workflow is named before it is
 * sent, its keyed templates carry a v4-valid `memoize`, and the reused steps' outputs are in
 * its memoization ConfigMap — in Argo's cache entry format, under the keys Argo computes from
 * the memoize key expression — before the workflow exists.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ArgoClient } from "./client.ts";
import { createArgoClient } from "./create-argo-client.ts";
import { z } from "zod";
import { MEMO_KEY_EXPRESSION, checkReuseTargets, memoCacheKey, memoizeKeyedTemplates, type MemoCacheEntry } from "./memoize.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { ContainerTemplate } from "../template/container-template.ts";
import { Workflow as OpflowWorkflow } from "../workflow/workflow.ts";
import type { NodeStatus, Template, Workflow } from "./model.ts";
import { argoNodeId } from "./pod-name.ts";
import type { ArgoStep } from "./query.ts";
import { modifyOutputs, reusableSteps } from "./reuse.ts";
import { SubmitError } from "../errors.ts";
import { substituteTags } from "../expr/tags.ts";
import { iterate } from "../../examples/reuse.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { FakeKubeServer, schemaCauses } from "../../test/fake-kube-server.ts";
import { opflow } from "../../test/cli-capture.ts";

const TOKEN = "fake-sa-token-reuse-91c2";
const NS = "argo";
let server: FakeKubeServer;
let dir: string;
let client: ArgoClient;
let kubeconfig: string;

beforeAll(async () => {
  server = await FakeKubeServer.start({ token: TOKEN });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-argo-reuse-"));
  kubeconfig = server.writeKubeconfig(dir, { token: TOKEN, namespace: NS });
  client = createArgoClient({ kubeconfig, env: {} });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  server.reset(TOKEN);
  server.configMaps.clear();
  server.requests.length = 0;
});

/** The first run as the controller leaves it: plus-one ran for iter 0, 1, 2 (keys recorded as inputs). */
async function finishedFirstRun(): Promise<{ name: string; steps: (key: string) => Promise<ArgoStep[]> }> {
  const handle = await iterate(3).submit({ client, mode: "cluster" });
  const name = handle.name;
  const nodes: Record<string, NodeStatus> = {};
  for (const i of [0, 1, 2]) {
    const nodeName = `${name}${".next".repeat(i)}[0].plus-one`;
    const id = argoNodeId(name, nodeName);
    nodes[id] = {
      id,
      name: nodeName,
      displayName: "plus-one",
      type: "Pod",
      phase: "Succeeded",
      templateName: "plus-one",
      inputs: { parameters: [{ name: "opflow-key", value: `iter-${i}` }, { name: "iter", value: String(i) }] },
      outputs: { parameters: [{ name: "iter", value: String(i + 1), valueFrom: { path: "/tmp/outputs/parameters/iter" } }], exitCode: "0" },
    };
  }
  server.setStatus(NS, name, { phase: "Succeeded", nodes });
  return { name, steps: (key) => handle.querySteps({ key }) };
}

// The fake validates every created workflow against the whole CRD (compiled once: slow on a busy machine).
describe("keyed reuse on Argo (fake Kubernetes API)", { timeout: 120_000 }, () => {
  it("names the workflow, memoizes keyed templates and writes the reused outputs into its cache ConfigMap first", async () => {
    const first = await finishedFirstRun();
    const [iter0] = await first.steps("iter-0");
    const [iter1] = await first.steps("iter-1");
    const second = await iterate(6).submit({ client, mode: "cluster", reuse: [iter0 as ArgoStep, modifyOutputs(iter1 as ArgoStep, { parameters: { iter: 4 } })] });

    // Named here, not by the server: the cache is named after it.
    const wf = server.workflow(NS, second.name) as Workflow;
    expect(wf.metadata.generateName).toBeUndefined();
    expect(second.name).toMatch(/^reuse-[a-z0-9]{5}$/);
    const plusOne = wf.spec.templates?.find((t) => t.name === "plus-one") as Template;
    const cmName = `opflow-memo-${second.name}`;
    expect(plusOne.memoize).toEqual({ key: MEMO_KEY_EXPRESSION, maxAge: "720h", cache: { configMap: { name: cmName } } });
    // The loop template takes no key: no memoize.
    expect(wf.spec.templates?.find((t) => t.name === "iterate")?.memoize).toBeUndefined();

    // The ConfigMap, as Argo's controller reads it.
    const cm = server.configMap(NS, cmName) as { metadata: { labels: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string }[] }; data: Record<string, string> };
    expect(cm.metadata.labels).toEqual({ "workflows.argoproj.io/configmap-type": "Cache" });
    expect(Object.keys(cm.data).sort()).toEqual([memoCacheKey("iter-0"), memoCacheKey("iter-1")].sort());
    for (const k of Object.keys(cm.data)) expect(k).toMatch(/^[a-zA-Z0-9][-a-zA-Z0-9]*$/);
    // The key Argo computes from the memoize expression for the node keyed iter-1 is the entry's.
    const argoKey = substituteTags(MEMO_KEY_EXPRESSION, { "inputs.parameters.opflow-key": "iter-1" });
    expect(argoKey).toBe(memoCacheKey("iter-1"));
    const entry = JSON.parse(cm.data[argoKey] as string) as MemoCacheEntry;
    expect(Object.keys(entry).sort()).toEqual(["creationTimestamp", "lastHitTimestamp", "nodeID", "outputs"]);
    expect(entry.nodeID).toBe(iter1?.id);
    expect(entry.outputs).toEqual({ parameters: [{ name: "iter", value: "4" }], exitCode: "0" });
    expect(entry.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(JSON.parse(cm.data[memoCacheKey("iter-0")] as string).outputs.parameters).toEqual([{ name: "iter", value: "1" }]);
    // Deleted with the workflow.
    expect(cm.metadata.ownerReferences).toEqual([{ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", name: second.name, uid: wf.metadata.uid }]);

    // The cache was complete before the workflow existed.
    const order = server.requests.map((r) => `${r.method} ${r.url.split("?")[0]}`);
    const cmWrite = order.indexOf(`POST /api/v1/namespaces/${NS}/configmaps`);
    const wfCreate = order.lastIndexOf(`POST /apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows`);
    expect(cmWrite).toBeGreaterThanOrEqual(0);
    expect(cmWrite).toBeLessThan(wfCreate);
  });

  it.skipIf(!haveArgoCheck)("renders memoize the v4 CRD accepts, where dflow's form without maxAge is rejected", async () => {
    const m = memoizeKeyedTemplates({ ...iterate(6).compile({ warn: () => {} }), metadata: { name: "reuse-abcde" } });
    const r = await argoCheck([m]);
    expect(r.ok, r.output).toBe(true);
    expect(schemaCauses(m)).toEqual([]);
    const dflowLike = structuredClone(m);
    for (const t of dflowLike.spec.templates ?? []) if (t.memoize) delete t.memoize.maxAge;
    expect(schemaCauses(dflowLike).map((c) => c.message).join(" ")).toMatch(/maxAge/);
  });

  it("writes into an existing cache ConfigMap, but never into a ConfigMap that is not one", async () => {
    const first = await finishedFirstRun();
    const [iter0] = await first.steps("iter-0");
    const wf = { ...iterate(6).compile({ warn: () => {} }), metadata: { name: "reuse-fixed" } };
    // A cache left by an earlier submission of the same name: kept, entries added.
    await client.create({ ...wf, metadata: { name: "other" } });
    server.configMaps.set(`${NS}/opflow-memo-reuse-fixed`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "opflow-memo-reuse-fixed", namespace: NS, resourceVersion: "5", labels: { "workflows.argoproj.io/configmap-type": "Cache" } }, data: { old: "{}" } });
    await client.create(wf, { reuse: [iter0 as ArgoStep] });
    expect(Object.keys((server.configMap(NS, "opflow-memo-reuse-fixed") as { data: object }).data).sort()).toEqual([memoCacheKey("iter-0"), "old"].sort());

    server.configMaps.set(`${NS}/opflow-memo-reuse-foreign`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "opflow-memo-reuse-foreign", namespace: NS, resourceVersion: "6" }, data: { settings: "x" } });
    const err = await client.create({ ...wf, metadata: { name: "reuse-foreign" } }, { reuse: [iter0 as ArgoStep] }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ConfigMap "opflow-memo-reuse-foreign" in namespace "argo" exists but is not a memoization cache .*refusing/);
    expect(server.workflow(NS, "reuse-foreign")).toBeUndefined();
    expect((server.configMap(NS, "opflow-memo-reuse-foreign") as { data: object }).data).toEqual({ settings: "x" });
  });

  it("says so when RBAC forbids writing ConfigMaps, and submits nothing", async () => {
    const first = await finishedFirstRun();
    const [iter0] = await first.steps("iter-0");
    server.deny = [{ verb: "create", resource: "configmaps" }];
    const err = await client.create({ ...iterate(6).compile({ warn: () => {} }), metadata: { name: "reuse-denied" } }, { reuse: [iter0 as ArgoStep] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmitError);
    expect((err as Error).message).toMatch(/configmaps/);
    expect((err as Error).message).not.toContain(TOKEN);
    expect(server.workflow(NS, "reuse-denied")).toBeUndefined();
  });

  it("refuses reuse through Argo Server, steps without a key, and steps that did not succeed", async () => {
    const viaServer = createArgoClient({ argoServer: server.url, token: TOKEN, namespace: NS, env: {} });
    const first = await finishedFirstRun();
    const [iter0] = (await first.steps("iter-0")) as [ArgoStep];
    await expect(viaServer.create(iterate(6).compile({ warn: () => {} }), { reuse: [iter0] })).rejects.toThrow(/reusing steps through Argo Server: .*only the Kubernetes API can write; submit with a kubeconfig/);
    expect(() => reusableSteps([{ ...iter0, key: undefined } as ArgoStep])).toThrow(/reuse: step "plus-one" \(.*\) has no key; only keyed steps can be reused/);
    expect(() => reusableSteps([{ ...iter0, phase: "Failed" }])).toThrow(/reuse: step "plus-one" \(key "iter-0"\) is Failed; only Succeeded steps can be reused/);
    // A failed attempt beside the successful one is fine.
    expect(reusableSteps([{ ...iter0, phase: "Failed", id: "x" }, iter0]).get("iter-0")?.id).toBe(iter0.id);
    expect(() => modifyOutputs(iter0, { parameters: { nope: 1 } })).toThrow(/modifyOutputs: step "plus-one" has no output parameter "nope" \(it has: iter\)/);
  });

  it("gives steps that call a keyed template without a key an unmemoized copy of it", () => {
    const keyed: Template = { name: "work", inputs: { parameters: [{ name: "opflow-key", default: "" }] }, container: { image: "busybox", command: ["true"] } };
    const wf: Workflow = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { name: "mixed" },
      spec: {
        entrypoint: "main",
        templates: [
          { name: "main", steps: [[{ name: "a", template: "work", arguments: { parameters: [{ name: "opflow-key", value: "k-a" }] } }, { name: "b", template: "work", hooks: { exit: { template: "work" } } }]] },
          keyed,
        ],
      },
    };
    const m = memoizeKeyedTemplates(wf, { maxAge: "24h" });
    const [a, b] = m.spec.templates?.[0]?.steps?.[0] ?? [];
    expect(a?.template).toBe("work");
    expect(b?.template).toBe("work-nokey");
    expect(b?.hooks?.["exit"]?.template).toBe("work-nokey");
    expect(m.spec.templates?.find((t) => t.name === "work")?.memoize?.maxAge).toBe("24h");
    expect(m.spec.templates?.find((t) => t.name === "work-nokey")?.memoize).toBeUndefined();
    expect(() => memoizeKeyedTemplates(wf, { maxAge: "30 days" })).toThrow(/memoize maxAge must be a Go duration such as "24h" or "90m", got "30 days"/);
    expect(() => memoizeKeyedTemplates({ ...wf, metadata: { generateName: "mixed-" } })).toThrow(/keyed reuse needs metadata\.name/);
  });

  it("opflow resubmit NAME --reuse[=KEYS] takes over the original's Succeeded keyed steps", async () => {
    const first = await finishedFirstRun();
    const some = await opflow("resubmit", first.name, "--reuse=iter-0,iter-2", "--kubeconfig", kubeconfig);
    expect(some.code, some.stderr).toBe(0);
    const copy = /resubmitted as (\S+)/.exec(some.stdout)?.[1] as string;
    const wf = server.workflow(NS, copy) as Workflow;
    expect(wf.metadata.labels?.["workflows.argoproj.io/resubmitted-from-workflow"]).toBe(first.name);
    expect(wf.spec.templates?.find((t) => t.name === "plus-one")?.memoize?.cache.configMap.name).toBe(`opflow-memo-${copy}`);
    expect(Object.keys((server.configMap(NS, `opflow-memo-${copy}`) as { data: object }).data).sort()).toEqual([memoCacheKey("iter-0"), memoCacheKey("iter-2")].sort());

    const all = await opflow("resubmit", first.name, "--reuse", "--kubeconfig", kubeconfig);
    expect(all.code, all.stderr).toBe(0);
    const copy2 = /resubmitted as (\S+)/.exec(all.stdout)?.[1] as string;
    expect(Object.keys((server.configMap(NS, `opflow-memo-${copy2}`) as { data: object }).data)).toHaveLength(3);

    // Without --reuse: a plain copy, no memoize, no ConfigMap.
    const plain = await opflow("resubmit", first.name, "--kubeconfig", kubeconfig);
    const copy3 = /resubmitted as (\S+)/.exec(plain.stdout)?.[1] as string;
    expect((server.workflow(NS, copy3) as Workflow).spec.templates?.some((t) => t.memoize)).toBe(false);
    expect(server.configMap(NS, `opflow-memo-${copy3}`)).toBeUndefined();
  });
});

describe("a template's own memoize and keyed memoize on one template", { timeout: 120_000 }, () => {
  /** A keyed loop step over a template with its own `memoize` option (dflow's `memoize_key`). */
  function ownMemoized(): Workflow {
    const work = new ContainerTemplate({
      name: "work",
      image: "busybox",
      inputs: { x: param(z.number()) },
      command: ["true"],
      memoize: { key: "work-{{inputs.parameters.x}}", maxAge: "1h", cache: "team-cache" },
    });
    const plain = new ContainerTemplate({ name: "plain", image: "busybox", command: ["true"] });
    const main = new Steps({ name: "main" });
    main.add(new Step("work", work, { parameters: { x: 1 }, key: "work-1" }));
    main.add(new Step("unkeyed", work, { parameters: { x: 2 } }));
    main.add(new Step("plain", plain, { key: "plain-1" }));
    return { ...new OpflowWorkflow({ generateName: "own-", entrypoint: main }).compile(), metadata: { name: "own-abcde" } };
  }

  it("keeps the author's memoize block (it takes precedence); other keyed templates get the keyed one", async () => {
    const m = memoizeKeyedTemplates(ownMemoized());
    const work = m.spec.templates?.filter((t) => t.name.startsWith("work")) ?? [];
    // One template, one memoize block: the author's, unchanged; no unkeyed copy is needed.
    expect(work.map((t) => t.name)).toEqual(["work"]);
    expect(work[0]?.memoize).toEqual({ key: "work-{{inputs.parameters.x}}", maxAge: "1h", cache: { configMap: { name: "team-cache" } } });
    expect(m.spec.templates?.find((t) => t.name === "plain")?.memoize?.key).toBe(MEMO_KEY_EXPRESSION);
    if (haveArgoCheck) expect((await argoCheck([m])).output).toMatch(/1 passed, 0 failed/);
  });

  it("refuses to reuse a step of such a template on Argo, naming the step and the template", async () => {
    const step = { id: "own-1", name: "own[0].work", displayName: "work", key: "work-1", type: "Pod", phase: "Succeeded", templateName: "work", children: [], inputs: { parameters: {}, artifacts: {} }, outputs: { parameters: {}, artifacts: {} }, values: {} } as ArgoStep;
    expect(() => checkReuseTargets(ownMemoized(), [step])).toThrow(/reuse: step "work" \(key "work-1"\) cannot be reused on Argo: its template "work" has its own memoize \(key "work-\{\{inputs.parameters.x\}\}"\), which takes precedence over keyed reuse/);
    const err = await client.create(ownMemoized(), { reuse: [step] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmitError);
    // Nothing was written or created.
    expect(server.configMaps.size).toBe(0);
    // A step of a template without its own memoize is fine.
    expect(() => checkReuseTargets(ownMemoized(), [{ ...step, displayName: "plain", key: "plain-1", templateName: "plain" }])).not.toThrow();
  });
});
