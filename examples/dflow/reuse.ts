/**
 * dflow's reuse (`test_reuse.py`), ported: a keyed loop of an OP from 0 up to 5, then the same
 * workflow submitted again reusing two steps of the first run — `iter-0` as it was, and
 * `iter-1` with its output replaced by 3 (dflow's `modify_output_parameter`). The second run
 * takes both over and goes on from 3: `plus1` runs only for 3 and 4.
 *
 *   node bin/run-ts.mjs examples/dflow/reuse.ts     # both runs (opflow run runs the first only)
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, argoString, defineOp, param, type WorkflowHandle } from "@opflow/core";

export const plus1 = defineOp({
  name: "plus1",
  inputs: { iter: param(z.number().int()) },
  outputs: { iter: param(z.number().int()) },
  async execute({ iter }) {
    return { iter: iter + 1 };
  },
});

const steps = new Steps({ name: "iter", inputs: { iter: param(z.number().int(), { default: 0 }), limit: param(z.number().int(), { default: 5 }) } });
const step = steps.add(new Step("plus1", OPTemplate.fromOp(plus1), { parameters: { iter: steps.io.parameters.iter }, key: argoString`iter-${steps.io.parameters.iter}` }));
steps.add(new Step("next", steps, { parameters: { iter: step.outputs.parameters.iter }, when: step.outputs.parameters.iter.lt(steps.io.parameters.limit) }));

export default new Workflow({ generateName: "dflow-reuse-", entrypoint: steps });

/** Runs the workflow, then again reusing `iter-0` and `iter-1` (its output replaced by 3); returns both handles. */
export async function reuseDemo(options: { readonly workdir?: string } = {}): Promise<{ first: WorkflowHandle; second: WorkflowHandle }> {
  const submit = { ...options, mode: "debug" as const };
  const first = await new Workflow({ generateName: "dflow-reuse-", entrypoint: steps }).submit(submit);
  await first.wait();
  const [step0] = await first.querySteps({ key: "iter-0" });
  const [step1] = await first.querySteps({ key: "iter-1" });
  if (!step0 || !step1) throw new Error(`dflow reuse example: the first run ${first.name} has no steps iter-0 and iter-1`);
  const second = await new Workflow({ generateName: "dflow-reuse-resubmit-", entrypoint: steps }).submit({
    ...submit,
    reuse: [step0, step1.modifyOutputParameter("iter", 3)],
  });
  await second.wait();
  return { first, second };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { first, second } = await reuseDemo();
  for (const h of [first, second]) {
    const ran = (await h.querySteps({ name: "plus1", type: "Pod" })).map((s) => `${s.key}${s.message?.startsWith("reused") ? " (reused)" : ""}`);
    console.log(`${h.name}: ${await h.phase()}; plus1 steps: ${ran.join(", ")}`);
  }
}
