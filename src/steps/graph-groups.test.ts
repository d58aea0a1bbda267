import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { havePython } from "../../test/helpers/programs.ts";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus, Workflow as ArgoWorkflow } from "../argo/model.ts";
import { DAG } from "../dag/dag.ts";
import { slicedTask } from "../dag/sliced-task.ts";
import { Task } from "../dag/task.ts";
import type { ParamRef } from "../expr/refs.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import type { SliceOptions } from "../op/slices.ts";
import { OPTemplate } from "../template/op-template.ts";
import { ScriptOPTemplate, ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { slicedStep } from "./sliced-step.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";


const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

/** n files holding 1..n (a list artifact with a catalog), and their weights 100, 200, … */
const gen = defineOp({
  name: "gen-parts",
  inputs: { n: param(z.number().int()) },
  outputs: { parts: artifact.list(), weights: param(z.array(z.number())) },
  async execute({ n }, { workdir }) {
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const f = path.join(workdir, `p${i}.txt`);
      await fs.writeFile(f, `${i + 1}`);
      parts.push(f);
    }
    return { parts, weights: Array.from({ length: n }, (_, i) => 100 * (i + 1)) };
  },
});
const G = OPTemplate.fromOp(gen, { module: "ops.ts" });

/** y = content × w; fails (exit 3) on the item whose content is `bad`. */
const scale = new ShellOPTemplate({
  name: "scale",
  inputs: { f: artifact(), w: param(z.number()), bad: param(z.number()) },
  outputs: { y: param(z.number()) },
  source: [
    "set -eu",
    "mkdir -p /tmp/outputs/parameters",
    // A graph template's child gets the item itself; a script's gets the list's <index> directory holding it.
    'f=/tmp/inputs/artifacts/f; if [ -d "$f" ]; then f=$(find "$f" -type f | head -n 1); fi',
    'v=$(cat "$f")',
    'if [ "$v" = "$bad" ]; then echo "item $v is bad" >&2; exit 3; fi',
    'echo $(( v * w )) > /tmp/outputs/parameters/y',
  ].join("\n"),
});

/** A Python script: the item's content as a label. */
const label = new ScriptOPTemplate({
  name: "py-label",
  command: ["python3"],
  inputs: { f: artifact(), prefix: param(z.string()) },
  outputs: { label: param(z.string()) },
  source: [
    "import os",
    "text = open('/tmp/inputs/artifacts/f').read().strip()",
    "os.makedirs('/tmp/outputs/parameters', exist_ok=True)",
    "open('/tmp/outputs/parameters/label', 'w').write(os.environ['prefix'] + text)",
  ].join("\n"),
});

/** A Steps template taking one item: scales it. */
function perPartSteps() {
  const t = new Steps({ name: "per-part", inputs: { part: artifact(), w: param(z.number()), bad: param(z.number()) }, outputs: { y: param(z.number()) } });
  const s = t.add(new Step("scale", scale, { parameters: { w: t.io.parameters.w, bad: t.io.parameters.bad }, artifacts: { f: t.io.artifacts.part } }));
  t.setOutputs({ parameters: { y: s.outputs.parameters.y } });
  return t;
}

/** A DAG template taking one item: scales it by 1. */
function perPartDag() {
  const t = new DAG({ name: "per-part-dag", inputs: { part: artifact(), bad: param(z.number()) }, outputs: { y: param(z.number()) } });
  const s = t.add(new Task("scale", scale, { parameters: { w: 1, bad: t.io.parameters.bad }, artifacts: { f: t.io.artifacts.part } }));
  t.setOutputs({ parameters: { y: s.outputs.parameters.y } });
  return t;
}

