import { describe, expect, it } from "vitest";
import { ExpressionError } from "../errors.ts";
import { lex } from "./lexer.ts";

const values = (src: string): string[] => lex(src).map((t) => t.value);
const kinds = (src: string): string[] => lex(src).map((t) => t.kind);

describe("lex", () => {
  it("splits operators, names and numbers", () => {
    expect(values("a+1")).toEqual(["a", "+", "1", ""]);
    expect(kinds("a + 1")).toEqual(["identifier", "operator", "number", "eof"]);
  });

  it("prefers the longest operator", () => {
    expect(values("a ** b ?? c?.d .. e")).toEqual(["a", "**", "b", "??", "c", "?.", "d", "..", "e", ""]);
    expect(values("a<=b>=c==d!=e&&f||g")).toEqual(["a", "<=", "b", ">=", "c", "==", "d", "!=", "e", "&&", "f", "||", "g", ""]);
  });

  it("reads word operators as operators", () => {
    expect(kinds("a in b and not c or d matches e")).toEqual([
      "identifier", "operator", "identifier", "operator", "operator", "identifier", "operator", "identifier", "operator", "identifier", "eof",
    ]);
    expect(kinds("x contains y startsWith z endsWith w")[1]).toBe("operator");
  });

  it("reads ints, floats, exponents, hex, octal, binary and underscores", () => {
    const nums = lex("1 2.5 1e3 0x1F 0o17 0b101 1_000 .5").filter((t) => t.kind === "number");
    expect(nums.map((t) => [t.value, t.float === true])).toEqual([
      ["1", false], ["2.5", true], ["1e3", true], ["31", false], ["15", false], ["5", false], ["1000", false], [".5", true],
    ]);
  });

  it("does not read a range as a float", () => {
    expect(values("1..3")).toEqual(["1", "..", "3", ""]);
  });

  it("reads single, double and backtick strings with escapes", () => {
    expect(lex(`'a\\'b'`)[0]!.value).toBe("a'b");
    expect(lex(`"a\\"b\\n\\t\\\\"`)[0]!.value).toBe('a"b\n\t\\');
    expect(lex(`"\\u00e9\\x41\\101"`)[0]!.value).toBe("éAA");
    expect(lex("`raw \\n`")[0]!.value).toBe("raw \\n");
  });

  it("reads # pointers", () => {
    expect(lex("# #index #acc").slice(0, 3).map((t) => [t.kind, t.value])).toEqual([["pointer", ""], ["pointer", "index"], ["pointer", "acc"]]);
  });

  it("skips comments", () => {
    expect(values("a /* x */ + // y\n b")).toEqual(["a", "+", "b", ""]);
  });

  it("records positions", () => {
    expect(lex("ab  +  'c'").map((t) => t.pos)).toEqual([0, 4, 7, 10]);
  });

  it("fails on unterminated strings, bad escapes and unknown characters, naming the position", () => {
    expect(() => lex("'abc")).toThrow(ExpressionError);
    expect(() => lex("'abc")).toThrow(`expression "'abc": unterminated string at 0`);
    expect(() => lex(`"\\q"`)).toThrow("invalid escape \\q at 1");
    expect(() => lex("a @ b")).toThrow(`unexpected character "@" at 2`);
    expect(() => lex("/* open")).toThrow("unterminated comment");
    expect(() => lex("0xZ")).toThrow("invalid number");
    expect(() => lex("12abc")).toThrow("invalid number");
  });
});
