/**
 * nested: a nested artifact (dflow's `NestedDict[Path]`) — a training run writes a model (two
 * files) and one log per epoch as one tree; the next steps take the model sub-tree, the last
 * epoch's log (`key("epochs").at(-1).key("log")`) and one file by a dotted key
 * (`key("model.config")`), each addressed through the producer's catalog.
 *
 *   npx opflow run examples/nested.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { DAG, OPTemplate, Task, Workflow, artifact, defineOp, param } from "@opflow/core";

/** Trains for a few epochs: the model and every epoch's log in one tree. */
export const train = defineOp({
  name: "train",
  inputs: { epochs: param(z.number().int().min(1)) },
  outputs: { run: artifact.nested({ model: { weights: "path", config: "path" }, epochs: [{ log: "path" }] }) },
  async execute({ epochs }, { workdir }) {
    const write = async (name: string, text: string): Promise<string> => {
      await fs.writeFile(path.join(workdir, name), text);
      return path.join(workdir, name);
    };
    const logs = [];
    for (let e = 0; e < epochs; e++) logs.push({ log: await write(`epoch-${e}.log`, `loss ${(1 / (e + 1)).toFixed(2)}`) });
    return { run: { model: { weights: await write("weights.bin", "0101"), config: await write("config.json", '{"layers":3}') }, epochs: logs } };
  },
});

/** Describes a model given as a sub-tree of the run. */
export const inspect = defineOp({
  name: "inspect",
  inputs: { model: artifact.nested({ weights: "path", config: "path" }) },
  outputs: { files: param(z.array(z.string())) },
  async execute({ model }) {
    return { files: [path.basename(model.weights), path.basename(model.config)] };
  },
});

/** The text of one file. */
export const text = defineOp({
  name: "text",
  inputs: { file: artifact() },
  outputs: { text: param(z.string()) },
  async execute({ file }) {
    return { text: await fs.readFile(file, "utf8") };
  },
});

const textT = OPTemplate.fromOp(text);
const main = new DAG({
  name: "nested",
  inputs: { epochs: param(z.number().int(), { default: 3 }) },
  outputs: { model: param(z.array(z.string())), last: param(z.string()), config: param(z.string()) },
});
const t = main.add(new Task("train", OPTemplate.fromOp(train), { parameters: { epochs: main.io.parameters.epochs } }));
const { run } = t.outputs.artifacts;
const model = main.add(new Task("inspect", OPTemplate.fromOp(inspect), { artifacts: { model: run.key("model") } }));
const last = main.add(new Task("last", textT, { artifacts: { file: run.key("epochs").at(-1).key("log") } }));
const config = main.add(new Task("config", textT, { artifacts: { file: run.key("model.config") } }));
main.setOutputs({ parameters: { model: model.outputs.parameters.files, last: last.outputs.parameters.text, config: config.outputs.parameters.text } });

export default new Workflow({ generateName: "nested-", entrypoint: main });
