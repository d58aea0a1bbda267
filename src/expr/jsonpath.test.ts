import { describe, expect, it } from "vitest";
import { evaluateExpression } from "./evaluate.ts";
import { queryJsonPath } from "./jsonpath.ts";
import { EvaluationFailure } from "./values.ts";

const doc = {
  store: {
    book: [
      { category: "reference", author: "Rees", title: "Sayings", price: 8.95 },
      { category: "fiction", author: "Waugh", title: "Sword", price: 12.99 },
      { category: "fiction", author: "Tolkien", title: "LOTR", isbn: "0-395", price: 22.99 },
    ],
    bicycle: { color: "red", price: 19.95 },
    "odd-key": 1,
  },
};

describe("queryJsonPath", () => {
  it.each<[string, unknown]>([
    ["$", doc],
    ["$.store.bicycle.color", "red"],
    ["$['store']['bicycle']['color']", "red"],
    ['$["store"]["odd-key"]', 1],
    ["$.store.book[0].author", "Rees"],
    ["$.store.book[-1].title", "LOTR"],
    ["$.store.book[*].author", ["Rees", "Waugh", "Tolkien"]],
    ["$.store.book.*.price", [8.95, 12.99, 22.99]],
    ["$..author", ["Rees", "Waugh", "Tolkien"]],
    ["$..isbn", ["0-395"]],
    ["$.store.book[0,2].title", ["Sayings", "LOTR"]],
    ["$.store.book[1:].title", ["Sword", "LOTR"]],
    ["$.store.book[:1].title", ["Sayings"]],
    ["$.store.book[?(@.price < 10)].title", ["Sayings"]],
    ["$.store.book[?(@.category == 'fiction')].author", ["Waugh", "Tolkien"]],
    ["$.store.book[?(@.isbn)].title", ["LOTR"]],
    ["$.store.book[?(@.price > 10 && @.price < 20)].title", ["Sword"]],
  ])("%s", (path, want) => {
    expect(queryJsonPath(doc, path)).toEqual(want);
  });

  it("reads the upstream conditionals example", () => {
    expect(queryJsonPath([{ name: "should-print", value: "true" }], "$[0].value")).toBe("true");
  });

  it("fails on a missing definite path and on bad syntax", () => {
    expect(() => queryJsonPath(doc, "$.store.car")).toThrow(EvaluationFailure);
    expect(() => queryJsonPath(doc, "$.store.car")).toThrow('key "car" not found');
    expect(() => queryJsonPath(doc, "$.store.book[7]")).toThrow("out of range");
    expect(() => queryJsonPath(doc, "store")).toThrow("must start with $");
    expect(() => queryJsonPath(doc, "$.store[")).toThrow("unterminated [");
    expect(() => queryJsonPath(doc, "$[?(@.a ~ 1)]")).toThrow("unsupported filter");
  });

  it("is reachable as jsonpath() in expressions, with errors as ExpressionError", () => {
    const json = JSON.stringify(doc);
    expect(evaluateExpression("jsonpath(j, '$.store.bicycle.price')", { j: json })).toBe(19.95);
    expect(evaluateExpression("len(jsonpath(j, '$..price'))", { j: json })).toBe(4);
    expect(() => evaluateExpression("jsonpath(j, '$.nope')", { j: json })).toThrow('jsonpath "$.nope": key "nope" not found');
    expect(() => evaluateExpression("jsonpath('{bad', '$')", {})).toThrow("jsonpath: invalid JSON");
  });
});