/** The same, and a Python script labelling the item. */
function perPartPy() {
  const t = new DAG({ name: "per-part-py", inputs: { part: artifact(), bad: param(z.number()) }, outputs: { y: param(z.number()), label: param(z.string()) } });
  const s = t.add(new Task("scale", scale, { parameters: { w: 1, bad: t.io.parameters.bad }, artifacts: { f: t.io.artifacts.part } }));
  const l = t.add(new Task("label", label, { parameters: { prefix: "part " }, artifacts: { f: t.io.artifacts.part } }));
  t.setOutputs({ parameters: { y: s.outputs.parameters.y, label: l.outputs.parameters.label } });
  return t;
}

type Options = Pick<SliceOptions, "groupSize" | "poolSize" | "raiseForGroup">;

/** main: gen n parts; slice a Steps template (parts and weights) and a DAG template (parts) over them. */
function buildSteps(n: number, options: Options, bad = -1) {
  const main = new Steps({ name: "main", outputs: { steps: param(z.array(z.number().nullable())), dag: param(z.array(z.number().nullable())) } });
  const g = main.add(new Step("gen", G, { parameters: { n } }));
  const a = main.add(slicedStep("each", perPartSteps(), { slices: { part: g.outputs.artifacts.parts, w: g.outputs.parameters.weights }, parameters: { bad }, ...options }));
  const b = main.add(slicedStep("each-dag", perPartDag(), { slices: { part: g.outputs.artifacts.parts }, parameters: { bad }, ...options }));
  main.setOutputs({ parameters: { steps: a.outputs.parameters.y, dag: b.outputs.parameters.y } });
  return { wf: new Workflow({ generateName: "graph-groups-", entrypoint: main }), a };
}

/** The same through a DAG main (slicedTask), with the Python DAG inside or not. */
function buildDag(n: number, options: Options, python: boolean, bad = -1) {
  const main = new DAG({ name: "main", outputs: { ys: param(z.array(z.number().nullable())), labels: param(z.array(z.string().nullable())) } });
  const g = main.add(new Task("gen", G, { parameters: { n } }));
  if (python) {
    const t = main.add(slicedTask("each", perPartPy(), { slices: { part: g.outputs.artifacts.parts }, parameters: { bad }, ...options }));
    main.setOutputs({ parameters: { ys: t.outputs.parameters.y, labels: t.outputs.parameters.label } });
  } else {
    const t = main.add(slicedTask("each", perPartDag(), { slices: { part: g.outputs.artifacts.parts }, parameters: { bad }, ...options }));
    main.setOutputs({ parameters: { ys: t.outputs.parameters.y, labels: [] } });
  }
  return new Workflow({ generateName: "graph-groups-dag-", entrypoint: main });
}

async function run(wf: Workflow) {
  const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-graph-groups-"));
  dirs.push(workdir);
  const result = await wf.run({ workdir });
  const nodes = Object.values(result.status.nodes ?? {});
  const root = nodes.find((x) => x.name === result.name) as NodeStatus;
  const out = (k: string): unknown[] => {
    const v = root.outputs?.parameters?.find((p) => p.name === k)?.value;
    return v === undefined ? [] : (JSON.parse(v) as unknown[]);
  };
  const num = (k: string) => out(k).map((x) => (x === null ? null : Number(x)));
  const failed = nodes.filter((x) => x.type === "Pod" && x.phase !== "Succeeded").map((x) => x.displayName);
  return { result, out, num, failed, nodes };
}

const squares = [100, 400, 900, 1600, 2500];

