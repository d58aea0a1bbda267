import { describe, expect, it } from "vitest";
import { describe as describeValue, equal, formatGoFloat, formatGoValue, goJson, isEmpty, typeName } from "./values.ts";

describe("formatGoFloat (Go's %v of a float64)", () => {
  it.each<[number, string]>([
    [0, "0"],
    [2.5, "2.5"],
    [0.1, "0.1"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [123456, "123456"],
    [1e6, "1e+06"],
    [1234567.5, "1.2345675e+06"],
    [1e21, "1e+21"],
    [-2.5e-7, "-2.5e-07"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [NaN, "NaN"],
  ])("%s → %s", (v, want) => {
    expect(formatGoFloat(v)).toBe(want);
  });
});

describe("formatGoValue (Go's %v)", () => {
  it.each<[unknown, string]>([
    ["s", "s"],
    [42, "42"],
    [1e6, "1000000"],
    [2.5, "2.5"],
    [true, "true"],
    [null, "<nil>"],
    [[1, "a", [2]], "[1 a [2]]"],
    [{ b: 1, a: "x" }, "map[a:x b:1]"],
    [[], "[]"],
  ])("%j → %s", (v, want) => {
    expect(formatGoValue(v)).toBe(want);
  });
});

describe("goJson (Go's json.Marshal)", () => {
  it.each<[unknown, string]>([
    [null, "null"],
    ["a\"b", '"a\\"b"'],
    ["<&>", '"\\u003c\\u0026\\u003e"'],
    [3, "3"],
    [2.5, "2.5"],
    [1e21, "1e+21"],
    [[1, [2]], "[1,[2]]"],
    [{ b: 1, a: { d: null, c: [] } }, '{"a":{"c":[],"d":null},"b":1}'],
  ])("%j → %s", (v, want) => {
    expect(goJson(v)).toBe(want);
  });

  it("indents like json.MarshalIndent", () => {
    expect(goJson({ a: [1], b: {} }, "  ")).toBe('{\n  "a": [\n    1\n  ],\n  "b": {}\n}');
  });

  it("refuses values JSON cannot hold", () => {
    expect(() => goJson(NaN)).toThrow("json: unsupported value: NaN");
    expect(() => goJson(() => 1)).toThrow("json: unsupported type: func");
  });
});

describe("value helpers", () => {
  it("names types as expr-lang does", () => {
    expect([null, undefined, true, 1, 1.5, "s", [], {}, () => 1, new Date(0)].map(typeName)).toEqual([
      "nil", "nil", "bool", "int", "float", "string", "array", "map", "func", "time.Time",
    ]);
  });

  it("compares deeply, numbers across int and float", () => {
    expect(equal(1, 1.0)).toBe(true);
    expect(equal([1, { a: [2] }], [1, { a: [2] }])).toBe(true);
    expect(equal({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(equal(null, undefined)).toBe(true);
    expect(equal("1", 1)).toBe(false);
    expect(equal(new Date(5), new Date(5))).toBe(true);
  });

  it("knows what sprig calls empty", () => {
    expect([null, false, 0, "", [], {}].every(isEmpty)).toBe(true);
    expect([true, 1, "a", [0], { a: 1 }].some(isEmpty)).toBe(false);
  });

  it("shortens long values in messages", () => {
    expect(describeValue("x".repeat(100))).toHaveLength(63);
  });
});
