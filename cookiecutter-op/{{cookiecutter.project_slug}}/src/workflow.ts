/**
 * A workflow that uses the package's OP.
 *
 *   npx opflow run src/workflow.ts      # run it on this machine (the local engine)
 *   npx opflow render src/workflow.ts   # print its Argo manifest
 */
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, param } from "@opflow/core";
import { greet } from "./ops/greet.ts";

// On Argo the step runs in the image built from this package's Dockerfile ("installed" mode).
const greetTemplate = OPTemplate.fromOp(greet, { image: "{{cookiecutter.image}}" });

const main = new Steps({ name: "main", inputs: { who: param(z.string()) }, outputs: { greeting: param(z.string()) } });
const first = main.add(new Step("greet", greetTemplate, { parameters: { name: main.io.parameters.who, times: 2 } }));
const second = main.add(new Step("shout", greetTemplate, { parameters: { name: first.outputs.parameters.greeting, style: "loud" } }));
main.setOutputs({ parameters: { greeting: second.outputs.parameters.greeting } });

export default new Workflow({ generateName: "greet-", entrypoint: main, parameters: { who: "world" } });
