import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { LocalStorageClient } from "../storage/local.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";
import { OPTemplate } from "../template/op-template.ts";
import { defineOp } from "./op.ts";
import { artifact, param } from "./signature.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const write = defineOp({
  name: "write-report",
  inputs: { text: param(z.string()) },
  outputs: {
    report: artifact({ saveAs: "results/{{workflow.name}}/report.tgz", globalName: "final-report" }),
    raw: artifact({ archive: "none" }),
    maybe: artifact({ optional: true }),
  },
  async execute({ text }, { workdir }) {
    const report = path.join(workdir, "report.txt");
    await fs.writeFile(report, text);
    const raw = path.join(workdir, "raw");
    await fs.mkdir(raw, { recursive: true });
    await fs.writeFile(path.join(raw, "a.txt"), "A");
    return { report, raw };
  },
});
const read = defineOp({
  name: "read-report",
  inputs: { report: artifact(), raw: artifact(), maybe: artifact({ optional: true }) },
  outputs: { text: param(z.string()), had: param(z.boolean()) },
  async execute({ report, raw, maybe }) {
    return { text: `${await fs.readFile(report, "utf8")}+${await fs.readFile(path.join(raw, "a.txt"), "utf8")}`, had: maybe !== undefined };
  },
});

describe("artifact options", () => {
  it("renders saveAs, archive none, globalName and optional", () => {
    const t = OPTemplate.fromOp(write, { module: "ops.ts" });
    const [argo] = t.toArgo({ nameOf: (x) => x.name, context: () => ({ template: "t" }), warn: () => {}, outputMayBeSkipped: () => false });
    expect(argo?.outputs?.artifacts).toEqual([
      { name: "report", path: "/tmp/outputs/artifacts/report", globalName: "final-report", s3: { key: "results/{{workflow.name}}/report.tgz" } },
      { name: "raw", path: "/tmp/outputs/artifacts/raw", archive: { none: {} } },
      { name: "maybe", path: "/tmp/outputs/artifacts/maybe", optional: true },
    ]);
    expect(() => artifact({ saveAs: "/abs" })).toThrow(/saveAs must be a relative repository key/);
  });

  it("saves where saveAs says, passes none-archived directories, and leaves optional artifacts out", async () => {
    const main = new Steps({ name: "main", outputs: { text: param(z.string()), had: param(z.boolean()) } });
    const w = main.add(new Step("write", OPTemplate.fromOp(write, { module: "ops.ts" }), { parameters: { text: "hello" } }));
    const r = main.add(
      new Step("read", OPTemplate.fromOp(read, { module: "ops.ts" }), {
        artifacts: { report: w.outputs.artifacts.report, raw: w.outputs.artifacts.raw, maybe: w.outputs.artifacts.maybe },
      }),
    );
    main.setOutputs({ parameters: { text: r.outputs.parameters.text, had: r.outputs.parameters.had } });
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-artopts-"));
    dirs.push(workdir);
    const storage = new LocalStorageClient({ root: path.join(workdir, "store") });
    const { status, name } = await new Workflow({ generateName: "artopts-", entrypoint: main }).run({ workdir, storage });
    const root = Object.values(status.nodes ?? {}).find((n) => n.name === name);
    expect(Object.values(status.nodes ?? {}).filter((n) => n.phase === "Failed" || n.phase === "Error").map((n) => `${n.displayName}: ${n.message}`)).toEqual([]);
    expect(status.phase).toBe("Succeeded");
    expect(root?.outputs?.parameters).toEqual([
      { name: "text", value: "hello+A" },
      { name: "had", value: "false" },
    ]);
    expect(await storage.exists(`results/${name}/report.tgz`)).toBe(true);
  });
});