describe("groups and pools over Steps and DAG templates", () => {
  it("types the outputs as with one item per child", () => {
    const { a } = buildSteps(5, { groupSize: 2, poolSize: 2 });
    expectTypeOf(a.outputs.parameters.y).toEqualTypeOf<ParamRef<number[]>>();
  });

  it("compiles each group as a Steps template looping over its indices, poolSize at once, items read from the catalog", () => {
    const m = buildSteps(5, { groupSize: 2, poolSize: 2 }).wf.compile();
    const main = m.spec.templates?.find((t) => t.name === "main")?.steps?.flat() ?? [];
    const each = main.find((s) => s.name === "each");
    expect(each?.template).toBe("per-part-group");
    expect(each?.withParam).toMatch(/sprig\.untilStep\(# \* 2, sprig\.min\(# \* 2 \+ 2, /);
    expect(each?.arguments?.artifacts).toEqual([{ name: "part", from: "{{steps.gen.outputs.artifacts.parts}}" }]);
    expect(each?.arguments?.parameters).toContainEqual({ name: "opflow-catalog-part", value: "{{steps.gen.outputs.parameters.opflow-catalog-parts}}" });
    expect(each?.arguments?.parameters).toContainEqual({ name: "opflow-slice-indices", value: "{{item}}" });
    const group = m.spec.templates?.find((t) => t.name === "per-part-group");
    expect(group?.parallelism).toBe(2);
    const item = group?.steps?.[0]?.[0];
    expect(item?.template).toBe("per-part");
    expect(item?.withParam).toBe("{{inputs.parameters.opflow-slice-indices}}");
    expect(item?.arguments?.artifacts).toEqual([
      { name: "part", from: "{{inputs.artifacts.part}}", subPath: '{{=fromJSON(inputs.parameters["opflow-catalog-part"])[int(item)]}}' },
    ]);
    expect(item?.arguments?.parameters).toContainEqual({ name: "w", value: "{{=fromJSON(inputs.parameters.w)[int(item)]}}" });
    expect(group?.outputs?.parameters).toEqual([{ name: "y", valueFrom: { parameter: "{{steps.item.outputs.parameters.y}}" } }]);
    expect(m.spec.templates?.some((t) => t.name === "per-part-dag-group")).toBe(true);
  });

  it("compiles raiseForGroup: false as a wrapper that lets each item fail and gives null for it", () => {
    const m = buildSteps(5, { groupSize: 2, raiseForGroup: false }).wf.compile();
    const group = m.spec.templates?.find((t) => t.name === "per-part-group");
    expect(group?.steps?.[0]?.[0]?.template).toBe("per-part-try");
    expect(group?.outputs?.parameters).toEqual([{ name: "y", valueFrom: { expression: 'toJson(map(fromJSON(steps.item.outputs.parameters["y"]), fromJSON(#)))' } }]);
    const wrapper = m.spec.templates?.find((t) => t.name === "per-part-try");
    expect(wrapper?.steps?.[0]?.[0]).toMatchObject({ name: "run", template: "per-part", continueOn: { failed: true, error: true } });
    expect(wrapper?.outputs?.parameters).toEqual([
      { name: "y", valueFrom: { expression: 'steps.run.status == "Succeeded" ? toJson(steps.run.outputs.parameters["y"]) : "null"' } },
    ]);
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    const manifests: ArgoWorkflow[] = [
      buildSteps(5, { groupSize: 2, poolSize: 2 }).wf.compile(),
      buildSteps(5, { groupSize: 3, raiseForGroup: false }).wf.compile(),
      buildDag(5, { groupSize: 2, poolSize: 2 }, true).compile(),
      buildDag(5, { groupSize: 3, poolSize: 2, raiseForGroup: false }, false).compile(),
    ];
    expect((await argoCheck(manifests)).output).toMatch(/4 passed, 0 failed/);
  }, 120_000);

  for (const options of [{ groupSize: 2 }, { groupSize: 2, poolSize: 2 }, { groupSize: 3, poolSize: 2 }] as const) {
    it(`runs Steps and DAG templates in the local engine, outputs in item order: ${JSON.stringify(options)} over 5 items`, async () => {
      const { result, num, failed } = await run(buildSteps(5, options).wf);
      expect([result.status.phase, failed]).toEqual(["Succeeded", []]);
      expect(num("steps")).toEqual(squares);
      expect(num("dag")).toEqual([1, 2, 3, 4, 5]);
    }, 60_000);
  }

  it("runs sliced tasks of a DAG main over a DAG template, last group short", async () => {
    const { result, num } = await run(buildDag(5, { groupSize: 3, poolSize: 2 }, false));
    expect(result.status.phase).toBe("Succeeded");
    expect(num("ys")).toEqual([1, 2, 3, 4, 5]);
  }, 60_000);

  it.skipIf(!havePython)("runs a Python script inside the sliced DAG template (needs python3)", async () => {
    const { result, num, out, failed } = await run(buildDag(5, { groupSize: 2, poolSize: 2 }, true));
    expect([result.status.phase, failed]).toEqual(["Succeeded", []]);
    expect(num("ys")).toEqual([1, 2, 3, 4, 5]);
    expect(out("labels")).toEqual(["part 1", "part 2", "part 3", "part 4", "part 5"]);
  }, 60_000);

  it("groups over the stacked output of a sliced OP step (its catalog is the children's, put back in item order)", async () => {
    const mk = defineOp({
      name: "mk-file",
      inputs: { x: param(z.number()) },
      outputs: { f: artifact() },
      async execute({ x }, { workdir }) {
        const f = path.join(workdir, `f${x}.txt`);
        await fs.writeFile(f, String(x));
        return { f };
      },
    });
    const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number().nullable())) } });
    const made = main.add(slicedStep("mk", OPTemplate.fromOp(mk, { module: "ops.ts" }), { slices: { x: [5, 6, 7, 8, 9] } }));
    const each = main.add(slicedStep("each", perPartDag(), { slices: { part: made.outputs.artifacts.f }, parameters: { bad: -1 }, groupSize: 2, poolSize: 2 }));
    main.setOutputs({ parameters: { ys: each.outputs.parameters.y } });
    const { result, num, failed } = await run(new Workflow({ generateName: "graph-groups-stacked-", entrypoint: main }));
    expect([result.status.phase, failed]).toEqual(["Succeeded", []]);
    expect(num("ys")).toEqual([5, 6, 7, 8, 9]);
  }, 60_000);

  it("fails the step at a failed item by default", async () => {
    const { result, failed } = await run(buildDag(5, { groupSize: 2 }, false, 3));
    expect(result.status.phase).toBe("Failed");
    expect(failed).toEqual(["scale"]);
  }, 60_000);

  it("with raiseForGroup: false, runs the other items and gives null for the failed one, in item order", async () => {
    const steps = await run(buildSteps(5, { groupSize: 2, poolSize: 2, raiseForGroup: false }, 3).wf);
    expect(steps.result.status.phase).toBe("Succeeded");
    expect(steps.failed).toEqual(["scale", "scale"]);
    expect(steps.num("steps")).toEqual([100, 400, null, 1600, 2500]);
    expect(steps.num("dag")).toEqual([1, 2, null, 4, 5]);
    const dag = await run(buildDag(5, { groupSize: 3, raiseForGroup: false }, false, 5));
    expect(dag.result.status.phase).toBe("Succeeded");
    expect(dag.num("ys")).toEqual([1, 2, 3, 4, null]);
  }, 60_000);
});

