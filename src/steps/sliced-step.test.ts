import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import type { ArtifactRef, ParamRef } from "../expr/refs.ts";
import { OPTemplate } from "../template/op-template.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { Workflow } from "../workflow/workflow.ts";
import { slicedStep } from "./sliced-step.ts";
import { Step, rawArtifact as rawArtifactOf } from "./step.ts";
import { Steps } from "./steps.ts";

const gen = defineOp({
  name: "gen",
  inputs: { n: param(z.number().int()) },
  outputs: { xs: param(z.array(z.number())), files: artifact.list() },
  async execute({ n }, { workdir }) {
    const files: string[] = [];
    for (let i = 0; i < n; i++) {
      const f = path.join(workdir, `in-${i}.txt`);
      await fs.writeFile(f, `file ${i}`);
      files.push(f);
    }
    return { xs: Array.from({ length: n }, (_, i) => i + 1), files };
  },
});
const work = defineOp({
  name: "work",
  inputs: { x: param(z.number()), scale: param(z.number()), text: artifact() },
  outputs: { y: param(z.number()), label: param(z.string()), out: artifact() },
  async execute({ x, scale, text }, { workdir }) {
    const content = await fs.readFile(text, "utf8");
    const out = path.join(workdir, "out.txt");
    await fs.writeFile(out, `${content} → ${x * scale}`);
    return { y: x * scale, label: content, out };
  },
});
const total = defineOp({
  name: "total",
  inputs: { ys: param(z.array(z.number())), outs: artifact.list() },
  outputs: { sum: param(z.number()), lines: param(z.array(z.string())) },
  async execute({ ys, outs }) {
    return { sum: ys.reduce((a, b) => a + b, 0), lines: await Promise.all(outs.map((o) => fs.readFile(o, "utf8"))) };
  },
});
const G = OPTemplate.fromOp(gen, { module: "ops.ts" });
const W = OPTemplate.fromOp(work, { module: "ops.ts" });
const T = OPTemplate.fromOp(total, { module: "ops.ts" });

function build(options: { groupSize?: number; poolSize?: number; subPath?: boolean; createDir?: boolean }, n = 5) {
  const main = new Steps({ name: "main", outputs: { sum: param(z.number()), ys: param(z.array(z.number())), lines: param(z.array(z.string())) } });
  const g = main.add(new Step("gen", G, { parameters: { n } }));
  const w = main.add(
    slicedStep("work", W, {
      slices: { x: g.outputs.parameters.xs, text: g.outputs.artifacts.files },
      parameters: { scale: 10 },
      ...options,
    }),
  );
  const t = main.add(new Step("total", T, { parameters: { ys: w.outputs.parameters.y }, artifacts: { outs: w.outputs.artifacts.out } }));
  main.setOutputs({ parameters: { sum: t.outputs.parameters.sum, ys: w.outputs.parameters.y, lines: t.outputs.parameters.lines } });
  return { wf: new Workflow({ generateName: "sliced-", entrypoint: main }), w };
}

let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-slices-"));
});
afterAll(async () => {
  await fs.rm(workdir, { recursive: true, force: true });
});

async function run(wf: Workflow) {
  const result = await wf.run({ workdir });
  const nodes = Object.values(result.status.nodes ?? {});
  const root = nodes.find((n) => n.name === result.name) as NodeStatus;
  const failed = nodes.filter((n) => n.phase !== "Succeeded" && n.phase !== "Skipped").map((n) => `${n.displayName}: ${n.message ?? n.phase}`);
  const out = (p: string) => root?.outputs?.parameters?.find((x) => x.name === p)?.value;
  const byName = (d: string) => nodes.filter((n) => n.displayName.startsWith(d));
  return { result, out, failed, byName };
}

