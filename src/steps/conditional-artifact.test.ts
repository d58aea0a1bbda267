import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ifExpression } from "../expr/tree.ts";
import { OPTemplate } from "../template/op-template.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { Workflow } from "../workflow/workflow.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const make = defineOp({
  name: "make",
  inputs: { text: param(z.string()) },
  outputs: { file: artifact() },
  async execute({ text }, { workdir }) {
    const file = path.join(workdir, "out.txt");
    await fs.writeFile(file, text);
    return { file };
  },
});
const read = defineOp({
  name: "read",
  inputs: { file: artifact() },
  outputs: { text: param(z.string()) },
  async execute({ file }) {
    return { text: await fs.readFile(file, "utf8") };
  },
});

function build(flag: boolean): Workflow {
  const M = OPTemplate.fromOp(make, { module: "ops.ts" });
  const branch = new Steps({ name: "branch", inputs: { flag: param(z.boolean()) }, outputs: { file: artifact() } });
  const [yes, no] = branch.add([
    new Step("yes", M, { parameters: { text: "chose yes" }, when: branch.io.parameters.flag }),
    new Step("no", M, { parameters: { text: "chose no" }, when: branch.io.parameters.flag.eq(false) }),
  ]);
  branch.setOutputs({ artifacts: { file: ifExpression(yes.status.eq("Succeeded"), yes.outputs.artifacts.file, no.outputs.artifacts.file) } });
  const main = new Steps({ name: "main", outputs: { text: param(z.string()) } });
  const b = main.add(new Step("branch", branch, { parameters: { flag } }));
  const r = main.add(new Step("read", OPTemplate.fromOp(read, { module: "ops.ts" }), { artifacts: { file: b.outputs.artifacts.file } }));
  main.setOutputs({ parameters: { text: r.outputs.parameters.text } });
  return new Workflow({ generateName: "cond-art-", entrypoint: main });
}

describe("conditional artifact outputs (ifExpression → fromExpression)", () => {
  it("compiles to fromExpression", () => {
    const t = build(true).compile().spec.templates?.find((x) => x.name === "branch");
    expect(t?.outputs?.artifacts).toEqual([
      { name: "file", fromExpression: '((steps.yes.status == "Succeeded") ? steps.yes.outputs.artifacts.file : steps.no.outputs.artifacts.file)' },
    ]);
  });

  for (const flag of [true, false]) {
    it(`passes the artifact of the branch that ran in the local engine (flag ${flag})`, async () => {
      const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-cond-art-"));
      dirs.push(workdir);
      const { status, name } = await build(flag).run({ workdir });
      expect(Object.values(status.nodes ?? {}).filter((n) => n.phase === "Failed" || n.phase === "Error").map((n) => `${n.displayName}: ${n.message}`)).toEqual([]);
      const root = Object.values(status.nodes ?? {}).find((n) => n.name === name);
      expect(root?.outputs?.parameters?.[0]?.value).toBe(flag ? "chose yes" : "chose no");
    });
  }
});
