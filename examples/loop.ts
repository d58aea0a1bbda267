/**
 * loop: a Steps template that calls itself until a condition holds (recursion guarded by
 * `when`), as Argo and dflow express loops.
 *
 *   npx opflow run examples/loop.ts
 */
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, defineOp, param } from "@opflow/core";

export const increment = defineOp({
  name: "increment",
  inputs: { value: param(z.number().int()) },
  outputs: { value: param(z.number().int()) },
  async execute({ value }) {
    return { value: value + 1 };
  },
});

const incT = OPTemplate.fromOp(increment);

const loop = new Steps({
  name: "count-up",
  inputs: { value: param(z.number().int()), limit: param(z.number().int()) },
});
const step = loop.add(new Step("increment", incT, { parameters: { value: loop.io.parameters.value } }));
loop.add(
  new Step("again", loop, {
    parameters: { value: step.outputs.parameters.value, limit: loop.io.parameters.limit },
    when: step.outputs.parameters.value.lt(loop.io.parameters.limit),
  }),
);

export default new Workflow({ generateName: "loop-", entrypoint: loop, parameters: { value: 0, limit: 5 } });
