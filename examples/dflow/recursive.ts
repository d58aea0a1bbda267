/**
 * dflow's recursion (`test_recurse.py`), ported: a Steps template that calls itself while a
 * shell step's output is below a limit. From `iter` 0 with `limit` 3, `plus1` runs for 0, 1
 * and 2, and the last one gives 3.
 *
 *   npx opflow run examples/dflow/recursive.ts
 */
import { z } from "zod";
import { ShellOPTemplate, Step, Steps, Workflow, param } from "@opflow/core";

export const plus1 = new ShellOPTemplate({
  name: "plus1",
  image: "alpine:3.15",
  inputs: { iter: param(z.number().int()) },
  outputs: { iter: param(z.number().int()) },
  source: ['echo "This is iter $iter"', "mkdir -p /tmp/outputs/parameters", "echo $((iter + 1)) > /tmp/outputs/parameters/iter"].join("\n"),
});

const steps = new Steps({ name: "iter", inputs: { iter: param(z.number().int(), { default: 0 }), limit: param(z.number().int(), { default: 3 }) } });
const hello = steps.add(new Step("hello", plus1, { parameters: { iter: steps.io.parameters.iter } }));
steps.add(
  new Step("next", steps, {
    parameters: { iter: hello.outputs.parameters.iter },
    when: hello.outputs.parameters.iter.lt(steps.io.parameters.limit),
  }),
);

export default new Workflow({ generateName: "dflow-recurse-", entrypoint: steps });
