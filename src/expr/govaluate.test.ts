import { describe, expect, it } from "vitest";
import { ExpressionError } from "../errors.ts";
import { evaluateWhen } from "./govaluate.ts";

describe("evaluateWhen", () => {
  it.each([
    ["true == true", true],
    ["false == true", false],
    ["heads == heads", true],
    ["tails == heads", false],
    ["heads != tails", true],
    ["5 > 3", true],
    ["5 < 3", false],
    ["5 >= 5", true],
    ["2 <= 1", false],
    ["'a' == 'a' && 1 < 2", true],
    ["'a' == 'b' || 1 < 2", true],
    ["\"a b\" == 'a b'", true],
    ["true", true],
    ["false", false],
    ["!false", true],
    ["!(1 > 2)", true],
    ["(1 < 2) && (2 < 3)", true],
    ["1 + 2 == 3", true],
    ["2 * 3 > 5", true],
    ["10 / 4 == 2.5", true],
    ["7 % 4 == 3", true],
    ["2 ** 3 == 8", true],
    ["-1 < 0", true],
    ["0x10 == 16", true],
    ["1.5 > 1", true],
    ["'abc' < 'abd'", true],
    ["b > a", true],
    ["hello =~ '^h'", true],
    ["hello !~ '^h'", false],
    ["'Hello' =~ '(?i)hello'", true],
    ["3 in (1, 2, 3)", true],
    ["4 in (1, 2, 3)", false],
    ["foo in (foo, bar)", true],
    ["'a' + 'b' == ab", true],
    ["1 + 'a' == '1a'", true],
    ["5 == '5'", false],
    ["true == 'true'", false],
    ["[1, 2, 3] != []", true],
    ["[] != []", false],
    ["(1 & 3) == 1", true],
    ["(1 | 2) == 3", true],
    ["(1 << 3) == 8", true],
    ["Succeeded == Succeeded", true],
    ["ñandú == ñandú", true],
    ["", true],
  ])("%s → %s", (src, want) => {
    expect(evaluateWhen(src)).toBe(want);
  });

  it("evaluates the when conditions of Argo's examples after substitution", () => {
    // examples/conditionals.yaml: "{{inputs.parameters.should-print}} == true"
    expect(evaluateWhen("true == true")).toBe(true);
    expect(evaluateWhen("false == true")).toBe(false);
    // expression-tag forms substitute to a bare boolean
    expect(evaluateWhen("true")).toBe(true);
    // coinflip: "{{steps.flip-coin.outputs.result}} == heads"
    expect(evaluateWhen("heads == heads")).toBe(true);
    expect(evaluateWhen("tails == heads")).toBe(false);
    // samples/good-full.yaml
    expect(evaluateWhen('["a","b"] != []')).toBe(true);
    expect(evaluateWhen("'ok' == 'ok'")).toBe(true);
    // retry / conditional-artifacts style numeric comparisons
    expect(evaluateWhen("7 > 5")).toBe(true);
    expect(evaluateWhen("12 < 10")).toBe(false);
  });

  it("supports ternaries and ??", () => {
    expect(evaluateWhen("(1 > 0 ? true : false)")).toBe(true);
    expect(evaluateWhen("(1 < 0 ? true : false)")).toBe(false);
  });

  it("fails on a non-boolean result", () => {
    expect(() => evaluateWhen("heads")).toThrow(ExpressionError);
    expect(() => evaluateWhen("heads")).toThrow('expression "heads": expected a boolean result, got heads');
    expect(() => evaluateWhen("1 + 1")).toThrow("got 2");
  });

  it("fails on type errors, as govaluate does", () => {
    expect(() => evaluateWhen("hello-world == hello-world")).toThrow("cannot be used with the modifier '-', it is not a number");
    expect(() => evaluateWhen("a && true")).toThrow("value 'a' cannot be used with the logical operator '&&', it is not a bool");
    expect(() => evaluateWhen("5 > a")).toThrow("it is not a number");
    expect(() => evaluateWhen("1 in 2")).toThrow("it is not an array");
    expect(() => evaluateWhen("1 =~ 'a'")).toThrow("it is not a string");
  });

  it("fails on syntax errors with a position", () => {
    expect(() => evaluateWhen("hello world == x")).toThrow('unexpected "world"');
    expect(() => evaluateWhen("(1 < 2")).toThrow("unbalanced parenthesis");
    expect(() => evaluateWhen("1 <")).toThrow("unexpected end of expression at 3");
    expect(() => evaluateWhen("'abc")).toThrow("unclosed string literal at 0");
    expect(() => evaluateWhen("a # b")).toThrow('invalid token "#"');
    expect(() => evaluateWhen("1.2.3 == x")).toThrow("unable to parse numeric value");
    expect(() => evaluateWhen("v1.2 == v1.2")).toThrow("is read as an accessor");
    expect(() => evaluateWhen("[abc == x")).toThrow("unclosed [");
  });
});
