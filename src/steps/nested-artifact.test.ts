import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import { DAG } from "../dag/dag.ts";
import { Task } from "../dag/task.ts";
import type { NestedPaths } from "../expr/nested-layout.ts";
import { type ArtifactPart, NestedArtifactPart } from "../expr/refs.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { OPTemplate } from "../template/op-template.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const layout = { model: { weights: "path", config: "path" }, runs: [{ log: "path" }] } as const;

// A tree with file names the manifest cannot know: only the catalog does.
const make = defineOp({
  name: "make",
  inputs: { n: param(z.number().int()) },
  outputs: { run: artifact.nested(layout), any: artifact.nested() },
  async execute({ n }, { workdir }) {
    const file = async (name: string, text: string): Promise<string> => {
      const f = path.join(workdir, name);
      await fs.writeFile(f, text);
      return f;
    };
    const runs = [];
    for (let i = 0; i < n; i++) runs.push({ log: await file(`log-${i}-${(i * 31) % 7}.txt`, `log ${i}`) });
    const weights = path.join(workdir, "weights-dir");
    await fs.mkdir(weights, { recursive: true });
    await fs.writeFile(path.join(weights, "w.bin"), "W");
    return {
      run: { model: { weights, config: await file("cfg-x.json", "{}") }, runs },
      any: { a: { b: await file("deep-b.txt", "deep b"), c: [await file("c0.txt", "c0")] } },
    };
  },
});
const M = OPTemplate.fromOp(make, { module: "ops.ts" });

// Consumes a whole tree and a sub-tree: lists what it got, as dotted keys and file names.
const describeTree = (tree: NestedPaths, prefix = ""): string[] =>
  typeof tree === "string"
    ? [`${prefix}=${path.basename(tree)}`]
    : Array.isArray(tree)
      ? tree.flatMap((t, i) => describeTree(t, `${prefix}${prefix ? "." : ""}${i}`))
      : Object.entries(tree).flatMap(([k, t]) => describeTree(t, `${prefix}${prefix ? "." : ""}${k}`));
const consume = defineOp({
  name: "consume",
  inputs: { tree: artifact.nested(), model: artifact.nested({ weights: "path", config: "path" }) },
  outputs: { seen: param(z.array(z.string())), config: param(z.string()) },
  async execute({ tree, model }) {
    expectTypeOf(model).toEqualTypeOf<{ weights: string; config: string }>();
    return { seen: describeTree(tree), config: await fs.readFile(model.config, "utf8") };
  },
});
const C = OPTemplate.fromOp(consume, { module: "ops.ts" });
// An OP taking one path: given a leaf by dotted key.
const readOne = defineOp({
  name: "read-one",
  inputs: { f: artifact() },
  outputs: { text: param(z.string()) },
  execute: async ({ f }) => ({ text: await fs.readFile(f, "utf8") }),
});
const R = OPTemplate.fromOp(readOne, { module: "ops.ts" });
const read = new ShellOPTemplate({
  name: "read",
  inputs: { f: artifact() },
  outputs: { text: param(z.string()) },
  source: [
    "set -eu",
    "mkdir -p /tmp/outputs/parameters",
    'if [ -f /tmp/inputs/artifacts/f ]; then cat /tmp/inputs/artifacts/f > /tmp/outputs/parameters/text; else echo "dir:$(ls /tmp/inputs/artifacts/f | tr "\\n" " ")" > /tmp/outputs/parameters/text; fi',
  ].join("\n"),
});

function build() {
  const dag = new DAG({
    name: "main",
    outputs: { seen: param(z.array(z.string())), config: param(z.string()), last: param(z.string()), deep: param(z.string()), weights: param(z.string()) },
  });
  const m = dag.add(new Task("make", M, { parameters: { n: 3 } }));
  const run = m.outputs.artifacts.run;
  const whole = dag.add(new Task("whole", C, { artifacts: { tree: run, model: run.key("model") } }));
  const last = dag.add(new Task("last", read, { artifacts: { f: run.key("runs").at(-1).key("log") } }));
  const deep = dag.add(new Task("deep", R, { artifacts: { f: m.outputs.artifacts.any.key("a.b") } }));
  const weights = dag.add(new Task("weights", read, { artifacts: { f: run.key("model.weights") } }));
  dag.setOutputs({
    parameters: {
      seen: whole.outputs.parameters.seen,
      config: whole.outputs.parameters.config,
      last: last.outputs.parameters.text,
      deep: deep.outputs.parameters.text,
      weights: weights.outputs.parameters.text,
    },
  });
  return { wf: new Workflow({ generateName: "nested-", entrypoint: dag }), m };
}

