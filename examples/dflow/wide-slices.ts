/**
 * Wide slices (dflow's `test_subpath_slices.py`, made wide): an OP writes `width` files as one
 * list artifact; a second OP is sliced over that artifact, one file per step (each step
 * downloads only its own file: Argo's artifact `subPath`), and a third sums what the slices
 * measured. With the default width of 100, the sum of the file sizes is 1 + 2 + … + 100 = 5050.
 * As in dflow, no count is given: the number of items comes from the list's catalog, which the
 * preparing OP records beside the artifact.
 *
 *   npx opflow run examples/dflow/wide-slices.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, artifact, defineOp, param, slicedStep } from "@opflow/core";

export const prepare = defineOp({
  name: "prepare",
  inputs: { width: param(z.number().int().min(1)) },
  outputs: { foo: artifact.list({ archive: "none" }) },
  async execute({ width }, { workdir }) {
    const foo: string[] = [];
    for (let i = 1; i <= width; i++) {
      const f = path.join(workdir, `foo${i}.txt`);
      await fs.writeFile(f, "x".repeat(i));
      foo.push(f);
    }
    return { foo };
  },
});

export const measure = defineOp({
  name: "measure",
  inputs: { foo: artifact() },
  outputs: { size: param(z.number().int()) },
  async execute({ foo }) {
    return { size: (await fs.readFile(foo, "utf8")).length };
  },
});

export const total = defineOp({
  name: "total",
  inputs: { sizes: param(z.array(z.number().int())) },
  outputs: { sum: param(z.number().int()) },
  async execute({ sizes }) {
    return { sum: sizes.reduce((a, b) => a + b, 0) };
  },
});

const main = new Steps({ name: "wide-slices", inputs: { width: param(z.number().int(), { default: 100 }) }, outputs: { sum: param(z.number().int()) } });
const made = main.add(new Step("prepare", OPTemplate.fromOp(prepare), { parameters: { width: main.io.parameters.width } }));
const measured = main.add(slicedStep("measure", OPTemplate.fromOp(measure), { slices: { foo: made.outputs.artifacts.foo } }));
const summed = main.add(new Step("total", OPTemplate.fromOp(total), { parameters: { sizes: measured.outputs.parameters.size } }));
main.setOutputs({ parameters: { sum: summed.outputs.parameters.sum } });

export default new Workflow({ generateName: "dflow-wide-slices-", entrypoint: main });
