/**
 * fan-out: one step produces a list; the next fans out over it with withParam; the outputs
 * of the fanned-out step come back aggregated as a JSON list, summed by a last step.
 *
 *   npx opflow run examples/fan-out.ts
 */
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, defineOp, param } from "@opflow/core";

export const makeList = defineOp({
  name: "make-list",
  inputs: { n: param(z.number().int().min(0)) },
  outputs: { items: param(z.array(z.number().int())) },
  async execute({ n }) {
    return { items: Array.from({ length: n }, (_, i) => i + 1) };
  },
});

export const square = defineOp({
  name: "square",
  inputs: { x: param(z.number()) },
  outputs: { y: param(z.number()) },
  async execute({ x }) {
    return { y: x * x };
  },
});

export const sum = defineOp({
  name: "sum",
  inputs: { values: param(z.array(z.number())) },
  outputs: { total: param(z.number()) },
  async execute({ values }) {
    return { total: values.reduce((a, b) => a + b, 0) };
  },
});

const main = new Steps({ name: "fan-out", inputs: { n: param(z.number().int(), { default: 10 }) }, outputs: { total: param(z.number()) } });
const list = main.add(new Step("make-list", OPTemplate.fromOp(makeList), { parameters: { n: main.io.parameters.n } }));
const squares = main.add(
  new Step("square", OPTemplate.fromOp(square), {
    withParam: list.outputs.parameters.items,
    parameters: (item) => ({ x: item }),
  }),
);
const total = main.add(new Step("sum", OPTemplate.fromOp(sum), { parameters: { values: squares.outputs.parameters.y } }));
main.setOutputs({ parameters: { total: total.outputs.parameters.total } });

export default new Workflow({ generateName: "fan-out-", entrypoint: main });
