/**
 * Argo's semantics of suspend nodes waiting for a person, from workflow/util/util.go
 * (`ResumeWorkflow`, `updateSuspendedNode`, `OverrideOutputParametersWithDefault`) and
 * workflow/controller/operator.go (`addRawOutputFields`) at v4.1.2.
 */
import { describe, expect, it } from "vitest";
import type { NodeStatus, Workflow } from "./model.ts";
import { isActiveSuspendNode, outputsWithDefaults, resumedWorkflow, resumeSuspendNodes, setSuspendNodes, setWorkflowNodes, suppliedOutputs } from "./suspend-nodes.ts";

const NOW = "2026-01-01T00:00:00Z";

function waiting(displayName: string, params: NodeStatus["outputs"] = { parameters: [{ name: "message", valueFrom: { supplied: {} } }] }): NodeStatus {
  return { id: `wf-${displayName}`, name: `wf[0].${displayName}`, displayName, type: "Suspend", phase: "Running", templateName: displayName, ...(params ? { outputs: params } : {}) };
}

describe("suspend nodes waiting for a person", () => {
  it("start with the template's supplied outputs, defaulting to the input of the same name (addRawOutputFields)", () => {
    expect(
      suppliedOutputs({
        name: "approval",
        suspend: {},
        inputs: { parameters: [{ name: "approve", default: "NO", enum: ["YES", "NO"] }] },
        outputs: { parameters: [{ name: "approve", valueFrom: { supplied: {} } }, { name: "other", valueFrom: { path: "/tmp/x" } }] },
      }),
    ).toEqual({ parameters: [{ name: "approve", valueFrom: { supplied: {}, default: "NO" } }] });
    expect(suppliedOutputs({ name: "plain", suspend: {} })).toBeUndefined();
    expect(isActiveSuspendNode(waiting("a"))).toBe(true);
    expect(isActiveSuspendNode({ ...waiting("a"), phase: "Succeeded" })).toBe(false);
    expect(isActiveSuspendNode({ ...waiting("a"), type: "Pod" })).toBe(false);
  });

  it("a resume without selector gives unset outputs their defaults, and refuses (changing nothing) when one has none", () => {
    const withDefault = waiting("a", { parameters: [{ name: "approve", valueFrom: { supplied: {}, default: "NO" } }] });
    const [c] = resumeSuspendNodes([withDefault, { ...waiting("done"), phase: "Succeeded" }], undefined, NOW);
    expect(c?.after).toMatchObject({ phase: "Succeeded", finishedAt: NOW, outputs: { parameters: [{ name: "approve", value: "NO" }] } });
    expect(c?.after.outputs?.parameters?.[0]?.valueFrom).toBeUndefined();
    expect(withDefault.phase).toBe("Running"); // the input is not changed
    expect(() => resumeSuspendNodes([withDefault, waiting("b")])).toThrow(`node "b": raw output parameter 'message' has not been set and does not have a default value`);
    expect(() => outputsWithDefaults({ parameters: [{ name: "x", valueFrom: { supplied: {} } }] })).toThrow("raw output parameter 'x' has not been set and does not have a default value");
    expect(resumeSuspendNodes([{ ...waiting("a"), phase: "Succeeded" }])).toEqual([]);
  });

  it("a resume with a selector ends the matching nodes Succeeded as they are; one matching none is an error", () => {
    const changes = resumeSuspendNodes([waiting("a"), waiting("b")], "displayName=b", NOW);
    expect(changes.map((c) => [c.after.displayName, c.after.phase])).toEqual([["b", "Succeeded"]]);
    expect(changes[0]?.after.outputs?.parameters?.[0]).toEqual({ name: "message", valueFrom: { supplied: {} } });
    expect(() => resumeSuspendNodes([waiting("a")], "displayName=c")).toThrow(/node field selector "displayName=c": no suspend node waiting to be resumed matches it/);
    expect(() => resumeSuspendNodes([waiting("a")], "colour=red")).toThrow(/unknown field "colour"/);
  });

  it("node set refuses what Argo refuses, naming the node and the output", () => {
    const { outputs: _, ...bare } = waiting("a");
    expect(() => setSuspendNodes([bare], { nodeFieldSelector: "displayName=a", outputParameters: { x: "1" } })).toThrow(
      `node "a": cannot set output parameters because node is not expecting any raw parameters`,
    );
    expect(() => setSuspendNodes([waiting("a")], { nodeFieldSelector: "displayName=a", outputParameters: { x: "1" } })).toThrow(`node "a": node is not expecting output parameter 'x' (it expects 'message')`);
    const set = { ...waiting("a"), outputs: { parameters: [{ name: "message", value: "given" }] } };
    expect(() => setSuspendNodes([set], { nodeFieldSelector: "displayName=a", outputParameters: { message: "1" } })).toThrow(/cannot set output parameter 'message' because it does not use valueFrom.supplied or it was already set/);
    expect(() => setSuspendNodes([waiting("a")], { nodeFieldSelector: "displayName=a", phase: "Skipped" })).toThrow(`node set: phase must be one of Running, Succeeded, Failed, Error, got "Skipped"`);
    const [c] = setSuspendNodes([waiting("a")], { nodeFieldSelector: "displayName=a", outputParameters: { message: "ok" }, message: "approved by QA" }, NOW);
    expect(c?.after).toMatchObject({ phase: "Running", message: "approved by QA", outputs: { parameters: [{ name: "message", value: "ok" }] } });
    expect(c?.after.finishedAt).toBeUndefined();
  });

  it("on a workflow: spec.suspend cleared by a plain resume, globalName outputs published by node set", () => {
    const node = waiting("a", { parameters: [{ name: "message", globalName: "approval", valueFrom: { supplied: {} } }] });
    const wf: Workflow = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "wf" }, spec: { entrypoint: "main", suspend: true }, status: { phase: "Running", nodes: { [node.id]: node } } };
    const set = setWorkflowNodes(wf, { nodeFieldSelector: "displayName=a", outputParameters: { message: "go" } }, NOW);
    expect(set.status?.outputs?.parameters).toEqual([{ name: "approval", value: "go" }]);
    expect(set.spec.suspend).toBe(true);
    const resumed = resumedWorkflow(set, undefined, NOW);
    expect(resumed.spec.suspend).toBeUndefined();
    expect(resumed.status?.nodes?.[node.id]?.phase).toBe("Succeeded");
    expect(wf.status?.nodes?.[node.id]?.phase).toBe("Running");
  });
});
