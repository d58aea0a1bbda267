/**
 * dflow's conditional outputs (`test_conditional_outputs.py`), ported: an OP tosses a coin; the
 * Steps template's outputs pick, by the toss, one of two output parameters ("head" or "tail")
 * and one of two output artifacts (a file holding "head" or "tail") with `ifExpression`.
 * Whatever the toss, `msg` and the text of `res` agree.
 *
 *   npx opflow run examples/dflow/conditional.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, artifact, defineOp, ifExpression, param } from "@opflow/core";

export const random = defineOp({
  name: "random",
  inputs: {},
  outputs: { isHead: param(z.boolean()), msg1: param(z.string()), msg2: param(z.string()), foo: artifact(), bar: artifact() },
  async execute(_, { workdir }) {
    const foo = path.join(workdir, "foo.txt");
    const bar = path.join(workdir, "bar.txt");
    await fs.writeFile(foo, "head");
    await fs.writeFile(bar, "tail");
    return { isHead: Math.random() < 0.5, msg1: "head", msg2: "tail", foo, bar };
  },
});

const steps = new Steps({ name: "conditional-steps", outputs: { msg: param(z.string()), res: artifact() } });
const toss = steps.add(new Step("random", OPTemplate.fromOp(random)));
const { isHead, msg1, msg2 } = toss.outputs.parameters;
steps.setOutputs({
  parameters: { msg: ifExpression(isHead, msg1, msg2) },
  artifacts: { res: ifExpression(isHead, toss.outputs.artifacts.foo, toss.outputs.artifacts.bar) },
});

export default new Workflow({ generateName: "dflow-conditional-", entrypoint: steps });
