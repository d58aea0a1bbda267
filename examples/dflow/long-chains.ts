/**
 * Long chains: `length` steps one after another, each adding one to the number the step before
 * it gave (dflow's chained steps, made long). With the default length of 100 the last step
 * gives 100; the manifest holds one Steps template with 100 groups.
 *
 *   npx opflow run examples/dflow/long-chains.ts
 */
import { z } from "zod";
import { type ParamRef, OPTemplate, Step, Steps, Workflow, defineOp, param } from "@opflow/core";

export const plus1 = defineOp({
  name: "plus1",
  inputs: { iter: param(z.number().int()) },
  outputs: { iter: param(z.number().int()) },
  async execute({ iter }) {
    return { iter: iter + 1 };
  },
});

/** A chain of `length` plus-one steps from 0. */
export function longChain(length: number): Workflow {
  const chain = new Steps({ name: "chain", outputs: { last: param(z.number().int()) } });
  const template = OPTemplate.fromOp(plus1);
  let value: ParamRef<number> | number = 0;
  for (let i = 0; i < length; i++) value = chain.add(new Step(`step-${i}`, template, { parameters: { iter: value } })).outputs.parameters.iter;
  chain.setOutputs({ parameters: { last: value } });
  return new Workflow({ generateName: "dflow-long-chain-", entrypoint: chain });
}

export default longChain(100);
