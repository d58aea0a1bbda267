import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { OP, defineOp, kebabCase, toOPDefinition, validateInput, validateOutput } from "./op.ts";
import { type OPInput, type OPOutput, artifact, bigParameter, param } from "./signature.ts";

class TrainModel extends OP<typeof TrainModel.inputs, typeof TrainModel.outputs> {
  static readonly inputs = {
    epochs: param(z.number().int().positive(), { default: 10 }),
    rate: param(z.number()),
    tags: param(z.array(z.string()).optional()),
    mode: param(z.enum(["fast", "slow"])),
    config: param(z.object({ depth: z.number(), name: z.string() })),
    data: artifact(),
    extra: artifact.record({ optional: true }),
  };
  static readonly outputs = {
    loss: param(z.number()),
    model: artifact(),
    frames: artifact.list({ optional: true }),
    log: bigParameter(z.string()),
  };
  async execute(input: OPInput<typeof TrainModel.inputs>) {
    return { loss: input.rate * input.epochs, model: input.data, log: "done" };
  }
}

describe("OP signatures", () => {
  it("derives execute's input and output types from the signatures", () => {
    type In = OPInput<typeof TrainModel.inputs>;
    expectTypeOf<In["epochs"]>().toEqualTypeOf<number>();
    expectTypeOf<In["tags"]>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<In["mode"]>().toEqualTypeOf<"fast" | "slow">();
    expectTypeOf<In["config"]>().toEqualTypeOf<{ depth: number; name: string }>();
    expectTypeOf<In["data"]>().toEqualTypeOf<string>();
    expectTypeOf<In["extra"]>().toEqualTypeOf<Record<string, string> | undefined>();
    type Out = OPOutput<typeof TrainModel.outputs>;
    expectTypeOf<Out>().toEqualTypeOf<{ loss: number; model: string; log: string; frames?: string[] | undefined }>();
  });

  it("names a class OP after the class in kebab case", () => {
    expect(new TrainModel().name).toBe("train-model");
    expect(kebabCase("HTTPServer2Go")).toBe("http-server2-go");
  });

  it("rejects a default that does not match its schema", () => {
    expect(() => param(z.number(), { default: "x" as unknown as number })).toThrow(/default "x" does not match the schema/);
  });

  it("rejects bad OP names and signature names", () => {
    const base = { inputs: {}, outputs: {}, execute: async () => ({}) };
    expect(() => defineOp({ ...base, name: "Bad_Name" })).toThrow(/OP name "Bad_Name" is invalid/);
    expect(() => defineOp({ ...base, name: "ok", inputs: { "a.b": param(z.string()) } })).toThrow(/inputs name "a.b" is invalid/);
    expect(() => defineOp({ ...base, name: "ok", inputs: { a: z.string() as never } })).toThrow(/expected param\(\.\.\.\) or artifact\(\.\.\.\)/);
  });

  it("requires execute to return what it declares, checked by the compiler", () => {
    defineOp({
      name: "typed",
      inputs: { n: param(z.number()) },
      outputs: { s: param(z.string()) },
      // @ts-expect-error returns a number where a string is declared
      async execute({ n }) {
        return { s: n };
      },
    });
  });
});

describe("validation before and after execute", () => {
  const op = toOPDefinition(TrainModel);
  const good = { rate: 0.5, mode: "fast", config: { depth: 2, name: "x" }, data: "/d" };

  it("applies defaults and accepts valid input", () => {
    expect(validateInput(op.name, op.inputs, good)).toMatchObject({ epochs: 10, rate: 0.5, tags: undefined, extra: undefined });
  });

  it("names the OP, the field path, the rule and the value", () => {
    expect(() => validateInput(op.name, op.inputs, { ...good, rate: "ten" })).toThrow(
      'OP "train-model" input: parameter "rate" expects number, got "ten" (string)',
    );
    expect(() => validateInput(op.name, op.inputs, { ...good, config: { depth: "2", name: "x" } })).toThrow(
      'OP "train-model" input: parameter "config.depth" expects number, got "2" (string)',
    );
    expect(() => validateInput(op.name, op.inputs, { ...good, mode: "medium" })).toThrow(/parameter "mode" expects one of "fast", "slow", got "medium"/);
    expect(() => validateInput(op.name, op.inputs, { ...good, epochs: -1 })).toThrow(/parameter "epochs" is invalid \(expected number to be >0\), got -1 \(number\)/);
    const { rate: _rate, ...noRate } = good;
    expect(() => validateInput(op.name, op.inputs, noRate)).toThrow('OP "train-model" input: parameter "rate" is required but missing');
    expect(() => validateInput(op.name, op.inputs, { ...good, bogus: 1 })).toThrow(/unknown input "bogus"/);
    expect(() => validateInput(op.name, op.inputs, { ...good, data: ["a"] })).toThrow(/artifact "data" expects a path \(string\), got \["a"\] \(array\)/);
  });

  it("checks outputs after execute", () => {
    expect(() => validateOutput(op.name, op.outputs, { loss: "low", model: "/m", log: "" })).toThrow(ValidationError);
    expect(() => validateOutput(op.name, op.outputs, { loss: 1, log: "" })).toThrow('OP "train-model" output: artifact "model" is required but missing');
    expect(() => validateOutput(op.name, op.outputs, 42)).toThrow(/execute must return an object, got 42 \(number\)/);
    expect(validateOutput(op.name, op.outputs, { loss: 1, model: "/m", log: "" })).toMatchObject({ loss: 1, frames: undefined });
  });
});
