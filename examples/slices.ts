/**
 * slices: fan an OP out over the items of list inputs — a list parameter and a list
 * artifact — two items per step, and stack its outputs back into lists in item order
 * (dflow's Slices).
 *
 *   npx opflow run examples/slices.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, artifact, defineOp, param, slicedStep } from "@opflow/core";

export const makeShards = defineOp({
  name: "make-shards",
  inputs: { n: param(z.number().int().min(1)) },
  outputs: { weights: param(z.array(z.number())), shards: artifact.list() },
  async execute({ n }, { workdir }) {
    const shards: string[] = [];
    for (let i = 0; i < n; i++) {
      const file = path.join(workdir, `shard-${i}.csv`);
      await fs.writeFile(file, Array.from({ length: i + 1 }, (_, j) => `${j},${j * j}`).join("\n"));
      shards.push(file);
    }
    return { weights: shards.map((_, i) => 1 / (i + 1)), shards };
  },
});

export const countRows = defineOp({
  name: "count-rows",
  inputs: { weight: param(z.number()), shard: artifact() },
  outputs: { score: param(z.number()), summary: artifact() },
  async execute({ weight, shard }, { workdir }) {
    const rows = (await fs.readFile(shard, "utf8")).split("\n").length;
    const summary = path.join(workdir, "summary.txt");
    await fs.writeFile(summary, `${path.basename(shard)}: ${rows} rows`);
    return { score: rows * weight, summary };
  },
});

export const report = defineOp({
  name: "report",
  inputs: { scores: param(z.array(z.number())), summaries: artifact.list() },
  outputs: { total: param(z.number()), lines: param(z.array(z.string())) },
  async execute({ scores, summaries }) {
    const lines = await Promise.all(summaries.map((s) => fs.readFile(s, "utf8")));
    return { total: scores.reduce((a, b) => a + b, 0), lines };
  },
});

const main = new Steps({
  name: "slices",
  inputs: { n: param(z.number().int(), { default: 5 }) },
  outputs: { total: param(z.number()), lines: param(z.array(z.string())) },
});
const shards = main.add(new Step("make-shards", OPTemplate.fromOp(makeShards), { parameters: { n: main.io.parameters.n } }));
const counted = main.add(
  slicedStep("count-rows", OPTemplate.fromOp(countRows), {
    slices: { weight: shards.outputs.parameters.weights, shard: shards.outputs.artifacts.shards },
    groupSize: 2,
    poolSize: 2,
    createDir: true,
  }),
);
const summary = main.add(
  new Step("report", OPTemplate.fromOp(report), {
    parameters: { scores: counted.outputs.parameters.score },
    artifacts: { summaries: counted.outputs.artifacts.summary },
  }),
);
main.setOutputs({ parameters: { total: summary.outputs.parameters.total, lines: summary.outputs.parameters.lines } });

export default new Workflow({ generateName: "slices-", entrypoint: main });
