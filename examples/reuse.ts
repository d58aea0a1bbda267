/**
 * reuse: a keyed loop run twice — the second time with a higher limit, taking over the first
 * run's steps `iter-0` and `iter-1` instead of running them, and with the output of `iter-1`
 * replaced (dflow's `reuse_step` with `modify_output_parameter`).
 *
 * First run (limit 3): plus-one runs for iter 0, 1, 2 and the loop ends at 3.
 * Second run (limit 6): iter-0 is reused (→ 1), iter-1 is reused with its output replaced by 4,
 * so the loop goes on from 4: plus-one runs only for iter 4 and 5, and ends at 6.
 *
 *   node bin/run-ts.mjs examples/reuse.ts             # both runs on the local engine
 *   OPFLOW_MODE=cluster node bin/run-ts.mjs examples/reuse.ts   # both on Argo (kubeconfig)
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, argoString, defineOp, param, type WorkflowHandle } from "@opflow/core";

export const plusOne = defineOp({
  name: "plus-one",
  inputs: { iter: param(z.number().int()) },
  outputs: { iter: param(z.number().int()) },
  async execute({ iter }) {
    return { iter: iter + 1 };
  },
});

const loop = new Steps({ name: "iterate", inputs: { iter: param(z.number().int()), limit: param(z.number().int()) } });
const step = loop.add(new Step("plus-one", OPTemplate.fromOp(plusOne), { parameters: { iter: loop.io.parameters.iter }, key: argoString`iter-${loop.io.parameters.iter}` }));
loop.add(
  new Step("next", loop, {
    parameters: { iter: step.outputs.parameters.iter, limit: loop.io.parameters.limit },
    when: step.outputs.parameters.iter.lt(loop.io.parameters.limit),
  }),
);

/** The loop from 0 up to `limit`. */
export function iterate(limit: number): Workflow {
  return new Workflow({ generateName: "reuse-", entrypoint: loop, parameters: { iter: 0, limit } });
}

export default iterate(3);

/** Options of {@link reuseDemo}: where the runs go (see `Workflow.submit`). */
export interface ReuseDemoOptions {
  readonly mode?: "debug" | "cluster";
  readonly workdir?: string;
}

/** Runs the first workflow, then the second one reusing two of its steps; returns both handles. */
export async function reuseDemo(options: ReuseDemoOptions = {}): Promise<{ first: WorkflowHandle; second: WorkflowHandle }> {
  const mode = options.mode ?? (process.env["OPFLOW_MODE"] === "cluster" ? "cluster" : "debug");
  const submit = { ...options, mode };
  const first = await iterate(3).submit(submit);
  await first.wait();
  // dflow: wf.query_step(key=["iter-0", "iter-1"]), then step.modify_output_parameter("iter", 4).
  const picked = await first.querySteps({ key: ["iter-0", "iter-1"], phase: "Succeeded" });
  const iter0 = picked.find((s) => s.key === "iter-0");
  const iter1 = picked.find((s) => s.key === "iter-1");
  if (!iter0 || !iter1) throw new Error(`reuse example: the first run ${first.name} has no succeeded iter-0 and iter-1`);
  const second = await iterate(6).submit({ ...submit, reuse: [iter0, iter1.modifyOutputParameter("iter", 4)] });
  await second.wait();
  return { first, second };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { first, second } = await reuseDemo();
  for (const h of [first, second]) {
    const ran = (await h.querySteps({ name: "plus-one", type: "Pod" })).map((s) => `${s.key}${s.message?.startsWith("reused") ? " (reused)" : ""}`);
    console.log(`${h.name}: ${(await h.phase())}; plus-one steps: ${ran.join(", ")}`);
  }
}
