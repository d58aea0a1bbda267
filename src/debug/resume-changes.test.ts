/**
 * Resume is correct by construction: after a change, exactly the nodes whose digest changed —
 * and the nodes downstream of them, whose inputs change in turn — run again; the rest is taken
 * over. Each test asserts which ran, which were reused and why.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Template, Workflow } from "../argo/model.ts";
import { LocalStorageClient } from "../storage/local.ts";
import { manifest, node, outParam } from "../../test/helpers/engine.ts";
import { runWorkflow, type RunResult } from "./run.ts";

let base: string;
beforeAll(async () => {
  // Outside /tmp, which steps may see as their own folder.
  base = await fs.mkdtemp("/var/tmp/opflow-resume-changes-");
});
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

/** A step that logs "<name>" to the journal, then runs `script` (its output parameter v from out.txt). */
function step(journal: string, name: string, script: string, extra: Partial<Template> = {}): Template {
  return {
    name,
    outputs: { parameters: [{ name: "v", valueFrom: { path: "/tmp/workdir/out.txt" } }] },
    container: { image: "busybox", command: ["sh", "-c", `echo ${name} >> ${journal}; ${script}`] },
    ...extra,
  };
}

const input = (name: string): Partial<Template> => ({ inputs: { parameters: [{ name }] } });

/**
 * a(n) → c ; b → d ; e(data artifact from the store) → f. Two groups: [a, b, e] then [c, d, f].
 */
function graph(journal: string, changes: { bScript?: string } = {}): Workflow {
  return manifest(
    "graph",
    [
      {
        name: "main",
        steps: [
          [
            { name: "a", template: "a", arguments: { parameters: [{ name: "n", value: "{{workflow.parameters.n}}" }] } },
            { name: "b", template: "b" },
            { name: "e", template: "e", arguments: { artifacts: [{ name: "data", s3: { key: "inputs/data.txt" } }] } },
          ],
          [
            { name: "c", template: "c", arguments: { parameters: [{ name: "v", value: "{{steps.a.outputs.parameters.v}}" }] } },
            { name: "d", template: "d", arguments: { parameters: [{ name: "v", value: "{{steps.b.outputs.parameters.v}}" }] } },
            { name: "f", template: "f", arguments: { parameters: [{ name: "v", value: "{{steps.e.outputs.parameters.v}}" }] } },
          ],
        ],
      },
      step(journal, "a", "echo $(( {{inputs.parameters.n}} * 2 )) > out.txt", input("n")),
      step(journal, "b", changes.bScript ?? "echo 7 > out.txt"),
      step(journal, "e", "wc -l < {{inputs.artifacts.data.path}} | tr -d ' ' > out.txt", { inputs: { artifacts: [{ name: "data", path: "/tmp/inputs/artifacts/data" }] } }),
      step(journal, "c", "echo $(( {{inputs.parameters.v}} + 1 )) > out.txt", input("v")),
      step(journal, "d", "echo $(( {{inputs.parameters.v}} + 1 )) > out.txt", input("v")),
      step(journal, "f", "echo $(( {{inputs.parameters.v}} + 1 )) > out.txt", input("v")),
    ],
    { arguments: { parameters: [{ name: "n", value: "5" }] } },
  );
}

interface Setup {
  readonly workdir: string;
  readonly journal: string;
  readonly storage: LocalStorageClient;
  /** Steps that ran since the last call. */
  ran(): Promise<string[]>;
  run(wf: Workflow, options?: { parameters?: Record<string, string>; restart?: boolean }): Promise<RunResult>;
}

async function setup(label: string): Promise<Setup> {
  const workdir = path.join(base, label);
  await fs.mkdir(workdir, { recursive: true });
  const journal = path.join(workdir, "journal.txt");
  const storage = new LocalStorageClient({ root: path.join(workdir, ".storage") });
  const data = path.join(workdir, "data.txt");
  await fs.writeFile(data, "x\ny\n");
  await storage.upload(data, "inputs/data.txt");
  let seen = 0;
  return {
    workdir,
    journal,
    storage,
    async ran() {
      const lines = (await fs.readFile(journal, "utf8").catch(() => "")).split("\n").filter(Boolean);
      const fresh = lines.slice(seen);
      seen = lines.length;
      return fresh.sort();
    },
    run: (wf, options = {}) => runWorkflow(wf, { workdir, name: "graph", storage, ...options }),
  };
}

const names = (r: RunResult, which: "reused" | "rerun"): string[] => r.resume[which].map((n) => n.name.replace(/^graph\[\d\]\./, "")).sort();

