/**
 * hello: one OP with a parameter and an artifact in, a parameter and an artifact out.
 *
 *   npx opflow run examples/hello.ts      # run it offline
 *   npx opflow render examples/hello.ts   # print its Argo manifest
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { OPTemplate, Step, Workflow, artifact, defineOp, param, rawArtifact } from "@opflow/core";

export const hello = defineOp({
  name: "hello",
  description: "Greets someone and writes the greeting next to the input text.",
  inputs: {
    who: param(z.string(), { description: "whom to greet" }),
    times: param(z.number().int().positive(), { default: 1 }),
    notes: artifact({ description: "a text file" }),
  },
  outputs: {
    greeting: param(z.string()),
    length: param(z.number().int()),
    report: artifact(),
  },
  async execute({ who, times, notes }, { workdir, progress }) {
    const text = await fs.readFile(notes, "utf8");
    const greeting = Array.from({ length: times }, () => `Hello, ${who}!`).join(" ");
    const report = path.join(workdir, "report.txt");
    await fs.writeFile(report, `${greeting}\n--- notes ---\n${text}`);
    progress(1, 1);
    return { greeting, length: text.length, report };
  },
});

const helloTemplate = OPTemplate.fromOp(hello, { image: "node:20-slim" });

const workflow = new Workflow({ generateName: "hello-" });
workflow.add(
  new Step("hello", helloTemplate, {
    parameters: { who: "opflow", times: 2 },
    artifacts: { notes: rawArtifact("Typed workflows for science.\n") },
  }),
);

export default workflow;
