import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import type { ArtifactRef, ItemRef, ParamRef } from "../expr/refs.ts";
import { OPTemplate } from "../template/op-template.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { Workflow } from "../workflow/workflow.ts";
import { argoString, rawArgo } from "../expr/tree.ts";
import { Step, argoSequence, rawArtifact } from "./step.ts";
import { Steps } from "./steps.ts";

const produce = defineOp({
  name: "produce",
  inputs: { seed: param(z.number().int()) },
  outputs: { text: param(z.string()), count: param(z.number()), files: artifact.list(), model: artifact() },
  async execute() {
    return { text: "", count: 0, files: [], model: "" };
  },
});
const consume = defineOp({
  name: "consume",
  inputs: {
    count: param(z.number()),
    label: param(z.string(), { default: "x" }),
    model: artifact(),
    extra: artifact({ optional: true }),
  },
  outputs: {},
  async execute() {
    return {};
  },
});
const P = OPTemplate.fromOp(produce, { module: "ops.ts" });
const C = OPTemplate.fromOp(consume, { module: "ops.ts" });

describe("Step wiring", () => {
  it("types outputs from the template's signature", () => {
    const p = new Step("p", P, { parameters: { seed: 1 } });
    expectTypeOf(p.outputs.parameters.text).toEqualTypeOf<ParamRef<string>>();
    expectTypeOf(p.outputs.parameters.count).toEqualTypeOf<ParamRef<number>>();
    expectTypeOf(p.outputs.artifacts.files).toEqualTypeOf<ArtifactRef<"list">>();
    expectTypeOf(p.outputs.artifacts.model).toEqualTypeOf<ArtifactRef<"path">>();
    expect(p.outputs.parameters.text).toBeDefined();
  });

  it("types the outputs of a fanned-out step as lists", () => {
    const p = new Step("p", P, { withItems: [1, 2, 3], parameters: (i) => ({ seed: i }) });
    expectTypeOf(p.outputs.parameters.count).toEqualTypeOf<ParamRef<number[]>>();
    const s = new Step("s", P, { withSequence: argoSequence({ count: 3 }), parameters: { seed: 1 } });
    expect(s.looped).toBe(true);
  });

  it("passes the loop item typed by the list", () => {
    const list = new Step("l", P, { parameters: { seed: 1 } });
    void list;
    new Step("p", P, {
      withItems: [1, 2],
      parameters: (item) => {
        expectTypeOf(item).toEqualTypeOf<ItemRef<number>>();
        return { seed: item };
      },
    });
  });

  it("accepts matching wiring", () => {
    const p = new Step("p", P, { parameters: { seed: 1 } });
    const c = new Step("c", C, {
      parameters: { count: p.outputs.parameters.count },
      artifacts: { model: p.outputs.artifacts.model },
    });
    expect(c.name).toBe("c");
  });

  it("rejects mis-wiring at compile time and at run time", () => {
    const p = new Step("p", P, { parameters: { seed: 1 } });
    // a string output into a number input
    // @ts-expect-error ParamRef<string> is not a number
    expect(() => new Step("c1", C, { parameters: { count: p.outputs.parameters.text }, artifacts: { model: p.outputs.artifacts.model } })).not.toThrow();
    // an artifact into a parameter
    // @ts-expect-error ArtifactRef is not a number
    expect(() => new Step("c2", C, { parameters: { count: p.outputs.artifacts.model }, artifacts: { model: p.outputs.artifacts.model } })).toThrow(/artifact reference/);
    // an unknown parameter name
    // @ts-expect-error "cnt" is not an input
    expect(() => new Step("c3", C, { parameters: { cnt: 1, count: 2 }, artifacts: { model: p.outputs.artifacts.model } })).toThrow(/unknown parameter "cnt"/);
    // a list artifact into a path artifact
    // @ts-expect-error ArtifactRef<"list"> is not ArtifactRef<"path">
    expect(() => new Step("c4", C, { parameters: { count: 1 }, artifacts: { model: p.outputs.artifacts.files } })).toThrow(/expects a path artifact, got a list artifact/);
    // a missing required argument
    // @ts-expect-error model is required
    expect(() => new Step("c5", C, { parameters: { count: 1 } })).toThrow(/artifact "model" is required/);
    // a literal of the wrong type
    // @ts-expect-error "ten" is not a number
    expect(() => new Step("c6", C, { parameters: { count: "ten" }, artifacts: { model: rawArtifact("m") } })).toThrow(
      /Step "c6" \(template "consume"\): parameter "count" expects number, got "ten" \(string\)/,
    );
  });

  it("rejects invalid step names with the rule", () => {
    expect(() => new Step("bad_name", P, { parameters: { seed: 1 } })).toThrow(/Step name "bad_name" is invalid/);
    expect(() => new Step("x".repeat(129), P, { parameters: { seed: 1 } })).toThrow(/at most 128/);
  });

  it("rejects two loops on one step and a step added twice", () => {
    expect(() => new Step("p", P, { parameters: { seed: 1 }, withItems: [1], withSequence: argoSequence({ count: 2 }) })).toThrow(/only one of/);
    const s = new Step("p", P, { parameters: { seed: 1 } });
    new Steps({ name: "a" }).add(s);
    expect(() => new Steps({ name: "b" }).add(s)).toThrow(/already part of template "a"/);
  });

  it("renders when, loops, continueOn and keys", () => {
    const main = new Steps({ name: "main" });
    const p = main.add(new Step("p", P, { parameters: { seed: 1 } }));
    main.add(
      new Step("c", C, {
        parameters: { count: p.outputs.parameters.count, label: "it's \"quoted\" {{not a tag}}" },
        artifacts: { model: p.outputs.artifacts.model },
        when: p.outputs.parameters.count.gt(3),
        continueOn: { failed: true },
        key: "consume-1",
      }),
    );
    const m = new Workflow({ entrypoint: main }).compile();
    const step = m.spec.templates?.[0]?.steps?.[1]?.[0];
    expect(step).toMatchObject({
      name: "c",
      template: "consume",
      when: "{{=(asFloat(steps.p.outputs.parameters.count) > 3)}}",
      continueOn: { failed: true },
      arguments: {
        parameters: [
          { name: "count", value: "{{steps.p.outputs.parameters.count}}" },
          { name: "label", value: "it's \"quoted\" {{not a tag}}" },
          { name: "opflow-key", value: "consume-1" },
        ],
        artifacts: [{ name: "model", from: "{{steps.p.outputs.artifacts.model}}" }],
      },
    });
    // The template called with a key declares it, so that the node records it.
    const consumeT = m.spec.templates?.find((t) => t.name === "consume");
    expect(consumeT?.inputs?.parameters?.[0]).toEqual({ name: "opflow-key", default: "" });
    expect(m.spec.templates?.find((t) => t.name === "produce")?.inputs?.parameters?.map((p) => p.name)).toEqual(["seed"]);
  });
});

