import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { NodeStatus } from "../argo/model.ts";
import { workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { atomicWrite, nodeDirName, StateTree } from "./state-tree.ts";
import { readRunStatus } from "./run-folder.ts";
import { parseYamlDocuments } from "../argo/parse-yaml.ts";
import type { Workflow } from "../argo/model.ts";

afterAll(removeWorkdirs);

const pod = (phase: NodeStatus["phase"]): NodeStatus => ({ id: "wf-1", name: "wf[0].a", displayName: "a", type: "Pod", phase });

describe("state tree", () => {
  it("writes manifest.yaml so that Go's YAML 1.1 reader (kubectl, argo submit) reads the same values", async () => {
    const dir = await workdir();
    const manifest: Workflow = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { name: "wf" },
      spec: {
        entrypoint: "main",
        arguments: { parameters: [{ name: "n", value: "on" }, { name: "y", value: "0755" }] },
        templates: [{ name: "main", inputs: { parameters: [{ name: "n" }, { name: "y" }] }, container: { image: "x", command: ["sh", "-c", "echo {{inputs.parameters.n}}\nexit 0\n"] } }],
      },
    };
    await new StateTree(dir, "wf").init(manifest);
    for (const file of ["manifest.yaml", "manifests/attempt-1.yaml"]) {
      expect(parseYamlDocuments(await fs.readFile(path.join(dir, "wf", file), "utf8"), file)).toEqual([manifest]);
    }
  });

  it("names step folders after Argo node names without the workflow prefix", () => {
    expect(nodeDirName("wf", "wf")).toBe("_root");
    expect(nodeDirName("wf", "wf[1].hello2a")).toBe("[1].hello2a");
    expect(nodeDirName("wf", "wf.A")).toBe("A");
    expect(nodeDirName("wf", "wf[0].f(3:a/b)")).toMatch(/^\[0\]\.f\(3:a_b\)-[0-9a-z]+$/);
    expect(nodeDirName("wf", "wf[0].x", "my-key")).toBe("my-key");
    expect(Buffer.byteLength(nodeDirName("wf", `wf.${"x".repeat(300)}`))).toBeLessThanOrEqual(255);
  });

  it("cuts folder names at 255 bytes of UTF-8 and creates them", async () => {
    const dir = await workdir();
    const cjk = "数".repeat(90); // 90 UTF-16 units, 270 bytes
    const emoji = "👩‍👩‍👧‍👦".repeat(12); // 132 UTF-16 units, 300 bytes
    const ascii = "k".repeat(200); // unchanged: within 255 bytes
    for (const key of [cjk, emoji, ascii, "é".repeat(300)]) {
      const name = nodeDirName("wf", "wf[0].x", key);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
      expect(name).not.toContain("\uFFFD");
      await fs.mkdir(path.join(dir, name));
    }
    expect(nodeDirName("wf", "wf[0].x", ascii)).toBe(ascii);
    expect(nodeDirName("wf", "wf[0].x", cjk)).not.toBe(nodeDirName("wf", "wf[0].x", `${cjk}数`));
    expect(await fs.readdir(dir)).toHaveLength(4);
  });

  it("keeps bidi controls, control characters and lone surrogates out of folder names", () => {
    for (const bad of ["evil\u202Etxt.exe", "a\u2066b\u2069", "x\u0085y", "tab\there", "lone\ud800", "rlm\u200f", "alm\u061c"]) {
      const name = nodeDirName("wf", "wf[0].x", bad);
      expect(name).toMatch(/^[a-z_.]+-[0-9a-z]+$/);
    }
    expect(nodeDirName("wf", "wf[0].x", "..")).toMatch(/^_\.\.-[0-9a-z]+$/);
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
    const { status, engineAlive } = await readRunStatus(path.join(dir, "wf"));
    expect(status.phase).toBe("Running");
    expect(engineAlive).toBe(true);
    expect(status.nodes?.["wf-1"]?.phase).toBe("Succeeded");
    await tree.finish();
  });
});
