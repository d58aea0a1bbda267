import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus, Workflow as ArgoWorkflow } from "../argo/model.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { type SliceOptions, shuffledOrder } from "../op/slices.ts";
import { OPTemplate } from "../template/op-template.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { slicedStep } from "./sliced-step.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const gen = defineOp({
  name: "gen-xs",
  inputs: { n: param(z.number().int()) },
  outputs: { xs: param(z.array(z.number())) },
  async execute({ n }) {
    return { xs: Array.from({ length: n }, (_, i) => i) };
  },
});
/** Tells which child (pod) ran the item: its step folder; fails on 3; sleeps on 99. */
const work = defineOp({
  name: "work-x",
  inputs: { x: param(z.number()) },
  outputs: { y: param(z.number()), child: param(z.string()), out: artifact() },
  async execute({ x }, { workdir }) {
    if (x === 3) throw new Error("three is bad");
    if (x === 99) await new Promise((r) => setTimeout(r, 6000).unref());
    const out = path.join(workdir, `out-${x}.txt`);
    await fs.writeFile(out, `item ${x}`);
    return { y: x * 10, child: path.basename(path.dirname(workdir)), out };
  },
});
const G = OPTemplate.fromOp(gen, { module: "ops.ts" });
const W = OPTemplate.fromOp(work, { module: "ops.ts" });

function build(xs: number[] | number, options: SliceOptions) {
  const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number().nullable())), children: param(z.array(z.string().nullable())) } });
  const g = typeof xs === "number" ? main.add(new Step("gen", G, { parameters: { n: xs } })) : undefined;
  const w = main.add(slicedStep("work", W, { slices: { x: g ? g.outputs.parameters.xs : (xs as number[]) }, ...options }));
  main.setOutputs({ parameters: { ys: w.outputs.parameters.y, children: w.outputs.parameters.child } });
  return new Workflow({ generateName: "slice-options-", entrypoint: main });
}

async function run(wf: Workflow) {
  const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-slice-options-"));
  dirs.push(workdir);
  const result = await wf.run({ workdir });
  const nodes = Object.values(result.status.nodes ?? {});
  const root = nodes.find((x) => x.name === result.name) as NodeStatus;
  const out = (n: string): unknown => {
    const v = root.outputs?.parameters?.find((p) => p.name === n)?.value;
    return v === undefined ? undefined : JSON.parse(v);
  };
  return { result, out, messages: nodes.filter((x) => x.message && x.type === "Pod").map((x) => x.message) };
}

/** The items each child ran together, as sorted groups. */
function groupsOf(children: string[]): number[][] {
  const by = new Map<string, number[]>();
  children.forEach((c, i) => by.set(c, [...(by.get(c) ?? []), i]));
  return [...by.values()].map((g) => g.sort((a, b) => a - b)).sort((a, b) => (a[0] as number) - (b[0] as number));
}

describe("shuffle and randomSeed", () => {
  it("draws the same permutation from the same seed, another from another", () => {
    expect(shuffledOrder(6, 7)).toEqual(shuffledOrder(6, 7));
    expect([...shuffledOrder(20, 7)].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(shuffledOrder(20, 7)).not.toEqual(shuffledOrder(20, 8));
    expect(shuffledOrder(20, 0)).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("spreads items over groups in the seeded order, outputs in item order, in the local engine", async () => {
    const xs = [4, 5, 6, 7, 8, 9]; // (3 would fail)
    const plain = await run(build(xs, { groupSize: 2 }));
    expect(groupsOf(plain.out("children") as string[])).toEqual([[0, 1], [2, 3], [4, 5]]);
    const shuffled = await run(build(xs, { groupSize: 2, shuffle: true, randomSeed: 7 }));
    expect(shuffled.result.status.phase).toBe("Succeeded");
    expect(shuffled.out("ys")).toEqual(xs.map((x) => x * 10));
    const order = shuffledOrder(6, 7);
    const expected = [order.slice(0, 2), order.slice(2, 4), order.slice(4, 6)].map((g) => g.sort((a, b) => a - b)).sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(groupsOf(shuffled.out("children") as string[])).toEqual(expected);
    expect(expected).not.toEqual([[0, 1], [2, 3], [4, 5]]);
  }, 60_000);

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    const manifests: ArgoWorkflow[] = [build(6, { groupSize: 2, shuffle: true, randomSeed: 3 }).compile(), build(6, { groupSize: 3, poolSize: 3, poolTimeout: "1m", raiseForGroup: false }).compile()];
    expect((await argoCheck(manifests)).output).toMatch(/2 passed, 0 failed/);
  }, 120_000);
});

describe("raiseForGroup", () => {
  it("fails the group at the first failed item by default", async () => {
    const { result, messages } = await run(build(6, { groupSize: 3 }));
    expect(result.status.phase).toBe("Failed");
    expect(messages).toContainEqual(expect.stringMatching(/item 3: Error: three is bad/));
  }, 60_000);

  it("with false, runs the group's other items and leaves the failed one's outputs out", async () => {
    const { result, out } = await run(build(6, { groupSize: 3, raiseForGroup: false }));
    expect(result.status.phase).toBe("Succeeded");
    expect(out("ys")).toEqual([0, 10, 20, null, 40, 50]);
  }, 60_000);
});

describe("poolTimeout", () => {
  it("fails the step when the group's pool outlives it, naming the unfinished items", async () => {
    const { result, messages } = await run(build([1, 99, 2, 4], { groupSize: 2, poolSize: 2, poolTimeout: "2s" }));
    expect(result.status.phase).toBe("Failed");
    expect(messages).toContainEqual(expect.stringMatching(/poolTimeout \(2000 ms\) expired with item 1 unfinished/));
  }, 60_000);
});

describe("slice options are checked, naming the step", () => {
  it("refuses options without their preconditions and on templates without the OP runner", () => {
    expect(() => build(4, { shuffle: true })).toThrow(/Step "work": shuffle spreads items over groups; give groupSize > 1 as well/);
    expect(() => build(4, { groupSize: 2, randomSeed: 1 })).toThrow(/randomSeed seeds shuffle; set shuffle: true as well/);
    expect(() => build(4, { groupSize: 2, shuffle: true, randomSeed: -1 })).toThrow(/randomSeed must be an integer from 0 to 4294967295, got -1/);
    expect(() => build(4, { groupSize: 2, poolTimeout: "1m" })).toThrow(/poolTimeout limits a group's pool; give poolSize > 1 as well/);
    expect(() => build(4, { groupSize: 2, poolSize: 2, poolTimeout: "soon" as never })).toThrow(/poolTimeout/);
    expect(() => build(4, { raiseForGroup: false })).toThrow(/raiseForGroup: false lets a group go on past a failed item; give groupSize > 1 as well/);
    const sh = new ShellOPTemplate({ name: "sh", inputs: { x: param(z.number()) }, outputs: {}, source: "true" });
    expect(() => slicedStep("s", sh, { slices: { x: [1, 2] }, groupSize: 2, shuffle: true })).toThrow(
      /Step "s": shuffle is carried out by the OP runner inside a group's pod; template "sh" is not an OP template/,
    );
  });
});
