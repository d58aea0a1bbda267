import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import { param } from "../op/signature.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { DAG } from "../dag/dag.ts";
import { Task } from "../dag/task.ts";
import { slicedStep } from "./sliced-step.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";

/** Doubles x; fails for even x. */
const flaky = new ShellOPTemplate({
  name: "flaky",
  inputs: { x: param(z.number().int()) },
  outputs: { y: param(z.number().int()) },
  source: ['[ $((x % 2)) -eq 0 ] && { echo "even $x" >&2; exit 1; }', "mkdir -p /tmp/outputs/parameters", "echo $((x * 2)) > /tmp/outputs/parameters/y"].join("\n"),
});

type Quorum = { continueOnNumSuccess?: number; continueOnSuccessRatio?: number };

function looped(q: Quorum) {
  const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number())) } });
  const s = main.add(new Step("each", flaky, { withItems: [1, 2, 3, 4, 5], parameters: (i) => ({ x: i }), ...q }));
  main.setOutputs({ parameters: { ys: s.outputs.parameters.y } });
  return new Workflow({ generateName: "quorum-", entrypoint: main });
}

function sliced(q: Quorum & { groupSize?: number }) {
  const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number())) } });
  const s = main.add(slicedStep("each", flaky, { slices: { x: [1, 2, 3, 4, 5] }, ...q }));
  main.setOutputs({ parameters: { ys: s.outputs.parameters.y } });
  return new Workflow({ generateName: "quorum-sliced-", entrypoint: main });
}

function dag(q: Quorum) {
  const main = new DAG({ name: "main", outputs: { ys: param(z.array(z.number())) } });
  const t = main.add(new Task("each", flaky, { withItems: [1, 2, 3, 4, 5], parameters: (i) => ({ x: i }), ...q }));
  main.setOutputs({ parameters: { ys: t.outputs.parameters.y } });
  return new Workflow({ generateName: "quorum-dag-", entrypoint: main });
}

let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-quorum-"));
});
afterAll(async () => {
  await fs.rm(workdir, { recursive: true, force: true });
});

async function run(wf: Workflow) {
  const result = await wf.run({ workdir, warn: () => {} });
  const nodes = Object.values(result.status.nodes ?? {});
  const root = nodes.find((n) => n.name === result.name) as NodeStatus;
  const ys = root?.outputs?.parameters?.find((x) => x.name === "ys")?.value;
  const check = nodes.find((n) => n.displayName === "opflow-quorum");
  const message = check?.inputs?.parameters?.find((p) => p.name === "message")?.value;
  return { phase: result.status.phase, ys: ys === undefined ? undefined : (JSON.parse(ys) as unknown[]).map(Number), check: check?.phase, message };
}

describe("continueOnNumSuccess / continueOnSuccessRatio", () => {
  it("runs each item in a try wrapper and checks the count after the loop", () => {
    const m = looped({ continueOnSuccessRatio: 0.6 }).compile();
    const names = m.spec.templates?.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["main", "flaky-loop", "flaky-try", "flaky", "opflow-quorum-not-reached"]));
    const loop = m.spec.templates?.find((t) => t.name === "flaky-loop");
    expect(loop?.steps?.[0]?.[0]?.template).toBe("flaky-try");
    expect(loop?.steps?.[1]?.[0]?.when).toBe(
      '{{=len(filter(fromJSON(steps.each.outputs.parameters["opflow-success"]), # == "1")) < 0.6 * len(fromJSON(steps.each.outputs.parameters["opflow-success"]))}}',
    );
    const tryT = m.spec.templates?.find((t) => t.name === "flaky-try");
    expect(tryT?.steps?.[0]?.[0]?.continueOn).toEqual({ failed: true, error: true });
  });

  it.skipIf(!haveArgoCheck)("emits manifests that pass the upstream CRD check (needs ../shared/argo)", async () => {
    const manifests = [looped({ continueOnNumSuccess: 3 }), sliced({ continueOnSuccessRatio: 0.5, groupSize: 2 }), dag({ continueOnNumSuccess: 2 })].map((w) => w.compile());
    expect((await argoCheck(manifests)).output).toMatch(/3 passed, 0 failed/);
  }, 120_000);

  it("refuses bad quorums, naming the step and the value", () => {
    expect(() => looped({ continueOnNumSuccess: 2, continueOnSuccessRatio: 0.5 })).toThrow(/Step "each": give continueOnNumSuccess or continueOnSuccessRatio, not both/);
    expect(() => looped({ continueOnSuccessRatio: 0 })).toThrow(/Step "each": continueOnSuccessRatio must be a number in \(0, 1\], got 0/);
    expect(() => looped({ continueOnSuccessRatio: 1.5 })).toThrow(/got 1.5/);
    expect(() => looped({ continueOnNumSuccess: 0 })).toThrow(/Step "each": continueOnNumSuccess must be a positive integer, got 0/);
    expect(() => new Step("one", flaky, { parameters: { x: 1 }, continueOnNumSuccess: 1 })).toThrow(/Step "one": continueOnNumSuccess and continueOnSuccessRatio count the items of a loop/);
  });

  for (const [label, build, q, ok] of [
    ["loop, ratio 0.6 met (3 of 5)", looped, { continueOnSuccessRatio: 0.6 }, true],
    ["loop, ratio 0.8 not met", looped, { continueOnSuccessRatio: 0.8 }, false],
    ["loop, 3 successes met", looped, { continueOnNumSuccess: 3 }, true],
    ["loop, 4 successes not met", looped, { continueOnNumSuccess: 4 }, false],
    ["DAG task, 3 successes met", dag, { continueOnNumSuccess: 3 }, true],
    ["sliced, ratio 0.6 met", sliced, { continueOnSuccessRatio: 0.6 }, true],
    ["sliced, 4 successes not met", sliced, { continueOnNumSuccess: 4 }, false],
  ] as const) {
    it(`in the local engine: ${label}`, async () => {
      const r = await run(build(q));
      if (ok) {
        expect(r.check).toBe("Skipped");
        expect(r.phase).toBe("Succeeded");
        expect(r.ys).toEqual([2, 6, 10]);
      } else {
        expect(r.phase).toBe("Failed");
        expect(r.check).toBe("Failed");
        expect(r.message).toMatch(/^step "each": 3 of 5 items succeeded; continueOn needs (at least 4|a ratio of at least 0.8)$/);
      }
    });
  }
});
