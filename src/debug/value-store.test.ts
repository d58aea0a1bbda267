import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeStatus, Workflow } from "../argo/model.ts";
import type { LocalBinding } from "../contract.ts";
import { readRunStatus } from "./run-folder.ts";
import { runWorkflow } from "./run.ts";
import { StateTree } from "./state-tree.ts";
import { VALUE_INLINE_MAX, VALUES_DIR, ValueReader, ValueStore } from "./value-store.ts";

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-values-"));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Bytes of a folder, each file once (hard links count once, as `du`). */
async function treeBytes(dir: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await fs.stat(p);
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}

function node(value: string, result?: string): NodeStatus {
  return {
    id: "n",
    name: "wf.n",
    displayName: "n",
    type: "Pod",
    phase: "Succeeded",
    inputs: { parameters: [{ name: "big", value }, { name: "small", value: "s" }] },
    outputs: { parameters: [{ name: "out", value }], ...(result !== undefined ? { result } : {}) },
  };
}

describe("ValueStore", () => {
  it("keeps small values inline and the node itself", () => {
    const store = new ValueStore(path.join(root, "small"));
    const n = node("x".repeat(VALUE_INLINE_MAX));
    expect(store.refer(n)).toBe(n);
  });

  it("stores a large value once, refers to it, and reads it back", async () => {
    const dir = path.join(root, "once");
    const store = new ValueStore(dir);
    const big = "v".repeat(VALUE_INLINE_MAX + 1);
    const n = node(big, big);
    const rec = store.refer(n);
    const text = JSON.stringify(rec);
    expect(text.length).toBeLessThan(1000);
    expect(text).not.toContain("vvvv");
    expect(await fs.readdir(path.join(dir, VALUES_DIR))).toHaveLength(1);
    expect(new ValueReader(dir).resolve(JSON.parse(text) as NodeStatus)).toEqual(n);
  });

  it("leaves out a record whose stored value was changed or removed; reads inline records as they are", async () => {
    const dir = path.join(root, "changed");
    const store = new ValueStore(dir);
    const rec = JSON.parse(JSON.stringify(store.refer(node("w".repeat(VALUE_INLINE_MAX + 5))))) as NodeStatus;
    const [file] = await fs.readdir(path.join(dir, VALUES_DIR));
    await fs.writeFile(path.join(dir, VALUES_DIR, file as string), "tampered");
    expect(new ValueReader(dir).resolve(rec)).toBeUndefined();
    await fs.rm(path.join(dir, VALUES_DIR), { recursive: true });
    expect(new ValueReader(dir).resolve(rec)).toBeUndefined();
    const inline = node("old format");
    expect(new ValueReader(dir).resolve(inline)).toEqual(inline);
  });

  it("reads a reference that is not a SHA-256 as missing, never as a path", () => {
    const rec = { ...node("x"), inputs: { parameters: [{ name: "p", valueRef: "../../etc/passwd" }] } } as unknown as NodeStatus;
    expect(new ValueReader(path.join(root, "none")).resolve(rec)).toBeUndefined();
  });
});

describe("a 10 MB value in a run (issue 14 item 11)", () => {
  const MB10 = 10_000_000;
  const wf: Workflow = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "big-value" },
    spec: {
      entrypoint: "main",
      templates: [
        {
          name: "main",
          steps: [
            [{ name: "big", template: "size", arguments: { parameters: [{ name: "v", value: `{{=sprig.repeat(${MB10}, 'y')}}` }] } }],
            [{ name: "after", template: "size", arguments: { parameters: [{ name: "v", value: "{{steps.big.outputs.parameters.n}}" }] } }],
          ],
        },
        {
          name: "size",
          inputs: { parameters: [{ name: "v" }] },
          outputs: { parameters: [{ name: "n", valueFrom: { path: "/tmp/outputs/parameters/n" } }] },
          container: { image: "node:20-slim", command: ["opflow-op"] },
        },
      ],
    },
  };
  let runs = 0;
  const size: LocalBinding = async (task) => {
    runs++;
    const v = await fs.readFile(path.join(task.root, "inputs/parameters/v"), "utf8");
    await fs.writeFile(path.join(task.root, "outputs/parameters/n"), String(v.length));
    return { exitCode: 0 };
  };

  it("makes a state tree and a status near 1x the value, and resumes with it", async () => {
    const workdir = path.join(root, "run");
    const bindings = new Map([["size", size]]);
    const r = await runWorkflow(wf, { workdir, bindings });
    expect(r.status.phase).toBe("Succeeded");
    const dir = path.join(workdir, "big-value");
    const bytes = await treeBytes(dir);
    // The step's input file (a link to the stored value) and nothing else of that size.
    expect(bytes).toBeGreaterThanOrEqual(MB10);
    expect(bytes).toBeLessThan(MB10 * 1.1);
    expect((await fs.stat(path.join(dir, "nodes.jsonl"))).size).toBeLessThan(100_000);
    expect((await fs.stat(path.join(dir, "workflow.json"))).size).toBeLessThan(100_000);
    // The status document holds the value once (the step's inputs, Argo's shape).
    expect(JSON.stringify(r.status).length).toBeLessThan(MB10 * 1.1);
    const big = Object.values(r.status.nodes ?? {}).find((n) => n.displayName === "big");
    expect(big?.outputs?.parameters?.[0]?.value).toBe(String(MB10));
    // Read back from outside the engine: the whole value.
    const read = await readRunStatus(dir);
    const readBig = Object.values(read.status.nodes ?? {}).find((n) => n.displayName === "big");
    expect(readBig?.inputs?.parameters?.[0]?.value?.length).toBe(MB10);
    const stored = [...(await new StateTree(workdir, "big-value").load()).values()].find((s) => s.node.displayName === "big");
    expect(stored?.node.inputs?.parameters?.[0]?.value?.length).toBe(MB10);
    // Resumed: nothing runs again.
    const before = runs;
    const again = await runWorkflow(wf, { workdir, bindings, name: "big-value" });
    expect(again.status.phase).toBe("Succeeded");
    expect(runs).toBe(before);
    expect(again.reusedNodes).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
