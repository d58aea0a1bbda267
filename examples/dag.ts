/**
 * dag: a diamond whose dependencies are inferred from the data each task reads.
 *
 *     A
 *    / \
 *   B   C
 *    \ /
 *     D
 *
 *   npx opflow run examples/dag.ts
 */
import { z } from "zod";
import { DAG, OPTemplate, Task, Workflow, defineOp, param } from "@opflow/core";

export const add = defineOp({
  name: "add",
  inputs: { a: param(z.number()), b: param(z.number(), { default: 0 }) },
  outputs: { sum: param(z.number()) },
  async execute({ a, b }) {
    return { sum: a + b };
  },
});

const addT = OPTemplate.fromOp(add);

const diamond = new DAG({ name: "diamond", outputs: { result: param(z.number()) } });
const A = diamond.add(new Task("A", addT, { parameters: { a: 1, b: 1 } }));
const B = diamond.add(new Task("B", addT, { parameters: { a: A.outputs.parameters.sum, b: 10 } }));
const C = diamond.add(new Task("C", addT, { parameters: { a: A.outputs.parameters.sum, b: 100 } }));
const D = diamond.add(new Task("D", addT, { parameters: { a: B.outputs.parameters.sum, b: C.outputs.parameters.sum } }));
diamond.setOutputs({ parameters: { result: D.outputs.parameters.sum } });

export default new Workflow({ generateName: "dag-diamond-", entrypoint: diamond });
