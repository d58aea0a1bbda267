import { describe, expect, expectTypeOf, it } from "vitest";
import type { Artifact, NodeStatus, Workflow } from "./model.ts";
import { argoNodeId, argoNameHash, podName, podNameOf } from "./pod-name.ts";
import { artifactArgument, globalOutputs, querySteps, workflowPhase, type ArgoStep, type QueriedStep } from "./query.ts";
import { filterWorkflows, labelSelector, nodeFieldSelector, resubmittedWorkflow, retryPlan } from "./control.ts";
import { resumedWorkflow } from "./suspend-nodes.ts";
import { waitDurationMs } from "./wait.ts";

function node(partial: Partial<NodeStatus> & Pick<NodeStatus, "name" | "displayName" | "type" | "phase">): NodeStatus {
  return { id: argoNodeId("wf", partial.name), ...partial };
}

const wf: Workflow = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Workflow",
  metadata: { name: "wf", namespace: "argo" },
  spec: { entrypoint: "main", templates: [] },
};

describe("Argo names", () => {
  it("hashes node names with 32-bit FNV-1a as Argo does", () => {
    expect(argoNameHash("hello")).toBe(1335831723);
    expect(argoNameHash("world")).toBe(933488787);
    expect(argoNodeId("wf", "wf")).toBe("wf");
    expect(argoNodeId("wf", "wf[0].a")).toBe(`wf-${argoNameHash("wf[0].a")}`);
  });

  it("names pods <workflow>-<template>-<hash> (v2) or by node id (v1)", () => {
    const n = { name: "wf[0].a", id: "wf-123", templateName: "say" };
    expect(podName("wf", n)).toBe(`wf-say-${argoNameHash("wf[0].a")}`);
    expect(podName("wf", n, "v1")).toBe("wf-123");
    expect(podName("wf", { name: "wf", id: "wf", templateName: "main" })).toBe("wf");
    expect(podName("w".repeat(250), n)).toHaveLength(242 + 1 + String(argoNameHash("wf[0].a")).length);
    const v1: Workflow = { ...wf, metadata: { ...wf.metadata, annotations: { "workflows.argoproj.io/pod-name-format": "v1" } } };
    expect(podNameOf(v1, node({ name: "wf[0].a", displayName: "a", type: "Pod", phase: "Running", templateName: "say" }))).toBe(argoNodeId("wf", "wf[0].a"));
  });
});