describe("raiseForGroup: false over script templates (the manifest slices)", () => {
  function build(options: Options) {
    const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number().nullable())) } });
    const g = main.add(new Step("gen", G, { parameters: { n: 5 } }));
    const s = main.add(slicedStep("scale", scale, { slices: { f: g.outputs.artifacts.parts, w: g.outputs.parameters.weights }, parameters: { bad: 2 }, ...options }));
    main.setOutputs({ parameters: { ys: s.outputs.parameters.y } });
    return new Workflow({ generateName: "script-raise-", entrypoint: main });
  }

  it("lets the group go on and leaves null for the failed item", async () => {
    const m = build({ groupSize: 2, raiseForGroup: false }).compile();
    expect(m.spec.templates?.find((t) => t.name === "scale-group")?.steps?.[0]?.[0]?.template).toBe("scale-try");
    const { result, num, failed } = await run(build({ groupSize: 2, raiseForGroup: false }));
    expect([result.status.phase, failed]).toEqual(["Succeeded", ["run"]]);
    expect(num("ys")).toEqual([100, null, 900, 1600, 2500]);
  }, 60_000);

  it("fails by default", async () => {
    const { result } = await run(build({ groupSize: 2 }));
    expect(result.status.phase).toBe("Failed");
  }, 60_000);
});