describe("slicedStep", () => {
  it("types stacked outputs as lists", () => {
    const { w } = build({});
    expectTypeOf(w.outputs.parameters.y).toEqualTypeOf<ParamRef<number[]>>();
    expectTypeOf(w.outputs.artifacts.out).toEqualTypeOf<ArtifactRef<"list">>();
  });

  it("compiles to a withParam over indices, a sliced template and a stacked key", () => {
    const m = build({ groupSize: 2 }).wf.compile();
    const step = m.spec.templates?.[0]?.steps?.[1]?.[0];
    expect(step?.template).toBe("work-sliced");
    expect(step?.withParam).toBe(
      "{{=toJson(map(sprig.until((int(len(fromJSON(steps.gen.outputs.parameters.xs))) + 2 - 1) / 2), sprig.untilStep(# * 2, sprig.min(# * 2 + 2, int(len(fromJSON(steps.gen.outputs.parameters.xs)))), 1)))}}",
    );
    expect(step?.arguments?.parameters).toEqual([
      { name: "x", value: "{{steps.gen.outputs.parameters.xs}}" },
      { name: "scale", value: "10" },
      { name: "opflow-slice-indices", value: "{{item}}" },
      { name: "opflow-stack-key", value: "{{workflow.name}}/main/work" },
    ]);
    const consumer = m.spec.templates?.[0]?.steps?.[2]?.[0];
    expect(consumer?.arguments?.artifacts).toEqual([{ name: "outs", s3: { key: "{{workflow.name}}/main/work/out" } }]);
    const sliced = m.spec.templates?.find((t) => t.name === "work-sliced");
    expect(sliced?.outputs?.artifacts).toEqual([{ name: "out", path: "/tmp/outputs/artifacts/out", archive: { none: {} }, s3: { key: "{{inputs.parameters.opflow-stack-key}}/out" } }]);
  });

  it.skipIf(!haveArgoCheck)("emits manifests that pass the upstream CRD check (needs ../shared/argo)", async () => {
    const manifests = [build({}), build({ groupSize: 2, poolSize: 2 }), build({ subPath: true }), build({ createDir: true, groupSize: 3 })].map((b) => b.wf.compile());
    expect((await argoCheck(manifests)).output).toMatch(/4 passed, 0 failed/);
  }, 120_000); // a process of its own that loads the whole CRD: slow on a busy machine

  for (const [label, options] of [
    ["one item per step", {}],
    ["groupSize 2", { groupSize: 2 }],
    ["groupSize 2 with poolSize 2 and createDir", { groupSize: 2, poolSize: 2, createDir: true }],
    ["subPath", { subPath: true }],
    ["createDir with groupSize 3", { createDir: true, groupSize: 3 }],
  ] as const) {
    it(`stacks outputs in item order in the local engine: ${label}`, async () => {
      const { result, out, failed } = await run(build(options).wf);
      expect(failed).toEqual([]);
      expect(result.status.phase).toBe("Succeeded");
      expect(JSON.parse(out("ys") as string)).toEqual([10, 20, 30, 40, 50]);
      expect(out("sum")).toBe("150");
      expect(JSON.parse(out("lines") as string)).toEqual([0, 1, 2, 3, 4].map((i) => `file ${i} → ${(i + 1) * 10}`));
    });
  }

  it("hands each step only its own item of a sliced artifact by default (subPath), the whole list only when asked or with groups", async () => {
    const artArgs = (options: Parameters<typeof build>[0]) => build(options).wf.compile().spec.templates?.[0]?.steps?.[1]?.[0]?.arguments?.artifacts;
    expect(artArgs({})).toEqual([{ name: "text", from: "{{steps.gen.outputs.artifacts.files}}", subPath: "{{item}}" }]);
    expect(artArgs({ subPath: false })?.[0]?.subPath).toBeUndefined();
    expect(artArgs({ groupSize: 2 })?.[0]?.subPath).toBeUndefined();
    // Files the steps received: one each by default, the whole list each with subPath: false.
    const received = async (options: Parameters<typeof build>[0]): Promise<number> => {
      const { result } = await run(build(options, 6).wf);
      expect(result.status.phase).toBe("Succeeded");
      let files = 0;
      for (const d of (await fs.readdir(result.dir)).filter((d) => d.includes("work("))) {
        const entries = await fs.readdir(path.join(result.dir, d, "inputs", "artifacts"), { recursive: true, withFileTypes: true });
        files += entries.filter((e) => e.isFile()).length;
      }
      return files;
    };
    expect(await received({})).toBe(6);
    expect(await received({ subPath: false })).toBe(36);
  });

  it("slices a local list artifact (an archived workflow input) one item per step", async () => {
    const { localArtifact } = await import("./local-artifact.ts");
    const files = await Promise.all([0, 1, 2].map(async (i) => {
      const f = path.join(workdir, `local-${i}.txt`);
      await fs.writeFile(f, `local ${i}`);
      return f;
    }));
    const read = defineOp({
      name: "read-one",
      inputs: { f: artifact() },
      outputs: { t: param(z.string()) },
      async execute({ f }) {
        return { t: await fs.readFile(f, "utf8") };
      },
    });
    const main = new Steps({ name: "main", inputs: { files: artifact.list() }, outputs: { ts: param(z.array(z.string())) } });
    const s = main.add(slicedStep("read", OPTemplate.fromOp(read), { slices: { f: main.io.artifacts.files }, count: 3 }));
    main.setOutputs({ parameters: { ts: s.outputs.parameters.t } });
    const { status, outputs } = await new Workflow({ name: "sliced-local", entrypoint: main, artifacts: { files: localArtifact(files) } }).run({ workdir });
    expect(status.phase, status.message).toBe("Succeeded");
    expect(outputs.ts).toEqual(["local 0", "local 1", "local 2"]);
  });

  it("rejects slicing what cannot be sliced, naming the step", () => {
    const main = new Steps({ name: "m" });
    const g = main.add(new Step("gen", G, { parameters: { n: 1 } }));
    expect(() => slicedStep("w", W, { slices: {}, parameters: { scale: 1 }, artifacts: { text: g.outputs.artifacts.files as never } } as never)).toThrow(
      /slices must name at least one input/,
    );
    expect(() => slicedStep("w", W, { slices: { x: g.outputs.parameters.xs }, parameters: { scale: 1 }, artifacts: { text: g.outputs.artifacts.files as never }, subPath: true, groupSize: 2 })).toThrow(
      /subPath hands each step one item; it cannot be combined with groupSize 2/,
    );
    const withInput = new Steps({ name: "m2", inputs: { files: artifact.list() } });
    expect(() => slicedStep("w", W, { slices: { text: withInput.io.artifacts.files }, parameters: { scale: 1, x: 1 } })).toThrow(
      /only artifacts are sliced and none records a catalog \("text": only list outputs of OP templates do\); give count/,
    );
  });
});

