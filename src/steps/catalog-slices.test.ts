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
