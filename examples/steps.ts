/**
 * steps: sequential and parallel steps, one step's output feeding the next.
 *
 *   npx opflow run examples/steps.ts
 */
import { z } from "zod";
import { OP, type OPInput, OPTemplate, Step, Steps, Workflow, param } from "@opflow/core";

/** The class form of an OP: static signatures, typed execute. */
export class Duplicate extends OP<typeof Duplicate.inputs, typeof Duplicate.outputs> {
  static readonly inputs = { msg: param(z.string()), times: param(z.number().int().min(1)) };
  static readonly outputs = { msg: param(z.string()), length: param(z.number().int()) };
  async execute({ msg, times }: OPInput<typeof Duplicate.inputs>) {
    const out = msg.repeat(times);
    return { msg: out, length: out.length };
  }
}

const duplicate = OPTemplate.fromOp(Duplicate);

const main = new Steps({
  name: "steps-example",
  inputs: { msg: param(z.string(), { default: "ab" }) },
  outputs: { total: param(z.number().int()) },
});
const first = main.add(new Step("first", duplicate, { parameters: { msg: main.io.parameters.msg, times: 2 } }));
const [left, right] = main.add([
  new Step("left", duplicate, { parameters: { msg: first.outputs.parameters.msg, times: 2 } }),
  new Step("right", duplicate, { parameters: { msg: first.outputs.parameters.msg, times: 3 } }),
]);
const last = main.add(
  new Step("last", duplicate, {
    parameters: { msg: left.outputs.parameters.msg, times: right.outputs.parameters.length },
  }),
);
main.setOutputs({ parameters: { total: last.outputs.parameters.length } });

export default new Workflow({ generateName: "steps-", entrypoint: main, parameters: { msg: "xy" } });