describe("groups over graph templates: bad input, naming the step", () => {
  const main = new Steps({ name: "m" });
  const g = main.add(new Step("gen", G, { parameters: { n: 3 } }));
  const parts = g.outputs.artifacts.parts;

  it("refuses sizes that are not positive integers, poolSize without groups, and subPath with groups", () => {
    expect(() => slicedStep("s", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, groupSize: 0 })).toThrow(/Step "s": groupSize must be a positive integer, got 0/);
    expect(() => slicedStep("s", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, groupSize: 2, poolSize: 1.5 })).toThrow(/Step "s": poolSize must be a positive integer, got 1.5/);
    expect(() => slicedStep("s", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, poolSize: 2 })).toThrow(/poolSize runs the items of a group concurrently; give groupSize > 1 as well/);
    expect(() => slicedStep("s", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, groupSize: 2, subPath: true })).toThrow(
      /Step "s": subPath hands each step one item; it cannot be combined with groupSize 2/,
    );
    expect(() => slicedStep("s", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, subPath: true })).toThrow(/Step "s": subPath and createDir need an OP, script, shell or container template; "per-part-dag" is a graph template/);
    expect(() => slicedTask("t", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, groupSize: 2, createDir: true })).toThrow(/Task "t": subPath and createDir need/);
  });

  it("accepts a pool larger than its group (all of the group's items at once)", () => {
    const s = new Steps({ name: "m2" });
    const g2 = s.add(new Step("gen", G, { parameters: { n: 3 } }));
    s.add(slicedStep("s", perPartDag(), { slices: { part: g2.outputs.artifacts.parts }, parameters: { bad: 0 }, groupSize: 2, poolSize: 4 }));
    const m = new Workflow({ generateName: "x-", entrypoint: s }).compile();
    expect(m.spec.templates?.find((t) => t.name === "per-part-dag-group")?.parallelism).toBe(4);
  });

  it("refuses what stays with the OP runner, and outputs a group cannot stack", () => {
    expect(() => slicedStep("s", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, groupSize: 2, shuffle: true })).toThrow(
      /Step "s": shuffle is carried out by the OP runner inside a group's pod; template "per-part-dag" is not an OP template/,
    );
    expect(() => slicedStep("s", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, groupSize: 2, poolSize: 2, poolTimeout: "1m" })).toThrow(
      /Step "s": poolTimeout is carried out by the OP runner/,
    );
    expect(() => slicedStep("s", perPartDag(), { slices: { part: parts }, parameters: { bad: 0 }, raiseForGroup: false })).toThrow(/raiseForGroup: false lets a group go on past a failed item; give groupSize > 1 as well/);
    const withArt = new Steps({ name: "with-art", inputs: { part: artifact() }, outputs: { copy: artifact() } });
    const c = withArt.add(new Step("copy", new ShellOPTemplate({ name: "cp", inputs: { f: artifact() }, outputs: { o: artifact() }, source: "true" }), { artifacts: { f: withArt.io.artifacts.part } }));
    withArt.setOutputs({ artifacts: { copy: c.outputs.artifacts.o } });
    expect(() => slicedStep("s", withArt, { slices: { part: parts }, groupSize: 2 })).toThrow(
      /Step "s": groups of the graph template "with-art" stack output parameters only; output "copy" is an artifact/,
    );
    expect(() => slicedStep("s", perPartSteps(), { slices: { part: parts, w: [1, 2, 3] }, parameters: () => ({ bad: 0 }), groupSize: 2 } as never)).toThrow(
      /Step "s": with groupSize 2 each child is a group, not an item; give the other parameters as an object/,
    );
  });
});
