import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ContainerTemplate } from "../template/container-template.ts";
import { OPTemplate } from "../template/op-template.ts";
import { defineOp } from "../op/op.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";

const op = defineOp({
  name: "work",
  inputs: { x: param(z.number()) },
  outputs: { y: param(z.number()) },
  async execute({ x }) {
    return { y: x };
  },
});

describe("compiler", () => {
  it("dedups identical templates and renames different ones that share a name", () => {
    const a = OPTemplate.fromOp(op, { module: "ops.ts" });
    const b = OPTemplate.fromOp(op, { module: "ops.ts" });
    const c = OPTemplate.fromOp(op, { module: "ops.ts", image: "other:1" });
    const main = new Steps({ name: "main" });
    main.add(new Step("a", a, { parameters: { x: 1 } }));
    main.add(new Step("b", b, { parameters: { x: 2 } }));
    main.add(new Step("c", c, { parameters: { x: 3 } }));
    const warnings: string[] = [];
    const m = new Workflow({ entrypoint: main }).compile({ warn: (w) => warnings.push(w) });
    expect(m.spec.templates?.map((t) => t.name)).toEqual(["main", "work", "work-2"]);
    expect(m.spec.templates?.[0]?.steps?.map((g) => g[0]?.template)).toEqual(["work", "work", "work-2"]);
    expect(warnings).toEqual([expect.stringContaining('renamed one to "work-2"')]);
  });

  it("compiles the same workflow to byte-identical YAML, with generateName and no random suffixes", () => {
    const build = () => {
      const t = OPTemplate.fromOp(op, { module: "ops.ts" });
      const main = new Steps({ name: "main" });
      main.add(new Step("a", t, { parameters: { x: 1 } }));
      return new Workflow({ entrypoint: main });
    };
    const one = build().toYaml();
    expect(build().toYaml()).toBe(one);
    expect(one).toMatch(/generateName: main-/);
    expect(build().compile().metadata.name).toBeUndefined();
  });

  it("does not inline the OP's source, credentials or local absolute paths", () => {
    // (Installed mode: this test file imports vitest, which cannot be bundled.)
    const yaml = new Workflow({ entrypoint: OPTemplate.fromOp(op), parameters: { x: 1 } }).toYaml({ bundles: false });
    expect(yaml).not.toContain("return { y");
    expect(yaml).not.toContain("async");
    expect(yaml).not.toContain(process.cwd());
    expect(yaml).toContain("- src/argo/compile.test.ts");
  });

  it("fails with the limit and advice past 200 templates", () => {
    const main = new Steps({ name: "main" });
    for (let i = 0; i < 201; i++) {
      const t = new ContainerTemplate({ name: `t${i}`, image: "busybox", command: ["true"] });
      main.add(new Step(`s${i}`, t));
    }
    expect(() => new Workflow({ entrypoint: main }).compile({ warn: () => {} })).toThrow(
      /workflow has 202 templates; Argo v4 allows at most 200\. Reuse templates/,
    );
  });

  it("fails past 500 input parameters per template", () => {
    const inputs = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`p${i}`, param(z.string(), { default: "" })]));
    const t = new ContainerTemplate({ name: "wide", image: "busybox", inputs, command: ["true"] });
    expect(() => new Workflow({ entrypoint: t }).compile()).toThrow(/template "wide" has 501 input parameters; Argo v4 allows at most 500/);
  });

  it("warns when a manifest nears etcd's size limit", () => {
    const t = new ContainerTemplate({ name: "big", image: "busybox", command: ["echo", "x".repeat(850_000)] });
    const warnings: string[] = [];
    new Workflow({ entrypoint: t }).compile({ warn: (w) => warnings.push(w) });
    expect(warnings.join("\n")).toMatch(/near the ~1000000 bytes etcd holds per object/);
  });

  it("emits valueFrom.default where a skipped step's output may be read", () => {
    const t = OPTemplate.fromOp(op, { module: "ops.ts" });
    const main = new Steps({ name: "main", outputs: { y: param(z.number()) } });
    const s = main.add(new Step("maybe", t, { parameters: { x: 1 }, when: "false" }));
    main.setOutputs({ parameters: { y: s.outputs.parameters.y } });
    const m = new Workflow({ entrypoint: main }).compile();
    expect(m.spec.templates?.[0]?.outputs?.parameters?.[0]?.valueFrom).toEqual({ parameter: "{{steps.maybe.outputs.parameters.y}}", default: "" });
    expect(m.spec.templates?.[1]?.outputs?.parameters?.[0]?.valueFrom).toEqual({ path: "/tmp/outputs/parameters/y", default: "" });
  });

  it("rejects a declared output that is never bound", () => {
    const main = new Steps({ name: "main", outputs: { y: param(z.number()) } });
    main.add(new Step("a", OPTemplate.fromOp(op, { module: "ops.ts" }), { parameters: { x: 1 } }));
    expect(() => new Workflow({ entrypoint: main }).compile()).toThrow('template "main": output parameter "y" is declared but not bound; call setOutputs');
  });

  it("compiles recursion (a template that calls itself) once", () => {
    const loop = new Steps({ name: "loop", inputs: { n: param(z.number()) } });
    const s = loop.add(new Step("work", OPTemplate.fromOp(op, { module: "ops.ts" }), { parameters: { x: loop.io.parameters.n } }));
    loop.add(new Step("again", loop, { parameters: { n: s.outputs.parameters.y }, when: s.outputs.parameters.y.lt(3) }));
    const m = new Workflow({ entrypoint: loop, parameters: { n: 0 } }).compile();
    expect(m.spec.templates?.map((t) => t.name)).toEqual(["loop", "work"]);
    expect(m.spec.templates?.[0]?.steps?.[1]?.[0]).toMatchObject({ template: "loop", when: "{{=(asFloat(steps.work.outputs.parameters.y) < 3)}}" });
  });
});
