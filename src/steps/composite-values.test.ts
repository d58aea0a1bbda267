import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { NodeStatus } from "../argo/model.ts";
import { argoConcat, argoSum, at, div, mod } from "../expr/tree.ts";
import { defineOp } from "../op/op.ts";
import { param } from "../op/signature.ts";
import { OPTemplate } from "../template/op-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const make = OPTemplate.fromOp(
  defineOp({
    name: "make",
    inputs: {},
    outputs: { n: param(z.number().int()), s: param(z.string()), xs: param(z.array(z.number())) },
    async execute() {
      return { n: 3, s: 'say "hi"', xs: [4, 5, 6] };
    },
  }),
  { module: "ops.ts" },
);
const use = OPTemplate.fromOp(
  defineOp({
    name: "use",
    inputs: {
      d: param(z.object({ k: z.number(), name: z.string(), nested: z.object({ list: z.array(z.number()) }) })),
      l: param(z.array(z.number())),
      total: param(z.number()),
      ratio: param(z.number()),
      first: param(z.number()),
      all: param(z.array(z.number())),
    },
    outputs: { echo: param(z.string()) },
    async execute(input) {
      return { echo: JSON.stringify(input) };
    },
  }),
  { module: "ops.ts" },
);

function build() {
  const main = new Steps({ name: "main", outputs: { echo: param(z.string()) } });
  const m = main.add(new Step("make", make));
  const { n, s, xs } = m.outputs.parameters;
  const u = main.add(
    new Step("use", use, {
      parameters: {
        d: { k: n, name: s, nested: { list: [n, 1, mod(n, 2)] } },
        l: [n, 7],
        total: argoSum(xs),
        ratio: div(n, 4),
        first: at(xs, 0),
        all: argoConcat(xs, [n]),
      },
    }),
  );
  main.setOutputs({ parameters: { echo: u.outputs.parameters.echo } });
  return new Workflow({ generateName: "composite-", entrypoint: main });
}

describe("values built from references", () => {
  it("render as expressions that build the JSON value at run time", () => {
    const step = build().compile().spec.templates?.find((t) => t.name === "main")?.steps?.[1]?.[0];
    const value = (p: string) => step?.arguments?.parameters?.find((x) => x.name === p)?.value;
    expect(value("d")).toBe(
      '{{=toJson({"k": asInt(steps.make.outputs.parameters.n), "name": steps.make.outputs.parameters.s, "nested": {"list": [asInt(steps.make.outputs.parameters.n), 1, (asInt(steps.make.outputs.parameters.n) % 2)] } })}}',
    );
    expect(value("total")).toBe("{{=sum(fromJSON(steps.make.outputs.parameters.xs))}}");
    expect(value("all")).toBe("{{=toJson(concat(fromJSON(steps.make.outputs.parameters.xs), [asInt(steps.make.outputs.parameters.n)]))}}");
  });

  it("type-check each reference against its place in the value", () => {
    const main = new Steps({ name: "t" });
    const m = main.add(new Step("make", make));
    const miswired = (): void => {
      // @ts-expect-error a string reference cannot stand for the number d.k
      new Step("u", use, { parameters: { d: { k: m.outputs.parameters.s, name: "x", nested: { list: [] } }, l: [], total: 1, ratio: 1, first: 1, all: [] } });
      // @ts-expect-error a list of numbers cannot take a string reference
      new Step("u", use, { parameters: { d: { k: 1, name: "x", nested: { list: [] } }, l: [m.outputs.parameters.s], total: 1, ratio: 1, first: 1, all: [] } });
    };
    expect(typeof miswired).toBe("function");
  });

  it("arrive as typed values in the local engine", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-composite-"));
    dirs.push(workdir);
    const result = await build().run({ workdir });
    expect(Object.values(result.status.nodes ?? {}).filter((n) => n.phase === "Failed" || n.phase === "Error").map((n) => n.message)).toEqual([]);
    expect(result.status.phase).toBe("Succeeded");
    const root = Object.values(result.status.nodes ?? {}).find((n) => n.name === result.name) as NodeStatus;
    const echo = JSON.parse(root.outputs?.parameters?.find((p) => p.name === "echo")?.value as string) as unknown;
    expect(echo).toEqual({ d: { k: 3, name: 'say "hi"', nested: { list: [3, 1, 1] } }, l: [3, 7], total: 15, ratio: 0.75, first: 4, all: [4, 5, 6, 3] });
  });
});
