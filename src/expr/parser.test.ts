import { describe, expect, it } from "vitest";
import { ExpressionError } from "../errors.ts";
import { type ExprAst, parseExpression } from "./parser.ts";

/** A compact rendering of the AST to check precedence. */
function show(n: ExprAst): string {
  switch (n.kind) {
    case "nil":
      return "nil";
    case "bool":
    case "number":
      return String(n.value);
    case "string":
      return JSON.stringify(n.value);
    case "identifier":
      return n.name;
    case "pointer":
      return `#${n.name}`;
    case "array":
      return `[${n.elements.map(show).join(", ")}]`;
    case "map":
      return `{${n.entries.map((e) => `${show(e.key)}: ${show(e.value)}`).join(", ")}}`;
    case "member":
      return `${show(n.object)}${n.optional ? "?" : ""}[${show(n.property)}]`;
    case "slice":
      return `${show(n.object)}[${n.from ? show(n.from) : ""}:${n.to ? show(n.to) : ""}]`;
    case "call":
      return `${show(n.callee)}(${n.args.map(show).join(", ")})`;
    case "closure":
      return `{${show(n.body)}}`;
    case "unary":
      return `(${n.op} ${show(n.operand)})`;
    case "binary":
      return `(${show(n.left)} ${n.op} ${show(n.right)})`;
    case "conditional":
      return `(${show(n.test)} ? ${show(n.consequent)} : ${show(n.alternate)})`;
    case "let":
      return `(let ${n.name} = ${show(n.value)}; ${show(n.body)})`;
  }
}
const p = (src: string): string => show(parseExpression(src));

