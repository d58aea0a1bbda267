/**
 * artifacts: address artifacts as dflow does — one item of a list (`art.at(i)`), one entry of
 * a record (`art.key("k")`), several artifacts joined into one list input (`[a, b]`; a list
 * among them gives its items, in order), and a
 * slice over a list artifact whose length only its catalog knows (no `count`), shuffled into
 * groups of two with a fixed seed, each group's items two at a time.
 *
 *   npx opflow run examples/artifacts.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { DAG, OPTemplate, Task, Workflow, artifact, defineOp, param, slicedTask } from "@opflow/core";

/** Splits a data set into n shards (names chosen at run time) and a train/test record. */
export const split = defineOp({
  name: "split",
  inputs: { n: param(z.number().int().min(1)) },
  outputs: { shards: artifact.list(), sets: artifact.record() },
  async execute({ n }, { workdir }) {
    const shards: string[] = [];
    for (let i = 0; i < n; i++) {
      const file = path.join(workdir, `shard-${i}-of-${n}.csv`);
      await fs.writeFile(file, Array.from({ length: i + 1 }, (_, j) => `${j}`).join("\n"));
      shards.push(file);
    }
    const train = path.join(workdir, "train.csv");
    const test = path.join(workdir, "test.csv");
    await fs.writeFile(train, "1\n2\n3");
    await fs.writeFile(test, "4");
    return { shards, sets: { train, test } };
  },
});

/** Counts the rows of one file. */
export const rows = defineOp({
  name: "rows",
  inputs: { file: artifact() },
  outputs: { rows: param(z.number().int()) },
  async execute({ file }) {
    return { rows: (await fs.readFile(file, "utf8")).split("\n").length };
  },
});

/** Names the files it is given, in order. */
export const names = defineOp({
  name: "names",
  inputs: { files: artifact.list() },
  outputs: { names: param(z.array(z.string())) },
  async execute({ files }) {
    return { names: files.map((f) => path.basename(f)) };
  },
});

const rowsT = OPTemplate.fromOp(rows);
const main = new DAG({
  name: "artifacts",
  inputs: { n: param(z.number().int(), { default: 5 }) },
  outputs: { last: param(z.number()), train: param(z.number()), picked: param(z.array(z.string())), joined: param(z.array(z.string())), all: param(z.array(z.number())) },
});
const s = main.add(new Task("split", OPTemplate.fromOp(split), { parameters: { n: main.io.parameters.n } }));
const { shards, sets } = s.outputs.artifacts;
const last = main.add(new Task("last", rowsT, { artifacts: { file: shards.at(-1) } }));
const train = main.add(new Task("train", rowsT, { artifacts: { file: sets.key("train") } }));
const picked = main.add(new Task("picked", OPTemplate.fromOp(names), { artifacts: { files: [sets.key("test"), shards.at(0)] } }));
const joined = main.add(new Task("joined", OPTemplate.fromOp(names), { artifacts: { files: [shards, sets.key("train")] } }));
const all = main.add(slicedTask("all", rowsT, { slices: { file: shards }, groupSize: 2, poolSize: 2, shuffle: true, randomSeed: 42 }));
main.setOutputs({
  parameters: { last: last.outputs.parameters.rows, train: train.outputs.parameters.rows, picked: picked.outputs.parameters.names, joined: joined.outputs.parameters.names, all: all.outputs.parameters.rows },
});

export default new Workflow({ generateName: "artifacts-", entrypoint: main });
