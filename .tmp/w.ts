import { z } from "zod";
import { Step, Steps, Workflow, OPTemplate, defineOp, param } from "../src/index.ts";
const mean = defineOp({ name: "mean", inputs: { values: param(z.array(z.number())) }, outputs: { mean: param(z.number()) }, async execute({ values }) { return { mean: 1 }; } });
const main = new Steps({ name: "main", inputs: { go: param(z.string(), { default: "no" }) } });
main.add(new Step("maybe", OPTemplate.fromOp(mean), { parameters: { values: [1] }, when: main.io.parameters.go.eq("yes") }));
console.log(new Workflow({ name: "when-as-written", entrypoint: main }).toYaml());