const outputsOf = (result: { name: string; status: { nodes?: Record<string, NodeStatus> } }) => {
  const root = Object.values(result.status.nodes ?? {}).find((n) => n.name === result.name) as NodeStatus;
  return (n: string) => root.outputs?.parameters?.find((x) => x.name === n)?.value?.trim();
};

describe("nested artifacts", () => {
  it("types each address by the layout: a level, or one path at a leaf", () => {
    const { m } = build();
    const run = m.outputs.artifacts.run;
    expectTypeOf(run.key("model.weights")).toEqualTypeOf<ArtifactPart>();
    expectTypeOf(run.key("model").key("config")).toEqualTypeOf<ArtifactPart>();
    expectTypeOf(run.key("runs").at(0).key("log")).toEqualTypeOf<ArtifactPart>();
    expectTypeOf(run.key("runs.1.log")).toEqualTypeOf<ArtifactPart>();
    expectTypeOf(run.key("model")).toEqualTypeOf<NestedArtifactPart<{ readonly weights: "path"; readonly config: "path" }>>();
    // @ts-expect-error the top level is a record: no index
    expect(() => run.at(0)).toThrow(/output artifact "run" of task "make": at\(\) cannot go to "0": at the top, a record level is addressed by key, not by index 0/);
    // @ts-expect-error no such key in the layout
    expect(() => run.key("model.bias")).toThrow(/the record level has no key "bias"/);
    // @ts-expect-error a leaf has no levels below it
    expect(() => run.key("model.weights.x")).toThrow(/a leaf \(a single path\) has no levels below it/);
    // @ts-expect-error "runs" is a list level: at(), not key()
    expect(() => run.key("runs").key("log")).toThrow(/a list level is addressed by index/);
    // @ts-expect-error a record level has no index
    expect(() => run.key("model").at(0)).toThrow(/a record level is addressed by key/);
    const plain = m.outputs.artifacts.any;
    expectTypeOf(plain.key("a.b")).toEqualTypeOf<NestedArtifactPart>();
    // @ts-expect-error key() on a single-path artifact
    void (() => dagInputs().io.artifacts.one.key("a"));
  });

  it("refuses keys with '..', '/' or empty parts, naming the artifact", () => {
    const { m } = build();
    for (const bad of ["a/b", "a..b", "", ".a"]) {
      expect(() => m.outputs.artifacts.any.key(bad)).toThrow(/output artifact "any" of task "make": key\(\) takes a record key or a dotted path/);
    }
    expect(() => artifact.nested({ "a.b": "path" })).toThrow(/a record key of a nested artifact is a plain name/);
    // @ts-expect-error the top of a layout is a list or a record
    expect(() => artifact.nested("path")).toThrow(/a single path is artifact\(\)/);
  });

  it("renders subPaths: a level's folder, a leaf read from the catalog", () => {
    const m = build().wf.compile();
    const make = m.spec.templates?.find((t) => t.name === "make");
    expect(make?.outputs?.parameters?.map((p) => [p.name, p.valueFrom?.default])).toEqual([
      ["opflow-catalog-run", "{}"],
      ["opflow-catalog-any", "{}"],
    ]);
    const tasks = m.spec.templates?.find((t) => t.name === "main")?.dag?.tasks ?? [];
    const arg = (n: string, a: string) => tasks.find((t) => t.name === n)?.arguments?.artifacts?.find((x) => x.name === a);
    const cat = 'fromJSON(tasks.make.outputs.parameters["opflow-catalog-run"])';
    expect(arg("whole", "tree")).toEqual({ name: "tree", from: "{{tasks.make.outputs.artifacts.run}}" });
    expect(arg("whole", "model")?.subPath).toBe(`{{=(type(get(${cat}, "model")) in ["map", "array"] ? "model" : "opflow-missing: no \\"model\\" in output artifact \\"run\\" of task \\"make\\"")}}`);
    expect(arg("weights", "f")?.subPath).toContain(`type(get(get(${cat}, "model"), "weights")) == "string" ? get(get(${cat}, "model"), "weights")`);
    expect(arg("last", "f")?.subPath).toContain(`get(get(get(${cat}, "runs"), -1), "log")`);
    expect(tasks.find((t) => t.name === "last")?.depends).toBe("make");
  });

  it("addresses by an index known only at run time, counted from the end when negative", async () => {
    const dag = new DAG({ name: "main", inputs: { i: param(z.number().int(), { default: -1 }) }, outputs: { text: param(z.string()), seen: param(z.array(z.string())) } });
    const m = dag.add(new Task("make", M, { parameters: { n: 2 } }));
    const runs = m.outputs.artifacts.run.key("runs");
    const t = dag.add(new Task("pick", read, { artifacts: { f: runs.at(dag.io.parameters.i).key("log") } }));
    const lvl = dag.add(new Task("lvl", C, { artifacts: { tree: runs.at(dag.io.parameters.i), model: m.outputs.artifacts.run.key("model") } }));
    dag.setOutputs({ parameters: { text: t.outputs.parameters.text, seen: lvl.outputs.parameters.seen } });
    const wf = new Workflow({ generateName: "nested-index-", entrypoint: dag });
    const tasks = wf.compile().spec.templates?.find((x) => x.name === "main")?.dag?.tasks ?? [];
    const sub = (n: string, a: string) => tasks.find((x) => x.name === n)?.arguments?.artifacts?.find((x) => x.name === a)?.subPath;
    const runsOf = 'get(fromJSON(tasks.make.outputs.parameters["opflow-catalog-run"]), "runs")';
    expect(sub("pick", "f")).toContain(`get(get(${runsOf}, int(asInt(inputs.parameters.i))), "log")`);
    expect(sub("lvl", "tree")).toContain(`"runs" + "/" + string(int(asInt(inputs.parameters.i)) < 0 ? len(${runsOf}) + int(asInt(inputs.parameters.i)) : int(asInt(inputs.parameters.i)))`);
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-nested-"));
    dirs.push(workdir);
    const result = await wf.run({ workdir });
    expect(result.status.phase).toBe("Succeeded");
    const out = outputsOf(result);
    expect([out("text"), JSON.parse(out("seen") as string)]).toEqual(["log 1", ["log=log-1-3.txt"]]);
  }, 120_000);

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build().wf.compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("round-trips on the local engine: a tree in, a sub-tree in, leaves by dotted key and index", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-nested-"));
    dirs.push(workdir);
    const result = await build().wf.run({ workdir });
    expect(result.status.phase).toBe("Succeeded");
    const out = outputsOf(result);
    expect(JSON.parse(out("seen") as string)).toEqual([
      "model.config=cfg-x.json",
      "model.weights=weights-dir",
      "runs.0.log=log-0-0.txt",
      "runs.1.log=log-1-3.txt",
      "runs.2.log=log-2-6.txt",
    ]);
    expect([out("config"), out("last"), out("deep"), out("weights")]).toEqual(["{}", "log 2", "deep b", "dir:w.bin"]);
  }, 120_000);

  it("fails the node naming the artifact and the key when a key is missing at run time", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-nested-"));
    dirs.push(workdir);
    const dag = new DAG({ name: "main" });
    const m = dag.add(new Task("make", M, { parameters: { n: 1 } }));
    dag.add(new Task("missing", read, { artifacts: { f: m.outputs.artifacts.any.key("a.zz") } }));
    const result = await new Workflow({ generateName: "nested-missing-", entrypoint: dag }).run({ workdir });
    expect(result.status.phase).toMatch(/^(Failed|Error)$/);
    const node = Object.values(result.status.nodes ?? {}).find((n) => n.displayName === "missing");
    expect(node?.message).toMatch(/input artifact "f": no "a\.zz" in output artifact "any" of task "make"/);
  }, 120_000);

  it("refuses bad output trees in the runner, naming the level", async () => {
    const bad = defineOp({
      name: "bad",
      inputs: {},
      outputs: { t: artifact.nested({ a: "path" }) },
      execute: async (_i, { workdir }) => {
        await fs.writeFile(path.join(workdir, "f"), "x");
        return { t: { a: ["f"] } } as unknown as { t: { a: string } };
      },
    });
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-nested-"));
    dirs.push(workdir);
    const result = await new Workflow({ generateName: "nested-bad-", entrypoint: OPTemplate.fromOp(bad, { module: "ops.ts" }) }).run({ workdir });
    expect(result.status.phase).toBe("Failed");
    expect(JSON.stringify(result.status.nodes)).toMatch(/artifact \\"t\\".a: expects a path \(string\), got a list/);
  });
});

