import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { OPTemplate } from "../template/op-template.ts";
import { OutputArtifact, decodeOutputs, signatureValues } from "./outputs.ts";
import { Workflow } from "./workflow.ts";

const stats = defineOp({
  name: "stats",
  inputs: { values: param(z.array(z.number())) },
  outputs: { mean: param(z.number()), max: param(z.number()), label: param(z.string()), report: artifact() },
  async execute({ values }, { workdir }) {
    const report = path.join(workdir, "report.txt");
    await fs.writeFile(report, `n=${values.length}\n`);
    return { mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values), label: "42", report };
  },
});

function statsWorkflow(name: string) {
  const main = new Steps({ name: "main", inputs: { values: param(z.array(z.number())) }, outputs: stats.outputs });
  const s = main.add(new Step("stats", OPTemplate.fromOp(stats), { parameters: { values: main.io.parameters.values } }));
  main.setOutputs({
    parameters: { mean: s.outputs.parameters.mean, max: s.outputs.parameters.max, label: s.outputs.parameters.label },
    artifacts: { report: s.outputs.artifacts.report },
  });
  return new Workflow({ name, entrypoint: main, parameters: { values: [3, 6] } });
}

describe("workflow outputs", () => {
  let workdir: string;
  beforeAll(async () => {
    workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-outputs-"));
  });
  afterAll(async () => {
    await fs.rm(workdir, { recursive: true, force: true });
  });

  it("wf.run() returns the entrypoint's outputs typed by its signature; the root folder holds them", async () => {
    const wf = statsWorkflow("stats-run");
    const { status, outputs, dir } = await wf.run({ workdir });
    expect(status.phase, status.message).toBe("Succeeded");
    expectTypeOf(outputs.mean).toEqualTypeOf<number>();
    expectTypeOf(outputs.label).toEqualTypeOf<string>();
    expectTypeOf(outputs.report).toEqualTypeOf<OutputArtifact>();
    expect(outputs.mean).toBe(4.5);
    expect(outputs.max).toBe(6);
    // A string that looks like a number stays a string: the schema decides.
    expect(outputs.label).toBe("42");
    const file = await outputs.report.download(path.join(workdir, "report.txt"));
    expect(await fs.readFile(file, "utf8")).toBe("n=2\n");
    expect(await fs.readFile(path.join(dir, "_root", "outputs", "parameters", "mean"), "utf8")).toBe("4.5");
    expect(await fs.readFile(path.join(dir, "_root", "outputs", "parameters", "max"), "utf8")).toBe("6");
  }, 60_000);

  it("submit().wait() and handle.outputs() give the same typed outputs", async () => {
    const handle = await statsWorkflow("stats-submit").submit({ mode: "debug", workdir });
    const done = await handle.wait({ timeout: "1m" });
    expect(done.status?.phase, done.status?.message).toBe("Succeeded");
    expectTypeOf(done.outputs.max).toEqualTypeOf<number>();
    expect(done.outputs.max).toBe(6);
    const outputs = await handle.outputs();
    expectTypeOf(outputs.mean).toEqualTypeOf<number>();
    expect(outputs.mean).toBe(4.5);
    expect(outputs.report).toBeInstanceOf(OutputArtifact);
    expect(JSON.parse(JSON.stringify(outputs.report)).s3?.key).toMatch(/report/);
    // querySteps: values decoded by the template's signature ("42" stays a string for z.string()).
    const [step] = await handle.querySteps({ name: "stats" });
    expect(step?.outputs.parameters["mean"]).toBe("4.5");
    expect(step?.values).toEqual({ mean: 4.5, max: 6, label: "42" });
  }, 60_000);

  it("decodes without a signature loosely and refuses to download a non-store artifact", async () => {
    const out = decodeOutputs(undefined, { parameters: { n: "3", s: "hello" }, artifacts: { a: { name: "a", raw: { data: "x" } } } }, () => {
      throw new Error("not called");
    });
    expect(out).toMatchObject({ n: 3, s: "hello" });
    // A step of a template not known to the decoder is read loosely.
    expect(signatureValues(new Map())("other", { n: "3", s: "x" })).toEqual({ n: 3, s: "x" });
    await expect((out["a"] as OutputArtifact).download(path.join(workdir, "a"))).rejects.toThrow(/output artifact "a": download reads the artifact store \(s3\.key\), but this artifact is raw/);
  });
});