describe("Step parallelism", () => {
  it("runs a bounded loop inside a Steps template of its own and keeps output references", () => {
    const main = new Steps({ name: "main", outputs: { counts: param(z.array(z.number())) } });
    const gen = main.add(new Step("gen", P, { parameters: { seed: 1 } }));
    const fan = main.add(
      new Step("fan", P, {
        withParam: gen.outputs.parameters.count.eq(1) as unknown as ParamRef<number[]>,
        parameters: (item) => ({ seed: item }),
        parallelism: 3,
        when: gen.outputs.parameters.count.gt(0),
        key: argoString`fan-${gen.outputs.parameters.text}`,
      }),
    );
    main.setOutputs({ parameters: { counts: fan.outputs.parameters.count } });
    const m = new Workflow({ entrypoint: main }).compile();
    const loop = m.spec.templates?.find((t) => t.name === "produce-loop");
    expect(loop).toMatchObject({
      name: "produce-loop",
      inputs: { parameters: [{ name: "steps-gen-outputs-parameters-text" }, { name: "steps-gen-outputs-parameters-count" }] },
      parallelism: 3,
      steps: [[{ name: "fan", template: "produce", withParam: "{{=(asFloat(inputs.parameters[\"steps-gen-outputs-parameters-count\"]) == 1)}}" }]],
    });
    expect(loop?.outputs?.parameters?.[0]).toEqual({ name: "text", valueFrom: { parameter: "{{steps.fan.outputs.parameters.text}}" } });
    expect(loop?.steps?.[0]?.[0]?.arguments?.parameters).toEqual([
      { name: "seed", value: "{{item}}" },
      { name: "opflow-key", value: "fan-{{inputs.parameters.steps-gen-outputs-parameters-text}}" },
    ]);
    const outer = m.spec.templates?.[0]?.steps?.[1]?.[0];
    expect(outer).toEqual({
      name: "fan",
      template: "produce-loop",
      arguments: {
        parameters: [
          { name: "steps-gen-outputs-parameters-text", value: "{{steps.gen.outputs.parameters.text}}" },
          { name: "steps-gen-outputs-parameters-count", value: "{{steps.gen.outputs.parameters.count}}" },
        ],
      },
      when: "{{=(asFloat(steps.gen.outputs.parameters.count) > 0)}}",
    });
    expect(m.spec.templates?.[0]?.outputs?.parameters?.[0]?.valueFrom?.parameter).toBe("{{steps.fan.outputs.parameters.count}}");
  });

  it("rejects raw Argo text that would reach outside the loop's template", () => {
    const main = new Steps({ name: "main" });
    main.add(new Step("gen", P, { parameters: { seed: 1 } }));
    main.add(new Step("fan", P, { withParam: rawArgo<number[]>("{{steps.gen.outputs.result}}"), parameters: (i) => ({ seed: i }), parallelism: 2 }));
    expect(() => new Workflow({ entrypoint: main }).compile()).toThrow(/cannot reach other steps; pass typed references/);
  });

  it("rejects parallelism without a loop", () => {
    expect(() => new Step("p", P, { parameters: { seed: 1 }, parallelism: 2 })).toThrow(/parallelism bounds a loop/);
    expect(() => new Step("p", P, { parameters: { seed: 1 }, withItems: [1], parallelism: 0 })).toThrow(/positive integer/);
  });
});
