import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { NodeStatus } from "../argo/model.ts";
import { workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { atomicWrite, nodeDirName, StateTree } from "./state-tree.ts";

afterAll(removeWorkdirs);

const pod = (phase: NodeStatus["phase"]): NodeStatus => ({ id: "wf-1", name: "wf[0].a", displayName: "a", type: "Pod", phase });

describe("state tree", () => {
  it("names step folders after Argo node names without the workflow prefix", () => {
    expect(nodeDirName("wf", "wf")).toBe("_root");
    expect(nodeDirName("wf", "wf[1].hello2a")).toBe("[1].hello2a");
    expect(nodeDirName("wf", "wf.A")).toBe("A");
    expect(nodeDirName("wf", "wf[0].f(3:a/b)")).toMatch(/^\[0\]\.f\(3:a_b\)-[0-9a-z]+$/);
    expect(nodeDirName("wf", "wf[0].x", "my-key")).toBe("my-key");
    expect(nodeDirName("wf", `wf.${"x".repeat(300)}`).length).toBeLessThan(140);
  });

  it("writes atomically and leaves no temporary files", async () => {
    const dir = await workdir();
    await Promise.all(Array.from({ length: 20 }, (_, i) => atomicWrite(path.join(dir, "f"), `v${i}`)));
    expect(await fs.readdir(dir)).toEqual(["f"]);
    expect(await fs.readFile(path.join(dir, "f"), "utf8")).toMatch(/^v\d+$/);
  });

  it("records final phases at once, Running ones only when they last, and reads them back from the journal", async () => {
    // (type and phase files follow in the background; flush() waits for them)
    const dir = await workdir();
    const tree = new StateTree(dir, "wf", 50);
    await tree.init({ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "wf" }, spec: {} });
    tree.persistNode(pod("Pending"));
    await expect(fs.access(path.join(dir, "wf", "[0].a"))).rejects.toThrow();
    tree.persistNode(pod("Running"));
    await new Promise((r) => setTimeout(r, 120));
    await tree.flush();
    expect(await fs.readFile(path.join(dir, "wf", "[0].a", "phase"), "utf8")).toBe("Running");
    tree.persistNode({ ...pod("Succeeded"), outputs: { result: "ok" } });
    await tree.flush();
    expect(await fs.readFile(path.join(dir, "wf", "[0].a", "phase"), "utf8")).toBe("Succeeded");
    expect(await fs.readFile(path.join(dir, "wf", "[0].a", "type"), "utf8")).toBe("Pod");
    const loaded = await new StateTree(dir, "wf").load();
    expect(loaded.get("wf-1")?.node).toMatchObject({ phase: "Succeeded", outputs: { result: "ok" } });
    expect((await fs.readdir(path.join(dir, "wf", "[0].a"))).sort()).toEqual(["phase", "type"]);
    await tree.finish();
    // A line torn by a crash is ignored.
    await fs.appendFile(path.join(dir, "wf", "nodes.jsonl"), '{"dir":"x","node":{"id":"wf-2"');
    expect([...(await new StateTree(dir, "wf").load()).keys()]).toEqual(["wf-1"]);
  });

  it("rebuilds a run's status from its folder", async () => {
    const dir = await workdir();
    const tree = new StateTree(dir, "wf");
    await tree.init({ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "wf" }, spec: {} });
    tree.persistNode(pod("Succeeded"));
    const { status, engineAlive } = await StateTree.read(path.join(dir, "wf"));
    expect(status.phase).toBe("Running");
    expect(engineAlive).toBe(true);
    expect(status.nodes?.["wf-1"]?.phase).toBe("Succeeded");
    await tree.finish();
  });
});