describe("querySteps", () => {
  const artifact: Artifact = { name: "model", path: "/tmp/outputs/artifacts/model", s3: { key: "wf/model.tgz" }, archive: { none: {} }, globalName: "m" };
  const status: NonNullable<Workflow["status"]> = {
    phase: "Succeeded",
    nodes: Object.fromEntries(
      [
        node({ name: "wf", displayName: "wf", type: "Steps", phase: "Succeeded", startedAt: "2026-01-01T00:00:00Z", children: [argoNodeId("wf", "wf[0]")] }),
        node({ name: "wf[0]", displayName: "[0]", type: "StepGroup", phase: "Succeeded", startedAt: "2026-01-01T00:00:01Z", boundaryID: "wf" }),
        node({
          name: "wf[0].train(0:a)",
          displayName: "train(0:a)",
          type: "Pod",
          phase: "Succeeded",
          templateName: "train",
          startedAt: "2026-01-01T00:00:02Z",
          inputs: { parameters: [{ name: "opflow-key", value: "train-a" }, { name: "lr", value: "0.1" }] },
          outputs: { parameters: [{ name: "loss", value: "0.5" }], artifacts: [artifact], exitCode: "0" },
        }),
        node({
          name: "wf[0].train(1:b)",
          displayName: "train(1:b)",
          type: "Pod",
          phase: "Failed",
          templateName: "train",
          startedAt: "2026-01-01T00:00:03Z",
          inputs: { parameters: [{ name: "dflow_key", value: "train-b" }] },
          message: "Error (exit code 1)",
        }),
      ].map((n) => [n.id, n]),
    ),
    outputs: { parameters: [{ name: "best", value: "0.5" }], artifacts: [{ name: "m", s3: { key: "wf/model.tgz" } }] },
  };
  const run: Workflow = { ...wf, status };

  it("returns typed steps in start order, without StepGroup bookkeeping nodes", () => {
    const steps = querySteps(run);
    expectTypeOf(steps).toEqualTypeOf<QueriedStep[]>();
    expect(steps.map((s) => s.displayName)).toEqual(["wf", "train(0:a)", "train(1:b)"]);
  });

  it("filters by name (exact, glob, RegExp, list), key, phase, type and id", () => {
    const names = (f: Parameters<typeof querySteps>[1]): string[] => querySteps(run, f).map((s) => s.displayName);
    expect(names({ name: "train(0:a)" })).toEqual(["train(0:a)"]);
    expect(names({ name: "train*" })).toEqual(["train(0:a)", "train(1:b)"]);
    expect(names({ name: /\(1:/ })).toEqual(["train(1:b)"]);
    expect(names({ name: ["wf", "train(1:b)"] })).toEqual(["wf", "train(1:b)"]);
    expect(names({ key: "train-a" })).toEqual(["train(0:a)"]);
    expect(names({ key: ["train-a", "train-b"] })).toEqual(["train(0:a)", "train(1:b)"]);
    expect(names({ phase: "Failed" })).toEqual(["train(1:b)"]);
    expect(names({ type: "Steps" })).toEqual(["wf"]);
    expect(names({ type: "StepGroup" })).toEqual(["[0]"]);
    expect(names({ id: argoNodeId("wf", "wf[0].train(0:a)") })).toEqual(["train(0:a)"]);
    expect(names({ name: "train*", phase: "Succeeded", type: "Pod" })).toEqual(["train(0:a)"]);
  });

  it("gives parameters as strings and artifacts as references without paths", () => {
    const [a] = querySteps(run, { key: "train-a" });
    expect(a?.key).toBe("train-a");
    expect(a?.podName).toBe(`wf-train-${argoNameHash("wf[0].train(0:a)")}`);
    expect(a?.inputs.parameters).toEqual({ "opflow-key": "train-a", lr: "0.1" });
    expect(a?.outputs.parameters).toEqual({ loss: "0.5" });
    expect(a?.outputs.exitCode).toBe("0");
    expect(a?.outputs.artifacts["model"]).toEqual({ name: "model", s3: { key: "wf/model.tgz" } });
    expect(artifactArgument(artifact, "weights")).toEqual({ name: "weights", s3: { key: "wf/model.tgz" } });
    expect(globalOutputs(run)).toEqual({ parameters: { best: "0.5" }, artifacts: { m: { name: "m", s3: { key: "wf/model.tgz" } } } });
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it("reports Pending before the controller sets a phase", () => {
    expect(workflowPhase(wf)).toBe("Pending");
    expect(workflowPhase(run)).toBe("Succeeded");
    expect(querySteps(wf)).toEqual([]);
  });
});

describe("control transformations", () => {
  const failed: Workflow = {
    ...wf,
    spec: { ...wf.spec, shutdown: "Stop", suspend: true },
    metadata: { ...wf.metadata, labels: { team: "x", "workflows.argoproj.io/phase": "Failed" } },
    status: {
      phase: "Failed",
      finishedAt: "2026-01-01T00:01:00Z",
      message: "child failed",
      nodes: Object.fromEntries(
        [
          node({ name: "wf", displayName: "wf", type: "DAG", phase: "Failed", children: [argoNodeId("wf", "wf.a"), argoNodeId("wf", "wf.b")], finishedAt: "x" }),
          node({ name: "wf.a", displayName: "a", type: "Pod", phase: "Succeeded", templateName: "t" }),
          node({ name: "wf.b", displayName: "b", type: "Pod", phase: "Failed", templateName: "t" }),
          node({ name: "wf.s", displayName: "s", type: "Suspend", phase: "Running" }),
        ].map((n) => [n.id, n]),
      ),
    },
  };

  it("retry removes failed leaves, resets their ancestors and lists the pods to delete", () => {
    const plan = retryPlan(failed);
    const nodes = Object.values(plan.workflow.status?.nodes ?? {});
    expect(nodes.map((n) => `${n.displayName}:${n.phase}`).sort()).toEqual(["a:Succeeded", "s:Running", "wf:Running"]);
    expect(plan.removedPods.map((n) => n.displayName)).toEqual(["b"]);
    expect(plan.workflow.status?.phase).toBe("Running");
    expect(plan.workflow.status?.finishedAt).toBeUndefined();
    expect(plan.workflow.spec.shutdown).toBeUndefined();
    expect(plan.workflow.metadata.labels?.["workflows.argoproj.io/completed"]).toBe("false");
    expect(failed.status?.phase).toBe("Failed"); // the input is not modified
    expect(() => retryPlan({ ...failed, status: { phase: "Running" } })).toThrow(/only a Failed or Error workflow can be retried; its phase is Running/);
    const again = retryPlan(failed, { restartSuccessful: true, nodeFieldSelector: "templateName=t" });
    expect(again.removedPods.map((n) => n.displayName).sort()).toEqual(["a", "b"]);
    const none = retryPlan(failed, { restartSuccessful: true, nodeFieldSelector: "templateName=t,displayName!=a" });
    expect(none.removedPods.map((n) => n.displayName)).toEqual(["b"]);
  });

  it("reads node field selectors as Argo does, and names what is wrong with a bad one", () => {
    const a = node({ name: "wf.a", displayName: "a", type: "Pod", phase: "Succeeded", templateName: "train", inputs: { parameters: [{ name: "lr", value: "0.1" }] } });
    expect(nodeFieldSelector("templateName=train")(a)).toBe(true);
    expect(nodeFieldSelector("templateName==train, phase=Succeeded")(a)).toBe(true);
    expect(nodeFieldSelector("templateName=train,displayName!=a")(a)).toBe(false);
    expect(nodeFieldSelector("inputs.parameters.lr.value=0.1")(a)).toBe(true);
    expect(nodeFieldSelector("inputs.parameters.epochs.value!=3")(a)).toBe(true);
    expect(() => nodeFieldSelector("colour=red")).toThrow(/unknown field "colour"; fields are displayName, name, id, templateName, phase/);
    expect(() => nodeFieldSelector("templateName")).toThrow(/term "templateName" is not field=value or field!=value/);
    expect(() => nodeFieldSelector(" , ")).toThrow(/is empty/);
  });

  it("resume clears spec.suspend and completes waiting suspend nodes", () => {
    const r = resumedWorkflow(failed, undefined, "2026-01-01T00:02:00Z");
    expect(r.spec.suspend).toBeUndefined();
    const s = Object.values(r.status?.nodes ?? {}).find((n) => n.type === "Suspend");
    expect(s?.phase).toBe("Succeeded");
    expect(s?.finishedAt).toBe("2026-01-01T00:02:00Z");
  });

  it("resubmit copies the spec under generateName, keeping user labels only", () => {
    const r = resubmittedWorkflow(failed);
    expect(r.metadata).toEqual({ generateName: "wf-", labels: { team: "x", "workflows.argoproj.io/resubmitted-from-workflow": "wf" } });
    expect(r.spec.shutdown).toBeUndefined();
    expect(r.spec.suspend).toBeUndefined();
    expect(r.status).toBeUndefined();
  });

  it("builds label selectors and filters by phase and prefix, newest first", () => {
    expect(labelSelector({ labels: { a: "1", b: "2" } })).toBe("a=1,b=2");
    expect(labelSelector({ labels: " a in (x,y) " })).toBe("a in (x,y)");
    expect(labelSelector({})).toBeUndefined();
    expect(labelSelector({ labels: { a: "1" }, phases: ["Running", "Failed"] })).toBe("a=1,workflows.argoproj.io/phase in (Running,Failed)");
    expect(labelSelector({ phases: ["Pending", "Running"] })).toBeUndefined();
    const mk = (name: string, phase: "" | "Running", ts: string): Workflow => ({ ...wf, metadata: { name, creationTimestamp: ts }, status: { phase } });
    const items = [mk("a-1", "", "2026-01-01T00:00:00Z"), mk("a-2", "Running", "2026-01-02T00:00:00Z"), mk("b-1", "Running", "2026-01-03T00:00:00Z")];
    expect(filterWorkflows(items, { namePrefix: "a-" }).map((w) => w.metadata.name)).toEqual(["a-2", "a-1"]);
    expect(filterWorkflows(items, { phases: ["Pending"] }).map((w) => w.metadata.name)).toEqual(["a-1"]);
  });
});

describe("durations", () => {
  it("reads durations with units", () => {
    expect(waitDurationMs("250ms")).toBe(250);
    expect(waitDurationMs("1.5s")).toBe(1500);
    expect(waitDurationMs("2m")).toBe(120_000);
    expect(waitDurationMs("1h")).toBe(3_600_000);
    // @ts-expect-error a bare number has no unit
    expect(() => waitDurationMs(30)).toThrow(/must be a number followed by ms, s, m or h/);
  });
});

describe("querySteps: parentId, key lists, getScript, modifyOutput… (dflow's ArgoStep)", () => {
  const nextId = argoNodeId("loop", "loop[1].next");
  const loop: Workflow = {
    ...wf,
    metadata: { name: "loop", namespace: "argo" },
    spec: {
      entrypoint: "main",
      templates: [
        { name: "main", steps: [[{ name: "a", template: "a" }], [{ name: "next", template: "main" }]] },
        { name: "a", script: { image: "python:3", command: ["python3"], source: "print(1 + 1)\n" } },
        { name: "b", container: { image: "node:20", command: ["node", "/tmp/opflow/abc.mjs"], args: ["--op", "b"] } },
      ],
    },
    status: {
      phase: "Succeeded",
      nodes: Object.fromEntries(
        [
          node({ name: "loop", displayName: "loop", type: "Steps", phase: "Succeeded", templateName: "main", startedAt: "2026-01-01T00:00:00Z" }),
          node({ name: "loop[0].a", displayName: "a", type: "Pod", phase: "Succeeded", templateName: "a", boundaryID: "loop", startedAt: "2026-01-01T00:00:01Z", inputs: { parameters: [{ name: "opflow-key", value: "iter-0" }] }, outputs: { parameters: [{ name: "n", value: "1" }], artifacts: [{ name: "log", s3: { key: "loop/log-0" } }] } }),
          node({ name: "loop[1].next", displayName: "next", type: "Steps", phase: "Succeeded", templateName: "main", boundaryID: "loop", startedAt: "2026-01-01T00:00:02Z" }),
          node({ name: "loop[1].next[0].a", displayName: "a", type: "Pod", phase: "Succeeded", templateName: "a", boundaryID: nextId, startedAt: "2026-01-01T00:00:03Z", inputs: { parameters: [{ name: "opflow-key", value: "iter-1" }] }, outputs: { parameters: [{ name: "n", value: "2" }] } }),
          node({ name: "loop[1].next[1].b", displayName: "b", type: "Pod", phase: "Succeeded", templateName: "b", boundaryID: nextId, startedAt: "2026-01-01T00:00:04Z" }),
        ].map((n) => [n.id, n]),
      ),
    },
  };

  it("filters by the Steps/DAG node a step belongs to (parentId), one id or several", () => {
    expect(querySteps(loop, { parentId: nextId }).map((s) => s.name)).toEqual(["loop[1].next[0].a", "loop[1].next[1].b"]);
    expect(querySteps(loop, { parentId: "loop", type: "Pod" }).map((s) => s.key)).toEqual(["iter-0"]);
    expect(querySteps(loop, { parentId: ["loop", nextId], name: "a" })).toHaveLength(2);
    expect(querySteps(loop, { parentId: "nope" })).toEqual([]);
  });

  it("takes a list of keys", () => {
    expect(querySteps(loop, { key: ["iter-1", "iter-0", "iter-9"] }).map((s) => s.key)).toEqual(["iter-0", "iter-1"]);
  });

  it("gives each step its template's script or command (getScript), and keeps steps plain data", () => {
    const [a, , b] = querySteps(loop, { type: "Pod" });
    expect(a?.getScript()).toBe("print(1 + 1)\n");
    expect(b?.getScript()).toBe("node /tmp/opflow/abc.mjs --op b");
    expect(querySteps(loop, { id: "loop" })[0]?.getScript()).toBeUndefined();
    // The methods do not show in JSON or in comparisons.
    expect(Object.keys(a as object)).not.toContain("getScript");
    expect(JSON.parse(JSON.stringify(a))).not.toHaveProperty("getScript");
  });

  it("replaces an output parameter or artifact on a copy (modifyOutputParameter / modifyOutputArtifact)", () => {
    const [a0, a1] = querySteps(loop, { name: "a" }) as [QueriedStep, QueriedStep];
    const changed = a0.modifyOutputParameter("n", 5).modifyOutputArtifact("log", a1.outputs.artifacts["log"] ?? { s3: { key: "loop/other" } });
    expect(changed.outputs.parameters).toEqual({ n: "5" });
    expect(changed.values).toEqual({ n: 5 });
    expect(changed.outputs.artifacts["log"]).toEqual({ name: "log", s3: { key: "loop/other" } });
    // A copy: the queried step is unchanged, and the copy keeps the methods.
    expect(a0.outputs.parameters).toEqual({ n: "1" });
    expect(changed.getScript()).toBe("print(1 + 1)\n");
    expect(() => a0.modifyOutputParameter("m", 1)).toThrow(/modifyOutputs: step "a" has no output parameter "m" \(it has: n\)/);
    expect(() => a1.modifyOutputArtifact("log", { s3: { key: "x" } })).toThrow(/modifyOutputs: step "a" has no output artifact "log" \(it has: none\)/);
  });
});
