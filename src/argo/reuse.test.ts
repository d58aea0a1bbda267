import { describe, expect, it } from "vitest";
import type { ArgoStep } from "./query.ts";
import { keyMatches, modifyOutputs, stepOutputs } from "./reuse.ts";

const step: ArgoStep = {
  id: "wf-1",
  name: "wf[0].a",
  displayName: "a",
  key: "iter-1",
  type: "Pod",
  phase: "Succeeded",
  children: [],
  inputs: { parameters: {}, artifacts: {} },
  outputs: { parameters: { n: "1", msg: "hi" }, artifacts: { data: { name: "data", s3: { key: "wf/wf-1/data.tgz" } } }, exitCode: "0" },
  values: { n: 1, msg: "hi" },
};

describe("reuse helpers", () => {
  it("match keys against comma-separated globs", () => {
    expect(keyMatches("*", "anything")).toBe(true);
    expect(keyMatches("iter-*", "iter-12")).toBe(true);
    expect(keyMatches("iter-*", "step-1")).toBe(false);
    expect(keyMatches("a, b ,c", "b")).toBe(true);
    expect(keyMatches("a.b", "axb")).toBe(false);
    expect(keyMatches("(x)", "(x)")).toBe(true);
    expect(keyMatches("", "a")).toBe(false);
  });

  it("turn a step's outputs back into Argo's, and replace some (JSON-encoding non-strings)", () => {
    expect(stepOutputs(step)).toEqual({
      parameters: [{ name: "n", value: "1" }, { name: "msg", value: "hi" }],
      artifacts: [{ name: "data", s3: { key: "wf/wf-1/data.tgz" } }],
      exitCode: "0",
    });
    const changed = modifyOutputs(step, { parameters: { n: 5, msg: "bye" }, artifacts: { data: { s3: { key: "elsewhere/data.tgz" } } } });
    expect(changed.outputs.parameters).toEqual({ n: "5", msg: "bye" });
    expect(changed.outputs.artifacts["data"]).toEqual({ name: "data", s3: { key: "elsewhere/data.tgz" } });
    // The original is left as it was.
    expect(step.outputs.parameters["n"]).toBe("1");
    expect(() => modifyOutputs(step, { artifacts: { model: { s3: { key: "k" } } } })).toThrow(/has no output artifact "model" \(it has: data\)/);
  });
});