describe("resume after a change", () => {
  it("a parameter change re-runs the step that reads it and its descendants, nothing else", async () => {
    const s = await setup("param");
    const first = await s.run(graph(s.journal));
    expect(first.status.phase).toBe("Succeeded");
    expect(await s.ran()).toEqual(["a", "b", "c", "d", "e", "f"]);

    const second = await s.run(graph(s.journal), { parameters: { n: "10" } });
    expect(second.status.phase).toBe("Succeeded");
    expect(await s.ran()).toEqual(["a", "c"]);
    expect(names(second, "reused")).toEqual(["b", "d", "e", "f"]);
    const why = Object.fromEntries(second.resume.rerun.map((r) => [r.name, r.reasons]));
    expect(Object.keys(why).sort()).toEqual(["graph[0].a", "graph[1].c"]);
    expect(why["graph[0].a"]).toEqual(['parameter n changed ("5" → "10")']);
    expect(why["graph[1].c"]).toEqual(['parameter v changed ("10" → "20")']);
    expect(outParam(node(second.status, "c"), "v")).toBe("21");
    expect(outParam(node(second.status, "d"), "v")).toBe("8");

    // Unchanged again: every step is taken over.
    const third = await s.run(graph(s.journal), { parameters: { n: "10" } });
    expect(await s.ran()).toEqual([]);
    expect(names(third, "reused")).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(third.resume.rerun).toEqual([]);
  }, 60_000);

  it("a manifest change re-runs the changed template's steps and their descendants, and keeps each attempt's manifest", async () => {
    const s = await setup("manifest");
    await s.run(graph(s.journal));
    await s.ran();
    const second = await s.run(graph(s.journal, { bScript: "echo 8 > out.txt" }));
    expect(second.status.phase).toBe("Succeeded");
    expect(await s.ran()).toEqual(["b", "d"]);
    expect(names(second, "reused")).toEqual(["a", "c", "e", "f"]);
    const why = Object.fromEntries(second.resume.rerun.map((r) => [r.name.replace(/^graph\[\d\]\./, ""), r.reasons]));
    expect(why["b"]?.[0]).toMatch(/^template changed/);
    expect(why["d"]).toEqual(['parameter v changed ("7" → "8")']);
    // Both attempts' manifests are kept; manifest.yaml is the one that ran last.
    const dir = path.join(s.workdir, "graph");
    expect((await fs.readdir(path.join(dir, "manifests"))).sort()).toEqual(["attempt-1.yaml", "attempt-2.yaml"]);
    const text = async (f: string): Promise<string> => (await fs.readFile(path.join(dir, f), "utf8")).replace(/\s+/g, " ");
    expect(await text("manifests/attempt-1.yaml")).toContain("echo 7 > out.txt");
    expect(await text("manifests/attempt-2.yaml")).toContain("echo 8 > out.txt");
    expect(await text("manifest.yaml")).toContain("echo 8 > out.txt");
  }, 60_000);

  it("an input artifact whose content changed re-runs the step that reads it and its descendants", async () => {
    const s = await setup("artifact");
    await s.run(graph(s.journal));
    await s.ran();
    const data = path.join(s.workdir, "data.txt");
    await fs.writeFile(data, "x\ny\nz\n");
    await s.storage.upload(data, "inputs/data.txt");
    const second = await s.run(graph(s.journal));
    expect(second.status.phase).toBe("Succeeded");
    expect(await s.ran()).toEqual(["e", "f"]);
    expect(names(second, "reused")).toEqual(["a", "b", "c", "d"]);
    const why = Object.fromEntries(second.resume.rerun.map((r) => [r.name.replace(/^graph\[\d\]\./, ""), r.reasons]));
    expect(why["e"]).toEqual(["input artifact data changed"]);
    expect(why["f"]).toEqual(['parameter v changed ("2" → "3")']);
    expect(outParam(node(second.status, "f"), "v")).toBe("4");
  }, 60_000);

  it("restart runs everything again on purpose", async () => {
    const s = await setup("restart");
    await s.run(graph(s.journal));
    await s.ran();
    const again = await s.run(graph(s.journal), { restart: true });
    expect(again.status.phase).toBe("Succeeded");
    expect(await s.ran()).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(again.resume).toEqual({ reused: [], rerun: [] });
    expect(await fs.readdir(path.join(s.workdir, "graph", "manifests"))).toEqual(["attempt-1.yaml"]);
  }, 60_000);

  it("a step that re-ran with the same outputs leaves its descendants' inputs, and so them, unchanged", async () => {
    const s = await setup("cutoff");
    await s.run(graph(s.journal));
    await s.ran();
    // b changes, but still prints 7: d's input is the same value, so d's result cannot differ.
    const second = await s.run(graph(s.journal, { bScript: "echo $(( 3 + 4 )) > out.txt" }));
    expect(await s.ran()).toEqual(["b"]);
    expect(names(second, "rerun")).toEqual(["b"]);
    expect(names(second, "reused")).toEqual(["a", "c", "d", "e", "f"]);
  }, 60_000);

  it("keeps a loop's items in order, however long their digests take", async () => {
    const s = await setup("order");
    // The first item's input artifact takes long to checksum, the second's not at all.
    const big = path.join(s.workdir, "big.bin");
    await fs.writeFile(big, Buffer.alloc(40 * 1024 * 1024, 7));
    await s.storage.upload(big, "inputs/big.bin");
    await fs.writeFile(path.join(s.workdir, "small.bin"), "x");
    await s.storage.upload(path.join(s.workdir, "small.bin"), "inputs/small.bin");
    const wf = manifest("order", [
      { name: "main", steps: [[{ name: "each", template: "size", withItems: ["big", "small"], arguments: { parameters: [{ name: "which", value: "{{item}}" }], artifacts: [{ name: "f", s3: { key: "inputs/{{item}}.bin" } }] } }]], outputs: { parameters: [{ name: "all", valueFrom: { parameter: "{{steps.each.outputs.parameters.v}}" } }] } },
      step(s.journal, "size", "echo {{inputs.parameters.which}} > out.txt", { inputs: { parameters: [{ name: "which" }], artifacts: [{ name: "f", path: "/tmp/inputs/artifacts/f" }] } }),
    ]);
    const r = await runWorkflow(wf, { workdir: s.workdir, storage: s.storage });
    expect(r.status.phase).toBe("Succeeded");
    expect(JSON.parse(outParam(node(r.status, "order"), "all") as string)).toEqual(["big", "small"]);
  }, 60_000);
});
