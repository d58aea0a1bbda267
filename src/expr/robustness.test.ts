/**
 * Whatever text comes in, the expression functions fail with an ExpressionError, never with a
 * raw TypeError or RangeError (a seeded random generator keeps failures reproducible).
 */
import { describe, expect, it } from "vitest";
import { ExpressionError } from "../errors.ts";
import { dependsTasks, evaluateDepends } from "./depends.ts";
import { evaluateExpression } from "./evaluate.ts";
import { evaluateWhen } from "./govaluate.ts";
import { substituteTags } from "./tags.ts";

function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = [
  "a", "b.c", "x", "1", "2.5", "'s'", '"t"', "`r`", "nil", "true", "(", ")", "[", "]", "{", "}", ",", ":", "?", "?.",
  "??", "+", "-", "*", "/", "%", "**", "^", "==", "!=", "<", ">=", "&&", "||", "!", "not", "in", "..", "|", "#",
  "#index", ".", "len(", "filter(", "map(", "sprig.", "upper(", "asInt(", "jsonpath(", "let", "=", ";", " ", "'",
  "matches", "contains", "-1", "0x", "\\", "A", "B-c", ".Succeeded", ".Failed", ".Nope", "=~", "[x]", "{{", "}}", "{{=",
];

function randomText(next: () => number): string {
  let out = "";
  const n = 1 + Math.floor(next() * 10);
  for (let i = 0; i < n; i++) out += PIECES[Math.floor(next() * PIECES.length)];
  return out;
}

function onlyExpressionErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
  }
}

describe("robustness", () => {
  const env = { a: { b: 1 }, b: { c: "x" }, x: [1, 2, 3], s: "str", n: null };
  const vars = { a: "1", "b.c": "2", x: "[1,2]" };

  it("evaluateExpression throws only ExpressionError", () => {
    const next = generator(1);
    for (let i = 0; i < 4000; i++) {
      const src = randomText(next);
      expect(() => onlyExpressionErrors(() => evaluateExpression(src, env)), src).not.toThrow();
    }
  });

  it("evaluateWhen throws only ExpressionError", () => {
    const next = generator(2);
    for (let i = 0; i < 4000; i++) {
      const src = randomText(next);
      expect(() => onlyExpressionErrors(() => evaluateWhen(src)), src).not.toThrow();
    }
  });

  it("depends functions throw only ExpressionError", () => {
    const next = generator(3);
    for (let i = 0; i < 4000; i++) {
      const src = randomText(next);
      expect(() => onlyExpressionErrors(() => dependsTasks(src)), src).not.toThrow();
      expect(() => onlyExpressionErrors(() => evaluateDepends(src, () => ({ phase: "Succeeded" }))), src).not.toThrow();
    }
  });

  it("substituteTags throws only ExpressionError", () => {
    const next = generator(4);
    for (let i = 0; i < 4000; i++) {
      const src = randomText(next);
      expect(() => onlyExpressionErrors(() => substituteTags(src, vars)), src).not.toThrow();
      expect(() => onlyExpressionErrors(() => substituteTags(src, vars, { onMissing: "keep" })), src).not.toThrow();
    }
  });
});
