import { describe, expect, it } from "vitest";
import type { NodeStatus, WorkflowStatus } from "../argo/model.ts";
import { renderStatus } from "./status-view.ts";

const t = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function n(id: string, name: string, displayName: string, type: NodeStatus["type"], phase: NodeStatus["phase"], extra: Partial<NodeStatus> = {}): NodeStatus {
  return { id, name, displayName, type, phase, startedAt: t(0), finishedAt: t(2), ...extra };
}

describe("renderStatus", () => {
  it("renders Argo's status as a tree with phases, durations, retries and progress", () => {
    const status: WorkflowStatus = {
      phase: "Failed",
      startedAt: t(0),
      finishedAt: t(3),
      message: "child 'wf-3' failed",
      nodes: {
        wf: n("wf", "wf", "wf", "Steps", "Failed", { children: ["wf-1"] }),
        "wf-1": n("wf-1", "wf[0]", "[0]", "StepGroup", "Failed", { boundaryID: "wf", children: ["wf-2", "wf-3"] }),
        "wf-2": n("wf-2", "wf[0].ok", "ok", "Pod", "Succeeded", { boundaryID: "wf" }),
        "wf-3": n("wf-3", "wf[0].flaky", "flaky", "Retry", "Failed", { boundaryID: "wf", children: ["wf-4", "wf-5"], message: "No more retries left" }),
        "wf-4": n("wf-4", "wf[0].flaky(0)", "flaky(0)", "Pod", "Failed", { boundaryID: "wf", message: "Error (exit code 1)" }),
        "wf-5": n("wf-5", "wf[0].flaky(1)", "flaky(1)", "Pod", "Failed", { boundaryID: "wf", message: "Error (exit code 1)" }),
      },
    };
    const text = renderStatus(status, { name: "wf" });
    expect(text.split("\n")).toEqual([
      "wf  Failed  3.0s  1/2",
      "message: child 'wf-3' failed",
      "✖ wf  Failed  2.0s  1/2",
      "└─ [0]  2.0s  1/2",
      "   ├─ ✔ ok  Succeeded  2.0s",
      "   └─ ✖ flaky  Failed  2.0s  1 retry  No more retries left",
      "      ├─ ✖ flaky(0)  Failed  2.0s  Error (exit code 1)",
      "      └─ ✖ flaky(1)  Failed  2.0s  Error (exit code 1)",
    ]);
  });

  it("shows every attempt of a retried DAG task and the tasks that depend on it (issue 13: the tree hid them)", () => {
    // Argo hangs a DAG task off the node of the task it depends on (workflow/controller/dag.go,
    // addChildNode of each dependency's node): here b is a child of a's Retry node.
    const status: WorkflowStatus = {
      phase: "Succeeded",
      startedAt: t(0),
      finishedAt: t(3),
      nodes: {
        wf: n("wf", "wf", "wf", "DAG", "Succeeded", { children: ["a"] }),
        a: n("a", "wf.a", "a", "Retry", "Succeeded", { boundaryID: "wf", children: ["a0", "a1", "a2", "b"] }),
        a0: n("a0", "wf.a(0)", "a(0)", "Pod", "Failed", { boundaryID: "wf", message: "TransientError: flaky" }),
        a1: n("a1", "wf.a(1)", "a(1)", "Pod", "Failed", { boundaryID: "wf", message: "TransientError: flaky" }),
        a2: n("a2", "wf.a(2)", "a(2)", "Pod", "Succeeded", { boundaryID: "wf" }),
        b: n("b", "wf.b", "b", "Retry", "Succeeded", { boundaryID: "wf", children: ["b0"] }),
        b0: n("b0", "wf.b(0)", "b(0)", "Pod", "Succeeded", { boundaryID: "wf" }),
      },
    };
    expect(renderStatus(status, { name: "wf" }).split("\n")).toEqual([
      "wf  Succeeded  3.0s  2/2",
      "✔ wf  Succeeded  2.0s  2/2",
      "├─ ✔ a  Succeeded  2.0s  2 retries",
      "│  ├─ ✖ a(0)  Failed  2.0s  TransientError: flaky",
      "│  ├─ ✖ a(1)  Failed  2.0s  TransientError: flaky",
      "│  └─ ✔ a(2)  Succeeded  2.0s",
      "└─ ✔ b  Succeeded  2.0s",
      "   └─ ✔ b(0)  Succeeded  2.0s",
    ]);
  });

  it("says what a suspend node waiting for a person waits for, and the outputs to supply", () => {
    const status: WorkflowStatus = {
      phase: "Running",
      startedAt: t(0),
      nodes: {
        wf: n("wf", "wf", "wf", "Steps", "Running", { children: ["wf-1"] }),
        "wf-1": n("wf-1", "wf[0]", "[0]", "StepGroup", "Running", { boundaryID: "wf", children: ["wf-2", "wf-3"] }),
        "wf-2": n("wf-2", "wf[0].approve", "approve", "Suspend", "Running", { boundaryID: "wf", finishedAt: undefined, outputs: { parameters: [{ name: "message", valueFrom: { supplied: {} } }, { name: "done", value: "x" }] } }),
        "wf-3": n("wf-3", "wf[0].wait", "wait", "Suspend", "Running", { boundaryID: "wf", finishedAt: undefined }),
      },
    };
    const lines = renderStatus(status, { name: "wf", now: Date.parse(t(5)) }).split("\n");
    expect(lines.find((l) => l.includes("approve"))).toBe("   ├─ ◷ approve  Running  5.0s  waiting for `opflow resume wf` (to supply first with `opflow node set`: message)");
    expect(lines.find((l) => l.includes(" wait "))).toBe("   └─ ◷ wait  Running  5.0s  waiting for `opflow resume wf`");
  });

  it("marks steps taken from the cache, cache misses, and steps reused by key", () => {
    const status: WorkflowStatus = {
      phase: "Succeeded",
      startedAt: t(0),
      finishedAt: t(2),
      nodes: {
        wf: n("wf", "wf", "wf", "Steps", "Succeeded", { children: ["wf-1"] }),
        "wf-1": n("wf-1", "wf[0]", "[0]", "StepGroup", "Succeeded", { boundaryID: "wf", children: ["wf-2", "wf-3", "wf-4"] }),
        "wf-2": n("wf-2", "wf[0].a", "a", "Pod", "Succeeded", { boundaryID: "wf", memoizationStatus: { hit: true, key: "d1", cacheName: "opflow-step-cache" }, message: "cache hit: one/a" }),
        "wf-3": n("wf-3", "wf[0].b", "b", "Pod", "Succeeded", { boundaryID: "wf", memoizationStatus: { hit: false, key: "d2", cacheName: "opflow-step-cache" } }),
        "wf-4": n("wf-4", "wf[0].c", "c", "Pod", "Succeeded", { boundaryID: "wf", message: "reused from run-a (key c-1)" }),
      },
    };
    expect(renderStatus(status, { name: "wf" }).split("\n").slice(3)).toEqual([
      "   ├─ ✔ a  Succeeded  2.0s  cache hit",
      "   ├─ ✔ b  Succeeded  2.0s  cache miss",
      "   └─ ✔ c  Succeeded  2.0s  reused from run-a (key c-1)",
    ]);
  });

  it("summarises wide fan-outs and shows a leaf's own progress while it runs", () => {
    const nodes: Record<string, NodeStatus> = { wf: n("wf", "wf", "wf", "DAG", "Running", { finishedAt: undefined }) };
    for (let i = 0; i < 50; i++) nodes[`wf-${i}`] = n(`wf-${i}`, `wf.t${i}`, `t${i}`, "Pod", "Succeeded", { boundaryID: "wf" });
    nodes["wf-r"] = n("wf-r", "wf.run", "run", "Pod", "Running", { boundaryID: "wf", progress: "3/10", finishedAt: undefined });
    const text = renderStatus({ phase: "Running", nodes }, { now: Date.parse(t(5)), maxChildren: 5 });
    expect(text).toContain("◷ run  Running  5.0s  3/10");
    expect(text).toContain("… 47 more (47 Succeeded)");
  });
});
