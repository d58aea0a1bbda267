import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { NodeStatus } from "../argo/model.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { FatalError } from "../errors.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";
import { OPTemplate } from "./op-template.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const whereAmI = OPTemplate.fromOp(
  defineOp({
    name: "where-am-i",
    inputs: { x: param(z.number()) },
    outputs: { workflow: param(z.string()), key: param(z.string()) },
    async execute(_input, { workflowName, stepKey }) {
      return { workflow: workflowName ?? "(none)", key: stepKey ?? "(none)" };
    },
  }),
  { module: "ops.ts" },
);

function build() {
  const main = new Steps({ name: "main", outputs: { w: param(z.string()), k: param(z.string()), k2: param(z.string()) } });
  const a = main.add(new Step("a", whereAmI, { parameters: { x: 1 }, key: "item-a" }));
  const b = main.add(new Step("b", whereAmI, { parameters: { x: 2 } }));
  main.setOutputs({ parameters: { w: a.outputs.parameters.workflow, k: a.outputs.parameters.key, k2: b.outputs.parameters.key } });
  return new Workflow({ name: "where", entrypoint: main });
}

describe("OP context", () => {
  it("hands the pod the workflow's name and the step's key through the environment", () => {
    const t = build().compile().spec.templates?.find((x) => x.name === "where-am-i");
    expect(t?.container?.env).toEqual([
      { name: "x", value: "{{inputs.parameters.x}}" },
      { name: "OPFLOW_WORKFLOW_NAME", value: "{{workflow.name}}" },
      { name: "OPFLOW_STEP_KEY", value: "{{inputs.parameters.opflow-key}}" },
    ]);
  });

  it("lets execute read its workflow's name and its step's key in the local engine", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-context-"));
    dirs.push(workdir);
    const result = await build().run({ workdir });
    expect(result.status.phase).toBe("Succeeded");
    const root = Object.values(result.status.nodes ?? {}).find((n) => n.name === result.name) as NodeStatus;
    const out = (n: string) => root.outputs?.parameters?.find((p) => p.name === n)?.value;
    expect([out("w"), out("k"), out("k2")]).toEqual([result.name, "item-a", "(none)"]);
  });
});

describe("timeoutAsTransientError", () => {
  let attempts = 0;
  const slowOnce = OPTemplate.fromOp(
    defineOp({
      name: "slow-once",
      inputs: {},
      outputs: { attempts: param(z.number()) },
      async execute(_i, { signal }) {
        attempts += 1;
        if (attempts === 1) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return { attempts };
      },
    }),
    { module: "ops.ts", timeout: "1s", retry: { limit: 2, timeoutAsTransientError: true } },
  );

  it("retries an attempt that ran past its deadline as a transient error", async () => {
    const m = new Workflow({ entrypoint: slowOnce }).compile();
    expect(m.spec.templates?.[0]?.retryStrategy).toEqual({
      limit: 2,
      retryPolicy: "Always",
      expression: '(asInt(lastRetry.exitCode) == 75 || lastRetry.message contains "deadline")',
    });
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-timeout-"));
    dirs.push(workdir);
    const result = await new Workflow({ generateName: "slow-", entrypoint: slowOnce }).run({ workdir });
    expect(result.status.phase).toBe("Succeeded");
    expect(attempts).toBe(2);
  });

  it("without it, a timed-out OP attempt is not retried", () => {
    const plain = OPTemplate.fromOp(defineOp({ name: "p", inputs: {}, outputs: {}, async execute() { return {}; } }), { module: "ops.ts", retry: 2 });
    expect(new Workflow({ entrypoint: plain }).compile().spec.templates?.[0]?.retryStrategy?.expression).toBe("asInt(lastRetry.exitCode) == 75");
  });
});

describe("setOutput: partial outputs of a failed OP", () => {
  const anneal = OPTemplate.fromOp(
    defineOp({
      name: "anneal",
      inputs: { rounds: param(z.number().int()) },
      outputs: { best: param(z.number()), trace: artifact() },
      async execute({ rounds }, ctx) {
        let best = 1;
        for (let r = 1; r <= rounds; r++) {
          best /= 2;
          await fs.writeFile(path.join(ctx.workdir, "trace.txt"), `round ${r}: ${best}\n`, { flag: "a" });
          ctx.setOutput("best", best);
          ctx.setOutput("trace", "trace.txt");
          if (r === 3) throw new FatalError(`diverged at round ${r}`);
        }
        return { best, trace: "trace.txt" };
      },
    }),
    { module: "ops.ts" },
  );
  const report = OPTemplate.fromOp(
    defineOp({
      name: "report",
      inputs: { best: param(z.number()), trace: artifact() },
      outputs: { text: param(z.string()) },
      async execute({ best, trace }) {
        return { text: `best ${best}; ${(await fs.readFile(trace, "utf8")).trim().split("\n").length} rounds traced` };
      },
    }),
    { module: "ops.ts" },
  );

  function build() {
    const main = new Steps({ name: "main", outputs: { text: param(z.string()) } });
    const a = main.add(new Step("anneal", anneal, { parameters: { rounds: 5 }, continueOn: { failed: true } }));
    const r = main.add(new Step("report", report, { parameters: { best: a.outputs.parameters.best }, artifacts: { trace: a.outputs.artifacts.trace } }));
    main.setOutputs({ parameters: { text: r.outputs.parameters.text } });
    return new Workflow({ name: "partial", entrypoint: main });
  }

  it("the failed node carries the outputs set so far, and a continueOn.failed step downstream reads them", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-partial-"));
    dirs.push(workdir);
    const result = await build().run({ workdir });
    expect(result.status.phase).toBe("Succeeded");
    const nodes = Object.values(result.status.nodes ?? {});
    const failed = nodes.find((n) => n.displayName === "anneal" && n.type === "Pod");
    expect(failed?.phase).toBe("Failed");
    expect(failed?.message).toMatch(/diverged at round 3/);
    expect(failed?.outputs?.parameters?.find((p) => p.name === "best")?.value).toBe("0.125");
    expect(failed?.outputs?.artifacts?.map((a) => a.name)).toEqual(["trace"]);
    expect(await fs.readFile(path.join(result.dir, "[0].anneal", "outputs", "parameters", "best"), "utf8")).toBe("0.125");
    const root = nodes.find((n) => n.name === result.name) as NodeStatus;
    expect(root.outputs?.parameters?.find((p) => p.name === "text")?.value).toBe("best 0.125; 3 rounds traced");
  });

  it("compiles to a manifest the upstream CRD accepts", async () => {
    if (!haveArgoCheck) return;
    expect((await argoCheck([build().compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);
});