describe("parseExpression", () => {
  it("parses literals", () => {
    expect(p("1")).toBe("1");
    expect(p("'a'")).toBe('"a"');
    expect(p("true")).toBe("true");
    expect(p("nil")).toBe("nil");
    expect(p("[1, 'a', [2]]")).toBe('[1, "a", [2]]');
    expect(p("{a: 1, 'b-c': 2, 3: 4}")).toBe('{"a": 1, "b-c": 2, "3": 4}');
    expect(p("[1, 2,]")).toBe("[1, 2]");
  });

  it("gives * precedence over + and + over comparison", () => {
    expect(p("1 + 2 * 3")).toBe("(1 + (2 * 3))");
    expect(p("1 * 2 + 3")).toBe("((1 * 2) + 3)");
    expect(p("a + 1 == b")).toBe("((a + 1) == b)");
    expect(p("a == 1 and b == 2 or c")).toBe("(((a == 1) and (b == 2)) or c)");
    expect(p("a || b && c")).toBe("(a || (b && c))");
  });

  it("is left-associative for - and /, right-associative for ** and ^", () => {
    expect(p("1 - 2 - 3")).toBe("((1 - 2) - 3)");
    expect(p("8 / 4 / 2")).toBe("((8 / 4) / 2)");
    expect(p("2 ** 3 ** 2")).toBe("(2 ** (3 ** 2))");
    expect(p("2 ^ 3 ^ 2")).toBe("(2 ^ (3 ^ 2))");
  });

  it("binds unary minus looser than ** and not looser than comparison operands", () => {
    expect(p("-2 ** 2")).toBe("(- (2 ** 2))");
    expect(p("!a")).toBe("(not a)");
    expect(p("not a")).toBe("(not a)");
    expect(p("not a == b")).toBe("((not a) == b)");
    expect(p("-a + b")).toBe("((- a) + b)");
  });

  it("parses member access, index, optional chaining and slices", () => {
    expect(p("a.b.c")).toBe('a["b"]["c"]');
    expect(p("a['b-c'].d")).toBe('a["b-c"]["d"]');
    expect(p('inputs.parameters["should-print"]')).toBe('inputs["parameters"]["should-print"]');
    expect(p("a?.b.c")).toBe('a?["b"]?["c"]');
    expect(p("a[1:3]")).toBe("a[1:3]");
    expect(p("a[:2]")).toBe("a[:2]");
    expect(p("a[1:]")).toBe("a[1:]");
    expect(p("a[:]")).toBe("a[:]");
    expect(p("a.in")).toBe('a["in"]');
  });

  it("parses calls, method calls and pipes", () => {
    expect(p("len(a)")).toBe("len(a)");
    expect(p("sprig.trim(x)")).toBe('sprig["trim"](x)');
    expect(p("a | upper()")).toBe("upper(a)");
    expect(p("a | split(',') | len()")).toBe('len(split(a, ","))');
    expect(p("a | upper")).toBe("upper(a)");
  });

  it("parses predicates with and without braces, and the .field shorthand", () => {
    expect(p("filter([1, 2], { # > 1})")).toBe("filter([1, 2], {(# > 1)})");
    expect(p("map(xs, # * 2)")).toBe("map(xs, {(# * 2)})");
    expect(p("all(xs, .ok)")).toBe('all(xs, {#["ok"]})');
    expect(p("reduce(xs, #acc + #, 0)")).toBe("reduce(xs, {(#acc + #)}, 0)");
    expect(p("xs | filter(# > 1)")).toBe("filter(xs, {(# > 1)})");
  });

  it("parses in, not in, contains, matches and their negations", () => {
    expect(p("a in b")).toBe("(a in b)");
    expect(p("a not in b")).toBe("(not (a in b))");
    expect(p("a not contains 'x'")).toBe('(not (a contains "x"))');
    expect(p("a matches '^x'")).toBe('(a matches "^x")');
    expect(p("a startsWith 'x' && a endsWith 'y'")).toBe('((a startsWith "x") && (a endsWith "y"))');
  });

  it("parses ranges, ternaries, ?? and let", () => {
    expect(p("1..3")).toBe("(1 .. 3)");
    expect(p("a ? b : c")).toBe("(a ? b : c)");
    expect(p("a ? b : c ? d : e")).toBe("(a ? b : (c ? d : e))");
    expect(p("x == 1 ? 'a' : 'b'")).toBe('((x == 1) ? "a" : "b")');
    expect(p("a ?? b")).toBe("(a ?? b)");
    expect(p("let x = 1; x + 1")).toBe("(let x = 1; (x + 1))");
    expect(p("(1 + 2) * 3")).toBe("((1 + 2) * 3)");
  });

  it("chains comparisons with &&, as expr-lang does", () => {
    expect(p("1 < x < 3")).toBe("((1 < x) && (x < 3))");
    expect(p("a == b == c")).toBe("((a == b) && (b == c))");
    expect(p("1 < x <= 3 < y")).toBe("(((1 < x) && (x <= 3)) && (3 < y))");
  });

  it("refuses to mix ?? with other operators without parentheses", () => {
    expect(() => parseExpression("a ?? b + 1")).toThrow("operator + and coalesce expressions (??) cannot be mixed");
    expect(p("(a ?? b) + 1")).toBe("((a ?? b) + 1)");
    expect(p("a ?? b ?? c")).toBe("((a ?? b) ?? c)");
  });

  it("caches ASTs by source", () => {
    expect(parseExpression("a + b")).toBe(parseExpression("a + b"));
  });

  it("fails with the source, the rule and the position", () => {
    expect(() => parseExpression("a +")).toThrow(ExpressionError);
    expect(() => parseExpression("a +")).toThrow('expression "a +": unexpected end of input at 3');
    expect(() => parseExpression("")).toThrow("empty expression");
    expect(() => parseExpression("(a")).toThrow('unexpected end of input, expected ")" at 2');
    expect(() => parseExpression("a b")).toThrow('unexpected token "b" at 2');
    expect(() => parseExpression("[1, 2")).toThrow("unexpected end of input");
    expect(() => parseExpression("a ? b")).toThrow('expected ":"');
    expect(() => parseExpression("a.")).toThrow("expected a property name");
    expect(() => parseExpression("{[1]: 2}")).toThrow("a map key must be");
    expect(() => parseExpression("a | 1")).toThrow("expected a function call after |");
    expect(() => parseExpression(")")).toThrow('unexpected token ")" at 0');
  });

  it("rejects absurd nesting instead of overflowing the stack", () => {
    expect(() => parseExpression("(".repeat(2000) + "1" + ")".repeat(2000))).toThrow("nested too deeply");
  });
});
