/**
 * dflow's slices (`test_slices.py`), ported: an OP sliced over a list parameter — one step per
 * file name — each writing "foo" into a file of that name; the stacked output artifact (a list,
 * in item order) goes to a second OP that reads every file.
 *
 *   npx opflow run examples/dflow/slices.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { OPTemplate, Step, Workflow, artifact, defineOp, param, slicedStep } from "@opflow/core";

export const hello = defineOp({
  name: "hello",
  inputs: { filename: param(z.string()) },
  outputs: { foo: artifact() },
  async execute({ filename }, { workdir }) {
    const foo = path.join(workdir, filename);
    await fs.writeFile(foo, "foo");
    return { foo };
  },
});

export const check = defineOp({
  name: "check",
  inputs: { foo: artifact.list() },
  outputs: { contents: param(z.array(z.string())), names: param(z.array(z.string())) },
  async execute({ foo }, { log }) {
    const contents = await Promise.all(foo.map((f) => fs.readFile(f, "utf8")));
    log(foo.join("\n"));
    return { contents, names: foo.map((f) => path.basename(f)) };
  },
});

const workflow = new Workflow({ generateName: "dflow-slices-" });
const made = workflow.add(slicedStep("hello", OPTemplate.fromOp(hello), { slices: { filename: ["f1.txt", "f2.txt"] } }));
workflow.add(new Step("check", OPTemplate.fromOp(check), { artifacts: { foo: made.outputs.artifacts.foo } }));

export default workflow;
