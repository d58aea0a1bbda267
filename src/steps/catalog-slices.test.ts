import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
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

/** Writes n files: how many is known only at run time, and only to the artifact's catalog. */
const gen = defineOp({
  name: "gen-files",
  inputs: { n: param(z.number().int()) },
  outputs: { files: artifact.list() },
  async execute({ n }, { workdir }) {
    const files: string[] = [];
    for (let i = 0; i < n; i++) {
      const f = path.join(workdir, `part-${i}.txt`);
      await fs.writeFile(f, `${(i + 1) * 10}`);
      files.push(f);
    }
    return { files };
  },
});
const double = defineOp({
  name: "double",
  inputs: { f: artifact() },
  outputs: { y: param(z.number()) },
  async execute({ f }) {
    return { y: 2 * Number(await fs.readFile(f, "utf8")) };
  },
});
const G = OPTemplate.fromOp(gen, { module: "ops.ts" });
const D = OPTemplate.fromOp(double, { module: "ops.ts" });
const shDouble = new ShellOPTemplate({
  name: "sh-double",
  inputs: { f: artifact() },
  outputs: { y: param(z.number()) },
  source: ["set -eu", "mkdir -p /tmp/outputs/parameters", "f=/tmp/inputs/artifacts/f; [ -d $f ] && f=$f/*", "echo $(( $(cat $f) * 2 )) > /tmp/outputs/parameters/y"].join("\n"),
});

function build(n: number, options: { groupSize?: number; script?: boolean }) {
  const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number())) } });
  const g = main.add(new Step("gen", G, { parameters: { n } }));
  const template = options.script ? shDouble : D;
  const w = main.add(slicedStep("double", template, { slices: { f: g.outputs.artifacts.files }, ...(options.groupSize ? { groupSize: options.groupSize } : {}) }));
  main.setOutputs({ parameters: { ys: w.outputs.parameters.y } });
  return new Workflow({ generateName: "catalog-slices-", entrypoint: main });
}

async function ys(wf: Workflow): Promise<number[]> {
  const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-catalog-"));
  dirs.push(workdir);
  const result = await wf.run({ workdir });
  const failed = Object.values(result.status.nodes ?? {}).filter((x) => x.message).map((x) => `${x.name}: ${x.message}`);
  expect([result.status.phase, failed]).toEqual(["Succeeded", []]);
  const root = Object.values(result.status.nodes ?? {}).find((x) => x.name === result.name) as NodeStatus;
  const text = root.outputs?.parameters?.find((p) => p.name === "ys")?.value as string;
  return (JSON.parse(text) as unknown[]).map(Number);
}

/** Copies its file under a name of its own: a stacked output whose names the manifest cannot know. */
const relabel = defineOp({
  name: "relabel",
  inputs: { f: artifact() },
  outputs: { g: artifact() },
  async execute({ f }, { workdir }) {
    const text = await fs.readFile(f, "utf8");
    const g = path.join(workdir, `relabelled-${text.trim()}.txt`);
    await fs.writeFile(g, `${text.trim()}1`);
    return { g };
  },
});
const R = OPTemplate.fromOp(relabel, { module: "ops.ts" });

function chain(n: number, groupSize: number) {
  const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number())), second: param(z.number()) } });
  const g = main.add(new Step("gen", G, { parameters: { n } }));
  const r = main.add(slicedStep("relabel", R, { slices: { f: g.outputs.artifacts.files }, groupSize }));
  // The stacked output has a catalog too: sliced again without a count, and addressed by index.
  const d = main.add(slicedStep("double", D, { slices: { f: r.outputs.artifacts.g } }));
  const second = main.add(new Step("second", D, { artifacts: { f: r.outputs.artifacts.g.at(1) } }));
  main.setOutputs({ parameters: { ys: d.outputs.parameters.y, second: second.outputs.parameters.y } });
  return new Workflow({ generateName: "catalog-chain-", entrypoint: main });
}

describe("stacked outputs of sliced OP steps record a catalog too", () => {
  it("are sliced again without a count and addressed by index, in the local engine", async () => {
    for (const groupSize of [1, 2]) {
      const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-catalog-"));
      dirs.push(workdir);
      const result = await chain(3, groupSize).run({ workdir });
      const failed = Object.values(result.status.nodes ?? {}).filter((x) => x.message).map((x) => `${x.name}: ${x.message}`);
      expect([result.status.phase, failed]).toEqual(["Succeeded", []]);
      const root = Object.values(result.status.nodes ?? {}).find((x) => x.name === result.name) as NodeStatus;
      const out = (k: string) => root.outputs?.parameters?.find((p) => p.name === k)?.value as string;
      expect((JSON.parse(out("ys")) as unknown[]).map(Number)).toEqual([202, 402, 602]);
      expect(Number(out("second"))).toBe(402);
    }
  }, 120_000);

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([chain(3, 1).compile(), chain(3, 2).compile()])).output).toMatch(/2 passed, 0 failed/);
  }, 120_000);
});

describe("slices over a list artifact without a count", () => {
  it("loop over the length of the producer's catalog", () => {
    const steps = build(3, {}).compile().spec.templates?.find((t) => t.name === "main")?.steps?.flat() ?? [];
    expect(steps.find((s) => s.name === "double")?.withParam).toBe('{{=toJson(sprig.until(int(len(fromJSON(steps.gen.outputs.parameters["opflow-catalog-files"])))))}}');
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build(3, {}).compile(), build(3, { groupSize: 2 }).compile(), build(3, { script: true }).compile()])).output).toMatch(/3 passed, 0 failed/);
  }, 120_000);

  it("runs one item per step, groups and script templates alike in the local engine, whatever the width", async () => {
    expect(await ys(build(3, {}))).toEqual([20, 40, 60]);
    expect(await ys(build(5, { groupSize: 2 }))).toEqual([20, 40, 60, 80, 100]);
    expect(await ys(build(4, { script: true }))).toEqual([20, 40, 60, 80]);
    expect(await ys(build(1, { groupSize: 3 }))).toEqual([20]);
  }, 120_000);
});
