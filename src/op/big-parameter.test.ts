import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";
import { OPTemplate } from "../template/op-template.ts";
import { defineOp } from "./op.ts";
import { bigParameter, param } from "./signature.ts";

const table = z.array(z.object({ id: z.number(), label: z.string() }));
const make = defineOp({
  name: "make-table",
  inputs: { rows: param(z.number().int()) },
  outputs: { table: bigParameter(table) },
  async execute({ rows }) {
    return { table: Array.from({ length: rows }, (_, id) => ({ id, label: `row ${id}` })) };
  },
});
const count = defineOp({
  name: "count-labels",
  inputs: { table: bigParameter(table), extra: bigParameter(z.record(z.string(), z.number())) },
  outputs: { n: param(z.number()) },
  async execute({ table, extra }) {
    return { n: table.length + Object.keys(extra).length };
  },
});

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

describe("big parameters", () => {
  it("travel as artifacts, from outputs and from literals, and arrive as values", async () => {
    const main = new Steps({ name: "main", outputs: { n: param(z.number()) } });
    const m = main.add(new Step("make", OPTemplate.fromOp(make, { module: "ops.ts" }), { parameters: { rows: 3000 } }));
    const c = main.add(
      new Step("count", OPTemplate.fromOp(count, { module: "ops.ts" }), {
        parameters: { table: m.outputs.parameters.table, extra: { a: 1, b: 2 } },
      }),
    );
    main.setOutputs({ parameters: { n: c.outputs.parameters.n } });
    const wf = new Workflow({ generateName: "big-", entrypoint: main });
    const manifest = wf.compile();
    const t = manifest.spec.templates?.find((x) => x.name === "count-labels");
    expect(t?.inputs?.artifacts?.map((a) => a.name)).toEqual(["table", "extra"]);
    expect(manifest.spec.templates?.[0]?.steps?.[1]?.[0]?.arguments?.artifacts).toEqual([
      { name: "table", from: "{{steps.make.outputs.artifacts.table}}" },
      { name: "extra", raw: { data: '{"a":1,"b":2}' } },
    ]);
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-big-"));
    dirs.push(workdir);
    const { status, name } = await wf.run({ workdir });
    expect(status.phase).toBe("Succeeded");
    const root = Object.values(status.nodes ?? {}).find((x) => x.name === name);
    expect(root?.outputs?.parameters?.[0]?.value).toBe("3002");
  });
});