describe("slicedTask and slices over Steps templates", () => {
  it("slices in a DAG, with dependencies inferred from the sliced data", async () => {
    const { DAG } = await import("../dag/dag.ts");
    const { Task } = await import("../dag/task.ts");
    const { slicedTask } = await import("../dag/sliced-task.ts");
    const dag = new DAG({ name: "d", outputs: { sum: param(z.number()) } });
    const g = dag.add(new Task("gen", G, { parameters: { n: 4 } }));
    const w = dag.add(slicedTask("work", W, { slices: { x: g.outputs.parameters.xs, text: g.outputs.artifacts.files }, parameters: { scale: 2 }, groupSize: 3 }));
    const t = dag.add(new Task("total", T, { parameters: { ys: w.outputs.parameters.y }, artifacts: { outs: w.outputs.artifacts.out } }));
    dag.setOutputs({ parameters: { sum: t.outputs.parameters.sum } });
    const wf = new Workflow({ generateName: "sliced-dag-", entrypoint: dag });
    const tasks = wf.compile().spec.templates?.[0]?.dag?.tasks;
    expect(tasks?.map((x) => [x.name, x.depends])).toEqual([["gen", undefined], ["work", "gen"], ["total", "work"]]);
    const { result, out, failed } = await run(wf);
    expect(failed).toEqual([]);
    expect(result.status.phase).toBe("Succeeded");
    expect(out("sum")).toBe("20");
  });

  it("slices parameters over a Steps template, one item per child", async () => {
    const inner = new Steps({ name: "inner", inputs: { x: param(z.number()), text: artifact() }, outputs: { y: param(z.number()) } });
    const s = inner.add(new Step("w", W, { parameters: { x: inner.io.parameters.x, scale: 3 }, artifacts: { text: inner.io.artifacts.text } }));
    inner.setOutputs({ parameters: { y: s.outputs.parameters.y } });
    const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number())) } });
    const g = main.add(new Step("gen", G, { parameters: { n: 3 } }));
    const w = main.add(slicedStep("each", inner, { slices: { x: g.outputs.parameters.xs }, artifacts: { text: rawArtifactOf("same") } }));
    main.setOutputs({ parameters: { ys: w.outputs.parameters.y } });
    const { result, out, failed } = await run(new Workflow({ generateName: "sliced-steps-", entrypoint: main }));
    expect(failed).toEqual([]);
    expect(result.status.phase).toBe("Succeeded");
    // Argo aggregates scalar outputs of a loop as strings: ["3","6","9"]; OPs decode them.
    expect((JSON.parse(out("ys") as string) as string[]).map(Number)).toEqual([3, 6, 9]);
    // Groups run in a Steps template of their own (graph-groups.test.ts); createDir has no meaning here.
    expect(slicedStep("grouped", inner, { slices: { x: g.outputs.parameters.xs }, artifacts: { text: rawArtifactOf("x") }, groupSize: 2 }).template.name).toBe("inner-group");
    expect(() => slicedStep("bad", inner, { slices: { x: g.outputs.parameters.xs }, artifacts: { text: rawArtifactOf("x") }, groupSize: 2, createDir: true })).toThrow(
      /subPath and createDir need an OP, script, shell or container template; "inner" is a graph template/,
    );
  });
});
