/**
 * conditional: `when` picks a branch at run time; an `ifExpression` output returns the result
 * of whichever branch ran.
 *
 *   npx opflow run examples/conditional.ts
 */
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, defineOp, ifExpression, param } from "@opflow/core";

export const flip = defineOp({
  name: "flip",
  inputs: { seed: param(z.number().int()) },
  outputs: { side: param(z.enum(["heads", "tails"])) },
  async execute({ seed }) {
    return { side: seed % 2 === 0 ? ("heads" as const) : ("tails" as const) };
  },
});

export const shout = defineOp({
  name: "shout",
  inputs: { word: param(z.string()) },
  outputs: { text: param(z.string()) },
  async execute({ word }) {
    return { text: `${word.toUpperCase()}!` };
  },
});

const flipT = OPTemplate.fromOp(flip);
const shoutT = OPTemplate.fromOp(shout);

const main = new Steps({
  name: "coin",
  inputs: { seed: param(z.number().int(), { default: 4 }) },
  outputs: { said: param(z.string()) },
});
const coin = main.add(new Step("flip", flipT, { parameters: { seed: main.io.parameters.seed } }));
const side = coin.outputs.parameters.side;
const [heads, tails] = main.add([
  new Step("heads", shoutT, { parameters: { word: "heads" }, when: side.eq("heads") }),
  new Step("tails", shoutT, { parameters: { word: "tails" }, when: side.eq("tails") }),
]);
main.setOutputs({
  parameters: {
    said: ifExpression(heads.status.eq("Succeeded"), heads.outputs.parameters.text, tails.outputs.parameters.text),
  },
});

export default new Workflow({ generateName: "conditional-", entrypoint: main });
