import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import { DAG } from "../dag/dag.ts";
import { slicedTask } from "../dag/sliced-task.ts";
import { Task } from "../dag/task.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { OPTemplate } from "../template/op-template.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { slicedStep } from "./sliced-step.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const gen = defineOp({
  name: "gen-parts",
  inputs: { n: param(z.number().int()) },
  outputs: { parts: artifact.list(), weights: param(z.array(z.number())) },
  async execute({ n }, { workdir }) {
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const f = path.join(workdir, `p${i}-${"x".repeat(i)}.txt`);
      await fs.writeFile(f, `${i + 1}`);
      parts.push(f);
    }
    return { parts, weights: Array.from({ length: n }, (_, i) => 100 * (i + 1)) };
  },
});
const G = OPTemplate.fromOp(gen, { module: "ops.ts" });
const scale = new ShellOPTemplate({
  name: "scale",
  inputs: { f: artifact(), w: param(z.number()) },
  outputs: { y: param(z.number()) },
  source: ["set -eu", "mkdir -p /tmp/outputs/parameters", 'echo $(( $(cat /tmp/inputs/artifacts/f) * w )) > /tmp/outputs/parameters/y'].join("\n"),
});

/** A graph template taking one item: a Steps (or DAG) that runs the script on it. */
function inner(kind: "steps" | "dag") {
  if (kind === "steps") {
    const t = new Steps({ name: "per-part", inputs: { part: artifact(), w: param(z.number()) }, outputs: { y: param(z.number()) } });
    const s = t.add(new Step("scale", scale, { parameters: { w: t.io.parameters.w }, artifacts: { f: t.io.artifacts.part } }));
    t.setOutputs({ parameters: { y: s.outputs.parameters.y } });
    return t;
  }
  const t = new DAG({ name: "per-part-dag", inputs: { part: artifact() }, outputs: { y: param(z.number()) } });
  const s = t.add(new Task("scale", scale, { parameters: { w: 1 }, artifacts: { f: t.io.artifacts.part } }));
  t.setOutputs({ parameters: { y: s.outputs.parameters.y } });
  return t;
}

function build(n: number) {
  const main = new Steps({ name: "main", outputs: { steps: param(z.array(z.number())), dag: param(z.array(z.number())) } });
  const g = main.add(new Step("gen", G, { parameters: { n } }));
  const a = main.add(slicedStep("each", inner("steps"), { slices: { part: g.outputs.artifacts.parts, w: g.outputs.parameters.weights } }));
  const b = main.add(slicedStep("each-dag", inner("dag"), { slices: { part: g.outputs.artifacts.parts } }));
  main.setOutputs({ parameters: { steps: a.outputs.parameters.y, dag: b.outputs.parameters.y } });
  return new Workflow({ generateName: "graph-slices-", entrypoint: main });
}

describe("slices of artifacts through Steps and DAG templates", () => {
  it("hands each child its item through Argo's subPath read from the list's catalog", () => {
    const steps = build(3).compile().spec.templates?.find((t) => t.name === "main")?.steps?.flat() ?? [];
    const each = steps.find((s) => s.name === "each-dag");
    expect(each?.arguments?.artifacts).toEqual([
      { name: "part", from: "{{steps.gen.outputs.artifacts.parts}}", subPath: '{{=fromJSON(steps.gen.outputs.parameters["opflow-catalog-parts"])[int(item)]}}' },
    ]);
    expect(each?.withParam).toMatch(/len\(fromJSON\(steps\.gen\.outputs\.parameters\["opflow-catalog-parts"\]\)\)/);
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build(3).compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("runs in the local engine, each child on its own item", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-graph-slices-"));
    dirs.push(workdir);
    const result = await build(3).run({ workdir });
    const failed = Object.values(result.status.nodes ?? {}).filter((x) => x.message).map((x) => `${x.name}: ${x.message}`);
    expect([result.status.phase, failed]).toEqual(["Succeeded", []]);
    const root = Object.values(result.status.nodes ?? {}).find((x) => x.name === result.name) as NodeStatus;
    const out = (k: string) => (JSON.parse(root.outputs?.parameters?.find((p) => p.name === k)?.value as string) as unknown[]).map(Number);
    expect(out("steps")).toEqual([100, 400, 900]);
    expect(out("dag")).toEqual([1, 2, 3]);
  }, 60_000);

  it("slices in a DAG too (slicedTask), and refuses lists without a catalog", () => {
    const dag = new DAG({ name: "d", inputs: { files: artifact.list() } });
    const g = dag.add(new Task("gen", G, { parameters: { n: 2 } }));
    const t = dag.add(slicedTask("each", inner("dag"), { slices: { part: g.outputs.artifacts.parts } }));
    expect(t.name).toBe("each");
    expect(() => slicedTask("bad", inner("dag"), { slices: { part: dag.io.artifacts.files } })).toThrow(
      /Task "bad": slicing artifact "part" over the graph template "per-part-dag" reads each item's path from the list's catalog; pass a list output of an OP template/,
    );
  });
});