function dagInputs() {
  return new DAG({ name: "inner", inputs: { one: artifact(), files: artifact.list(), sets: artifact.record(), tree: artifact.nested({ a: ["path"] }) } });
}

describe("at() and key() where no catalog is recorded", () => {
  it("addresses a template input's list and record by the layout's folders", () => {
    const inner = dagInputs();
    const files = inner.io.artifacts.files;
    expect(files.at(2).renderSubPath({} as never)).toBe("2");
    expect(inner.io.artifacts.sets.key("train").renderSubPath({} as never)).toBe("train");
    expect(inner.io.artifacts.tree.key("a").at(1).renderSubPath({} as never)).toBe("a/1");
    expect(() => files.at(-1)).toThrow(/input artifact "files" of template "inner": at\(-1\) counts from the end, which needs the list's length; only a catalog knows it/);
    expect(() => inner.io.artifacts.tree.key("a").at(-1)).toThrow(/input artifact "tree" of template "inner": at\(-1\) counts from the end/);
  });

  it("refuses a looped step's output, naming the step and the rule", () => {
    const dag = new DAG({ name: "d" });
    const lister = defineOp({ name: "lister", inputs: {}, outputs: { l: artifact.list() }, execute: async () => ({ l: [] }) });
    const t = dag.add(new Task("loop", OPTemplate.fromOp(lister, { module: "ops.ts" }), { withItems: [1, 2] }));
    expect(() => t.outputs.artifacts.l.at(0)).toThrow(/output artifact "l" of task "loop": at\(\) cannot address its items: it is the output of a looped step/);
  });

  it("passes an input list's item folder to a step on the local engine", async () => {
    const inner = new DAG({ name: "inner", inputs: { files: artifact.list() }, outputs: { text: param(z.string()) } });
    const r = inner.add(new Task("second", read, { artifacts: { f: inner.io.artifacts.files.at(1) } }));
    inner.setOutputs({ parameters: { text: r.outputs.parameters.text } });
    const dag = new DAG({ name: "main", outputs: { text: param(z.string()) } });
    const lister = defineOp({
      name: "lister",
      inputs: {},
      outputs: { l: artifact.list() },
      execute: async (_i, { workdir }) => {
        for (const n of ["x.txt", "y.txt"]) await fs.writeFile(path.join(workdir, n), n);
        return { l: ["x.txt", "y.txt"] };
      },
    });
    const l = dag.add(new Task("list", OPTemplate.fromOp(lister, { module: "ops.ts" }), {}));
    const i = dag.add(new Task("inner", inner, { artifacts: { files: l.outputs.artifacts.l } }));
    dag.setOutputs({ parameters: { text: i.outputs.parameters.text } });
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-nested-"));
    dirs.push(workdir);
    const result = await new Workflow({ generateName: "no-catalog-", entrypoint: dag }).run({ workdir });
    expect(result.status.phase).toBe("Succeeded");
    expect(outputsOf(result)("text")).toBe("dir:y.txt");
  }, 120_000);
});
