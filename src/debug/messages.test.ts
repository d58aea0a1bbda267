/**
 * Failure messages a user reads (issue 15): the failing step by name and path, skips with the
 * condition as written, no repetition, NaN as NaN, and why `retry: N` did not retry.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { describeFailure } from "../argo/query.ts";
import { substituteStrict } from "./scope.ts";
import { defineOp } from "../op/op.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { OPTemplate } from "../template/op-template.ts";
import { Workflow } from "../workflow/workflow.ts";

let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-messages-"));
});
afterAll(() => fs.rm(workdir, { recursive: true, force: true }));

const mean = defineOp({
  name: "mean",
  inputs: { values: param(z.array(z.number())) },
  outputs: { mean: param(z.number()) },
  async execute({ values }) {
    return { mean: values.reduce((a, b) => a + b, 0) / values.length };
  },
});

let calls = 0;
const boom = defineOp({
  name: "boom",
  inputs: {},
  outputs: { ok: param(z.boolean()) },
  async execute() {
    calls++;
    throw new Error("disk on fire");
  },
});

function nodeNamed(status: { nodes?: Record<string, { displayName: string; message?: string; phase: string }> }, name: string) {
  const n = Object.values(status.nodes ?? {}).find((x) => x.displayName === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}

describe("failure messages", () => {
  it("name the failing step by its name and path, and report NaN as NaN", async () => {
    const inner = new Steps({ name: "summarize" });
    inner.add(new Step("average", OPTemplate.fromOp(mean), { parameters: { values: [] } }));
    const wf = new Workflow({ name: "nan-run" });
    wf.add(new Step("summary", inner));
    const { status, name } = await wf.run({ workdir });
    expect(status.phase).toBe("Failed");
    const line = describeFailure({ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name }, spec: {}, status });
    expect(line).toMatch(/^step "average" \(nan-run\[0\]\.summary\[0\]\.average\) failed: .*parameter "mean" expects number, got NaN \(number\)/);
    expect(line).not.toContain("child '");
  }, 60_000);

  it("say that retry: N retries only TransientErrors, and how to retry any failure", async () => {
    calls = 0;
    const wf = new Workflow({ name: "retry-plain-error" });
    wf.add(new Step("flaky", OPTemplate.fromOp(boom, { retry: 3 })));
    const { status } = await wf.run({ workdir });
    expect(status.phase).toBe("Failed");
    expect(calls).toBe(1);
    expect(nodeNamed(status, "flaky").message).toBe(
      'retryStrategy.expression evaluated to false: under this retry policy only a TransientError (exit code 75) is retried, and the attempt ended with exit code 1 (Error: disk on fire); throw TransientError for failures worth retrying, or retry on any failure with retry: { limit: N, on: "failure" }',
    );
  }, 60_000);

  it("show a skipped step's condition as written", async () => {
    const main = new Steps({ name: "main", inputs: { go: param(z.string(), { default: "no" }) } });
    main.add(new Step("maybe", OPTemplate.fromOp(mean), { parameters: { values: [1] }, when: main.io.parameters.go.eq("yes") }));
    const { status } = await new Workflow({ name: "when-as-written", entrypoint: main }).run({ workdir });
    expect(status.phase).toBe("Succeeded");
    expect(nodeNamed(status, "maybe").message).toBe(`when 'false' evaluated false (as written: '{{=(inputs.parameters.go == "yes")}}')`);
  }, 60_000);

  it("say 'failed to resolve' once", () => {
    expect(() => substituteStrict("x {{inputs.parameters.nope}}", {})).toThrow(/^failed to resolve \{\{inputs\.parameters\.nope\}\}: no variable named "inputs\.parameters\.nope"$/);
  });
});
