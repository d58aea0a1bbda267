import { describe, expect, it } from "vitest";
import { ExpressionError } from "../errors.ts";
import { evaluateBool, evaluateExpression } from "./evaluate.ts";

const ev = (src: string, env: Record<string, unknown> = {}): unknown => evaluateExpression(src, env);

describe("evaluateExpression: literals", () => {
  it.each([
    ["1", 1],
    ["-1", -1],
    ["2.5", 2.5],
    ["1e3", 1000],
    ["0x10", 16],
    ["1_000_000", 1000000],
    ["'a'", "a"],
    ['"a\\nb"', "a\nb"],
    ["true", true],
    ["false", false],
    ["nil", null],
  ])("%s", (src, want) => {
    expect(ev(src)).toEqual(want);
  });

  it("builds arrays and maps", () => {
    expect(ev("[1, 'a', true, nil]")).toEqual([1, "a", true, null]);
    expect(ev("{a: 1, 'b-c': [2], (\"d\" + \"e\"): 3}")).toEqual({ a: 1, "b-c": [2], de: 3 });
    expect(ev("[]")).toEqual([]);
    expect(ev("{}")).toEqual({});
  });
});

describe("evaluateExpression: arithmetic", () => {
  it.each([
    ["1 + 2", 3],
    ["5 - 7", -2],
    ["3 * 4", 12],
    ["7 / 2", 3.5],
    ["4 / 2", 2],
    ["1 / 3", 1 / 3],
    ["7 % 3", 1],
    ["-7 % 3", -1],
    ["2 ** 10", 1024],
    ["2 ^ 3", 8],
    ["2 ** -1", 0.5],
    ["-2 ** 2", -4],
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["1.5 + 1", 2.5],
    ["10 - 2 - 3", 5],
    ["+3", 3],
  ])("%s = %s", (src, want) => {
    expect(ev(src)).toBe(want);
  });

  it("divides ints as floats (expr-lang), so 1 / 0 is +Inf", () => {
    expect(ev("1 / 0")).toBe(Infinity);
  });

  it("concatenates strings with +", () => {
    expect(ev("'a' + 'b'")).toBe("ab");
    expect(ev("x + '-' + y", { x: "a", y: "b" })).toBe("a-b");
  });

  it("rejects mixed or non-numeric operands, as expr-lang does", () => {
    expect(() => ev("'a' + 1")).toThrow("invalid operation: + (mismatched types string and int) at 4");
    expect(() => ev("'a' * 2")).toThrow("mismatched types string and int");
    expect(() => ev("1.5 % 2")).toThrow("invalid operation: % (mismatched types float and int)");
    expect(() => ev("1 % 0")).toThrow("integer divide by zero");
    expect(() => ev("-'a'")).toThrow("operand must be a number");
    expect(() => ev("nil + 1")).toThrow("mismatched types nil and int");
  });
});

describe("evaluateExpression: comparison and logic", () => {
  it.each([
    ["1 == 1", true],
    ["1 == 1.0", true],
    ["1 != 2", true],
    ["'a' == 'a'", true],
    ["'1' == 1", false],
    ["nil == nil", true],
    ["x == nil", true],
    ["[1, 2] == [1, 2]", true],
    ["{a: 1} == {a: 1}", true],
    ["1 < 2", true],
    ["2 <= 2", true],
    ["3 > 2.5", true],
    ["2 >= 3", false],
    ["'abc' < 'abd'", true],
    ["true && false", false],
    ["true and true", true],
    ["false || true", true],
    ["false or false", false],
    ["!true", false],
    ["not false", true],
    ["not (1 > 2)", true],
    ["1 < 2 < 3", true],
    ["1 < 3 < 2", false],
  ])("%s", (src, want) => {
    expect(ev(src, { x: null })).toBe(want);
  });

  it("short-circuits && and ||", () => {
    expect(ev("false && undefinedThing.x")).toBe(false);
    expect(ev("true || undefinedThing.x")).toBe(true);
  });

  it("rejects ordering across types and non-bool logic, as Argo users meet with string parameters", () => {
    expect(() => ev("inputs.parameters.n > 5", { inputs: { parameters: { n: "7" } } })).toThrow(
      "invalid operation: > (mismatched types string and int)",
    );
    expect(ev("asInt(inputs.parameters.n) > 5", { inputs: { parameters: { n: "7" } } })).toBe(true);
    expect(() => ev("1 && true")).toThrow("left operand is int");
    expect(() => ev("true && 'x'")).toThrow("right operand is string");
    expect(() => ev("not 'x'")).toThrow("operand must be bool");
  });
});

describe("evaluateExpression: membership and string operators", () => {
  it.each([
    ["2 in [1, 2, 3]", true],
    ["4 in [1, 2, 3]", false],
    ["4 not in [1, 2, 3]", true],
    ["'a' in {a: 1}", true],
    ["'b' in {a: 1}", false],
    ["'a' in ['a', 'b']", true],
    ["1 in nil", false],
    ["'hello' contains 'ell'", true],
    ["'hello' not contains 'x'", true],
    ["'hello' startsWith 'he'", true],
    ["'hello' endsWith 'lo'", true],
    ["'hello' matches '^h.*o$'", true],
    ["'Hello' matches '(?i)^hello$'", true],
    ["'hello' not matches '^x'", true],
  ])("%s", (src, want) => {
    expect(ev(src)).toBe(want);
  });

  it("fails on bad operands and bad patterns", () => {
    expect(() => ev("1 in 'abc'")).toThrow("invalid operation: in");
    expect(() => ev("1 contains 'a'")).toThrow("invalid operation: contains");
    expect(() => ev("'a' matches '('")).toThrow("invalid regular expression");
  });
});

describe("evaluateExpression: member access, index and slices", () => {
  const env = {
    inputs: { parameters: { message: "hi", "should-print": "true" } },
    steps: { "flip-coin": { outputs: { result: "heads" } } },
    xs: [10, 20, 30, 40],
    s: "héllo",
    m: { a: { b: 1 } },
    n: null,
  };

  it.each([
    ["inputs.parameters.message", "hi"],
    ["inputs.parameters['should-print']", "true"],
    ['inputs.parameters["should-print"]', "true"],
    ["steps['flip-coin'].outputs.result", "heads"],
    ["xs[0]", 10],
    ["xs[-1]", 40],
    ["xs[1:3]", [20, 30]],
    ["xs[:2]", [10, 20]],
    ["xs[2:]", [30, 40]],
    ["xs[-2:]", [30, 40]],
    ["xs[3:1]", []],
    ["xs[0:100]", [10, 20, 30, 40]],
    ["s[1]", "é"],
    ["s[1:3]", "él"],
    ["m.a.b", 1],
    ["m.missing", null],
    ["m?.a?.b", 1],
    ["n?.a", null],
    ["n?.a.b.c", null],
    ["n?.[0]", null],
    ["m['a']['b']", 1],
  ])("%s", (src, want) => {
    expect(ev(src, env)).toEqual(want);
  });

  it("fails on nil, out-of-range and wrong key types", () => {
    expect(() => ev("n.a", env)).toThrow('expression "n.a": cannot fetch a from nil at 2');
    expect(() => ev("m.missing.x", env)).toThrow("cannot fetch x from nil");
    expect(() => ev("xs[10]", env)).toThrow("index out of range: 10 (array length is 4)");
    expect(() => ev("xs['a']", env)).toThrow("index must be an int");
    expect(() => ev("m[1]", env)).toThrow("keys are strings");
    expect(() => ev("xs.a", env)).toThrow("index must be an int");
    expect(() => ev("1[0]", env)).toThrow("cannot fetch 0 from int");
  });

  it("fails on unknown names, naming them", () => {
    expect(() => ev("foo + 1")).toThrow('expression "foo + 1": unknown name foo at 0');
  });
});

describe("evaluateExpression: ranges, ternaries, ?? and let", () => {
  it.each([
    ["1..3", [1, 2, 3]],
    ["3..1", []],
    ["len(1..100)", 100],
    ["true ? 'a' : 'b'", "a"],
    ["1 > 2 ? 'a' : 'b'", "b"],
    ["x ?? 'default'", "default"],
    ["y ?? 'default'", "set"],
    ["m.missing ?? 'd'", "d"],
    ["missing.deep.path ?? 'd'", "d"],
    ["'' ?: 'e'", "e"],
    ["'v' ?: 'e'", "v"],
    ["let a = 2; let b = 3; a * b", 6],
    ["let xs = [1, 2]; map(xs, # + 1)", [2, 3]],
  ])("%s", (src, want) => {
    expect(ev(src, { x: null, y: "set", m: {} })).toEqual(want);
  });

  it("requires a bool condition", () => {
    expect(() => ev("'x' ? 1 : 2")).toThrow("non-bool expression (type string) used as condition");
  });

  it("evaluates only the chosen branch", () => {
    expect(ev("true ? 1 : nope.x")).toBe(1);
  });
});

describe("evaluateExpression: predicates", () => {
  const env = { xs: [1, 2, 3, 4], people: [{ name: "a", age: 30 }, { name: "b", age: 20 }, { name: "c", age: 40 }] };
  it.each([
    ["filter([1, 2], { # > 1})", [2]],
    ["map([1, 2], { # * 2 })", [2, 4]],
    ["filter(xs, # % 2 == 0)", [2, 4]],
    ["map(xs, # * #index)", [0, 2, 6, 12]],
    ["all(xs, # > 0)", true],
    ["all(xs, # > 1)", false],
    ["any(xs, # > 3)", true],
    ["none(xs, # > 4)", true],
    ["one(xs, # == 2)", true],
    ["one(xs, # > 2)", false],
    ["count(xs, # > 2)", 2],
    ["count([true, false, true])", 2],
    ["find(xs, # > 2)", 3],
    ["find(xs, # > 9)", null],
    ["findIndex(xs, # > 2)", 2],
    ["findLast(xs, # < 3)", 2],
    ["findLastIndex(xs, # < 3)", 1],
    ["map(people, .name)", ["a", "b", "c"]],
    ["map(filter(people, .age > 25), #.name)", ["a", "c"]],
    ["map(sortBy(people, .age), .name)", ["b", "a", "c"]],
    ["map(sortBy(people, .age, 'desc'), .name)", ["c", "a", "b"]],
    ["map(sortBy(people, 'age'), .name)", ["b", "a", "c"]],
    ["reduce(xs, #acc + #, 0)", 10],
    ["reduce(1..9, #acc + #)", 45],
    ["filter(0..9, {# % 2 == 0})", [0, 2, 4, 6, 8]],
    ["map(xs, #index)", [0, 1, 2, 3]],
    ["reduce(xs, #acc * #)", 24],
    ["sum(xs)", 10],
    ["sum(people, .age)", 90],
    ["mean(xs)", 2.5],
    ["median([3, 1, 2])", 2],
    ["median(xs)", 2.5],
    ["groupBy(xs, # % 2 == 0)", { false: [1, 3], true: [2, 4] }],
    ["xs | filter(# > 2) | map(# * 10)", [30, 40]],
    ["filter(nil, # > 1)", []],
    ["map(xs, map(1..#, # * 2))[1]", [2, 4]],
  ])("%s", (src, want) => {
    expect(ev(src, env)).toEqual(want);
  });

  it("requires bool predicates and arrays", () => {
    expect(() => ev("filter(xs, #)", env)).toThrow("filter: the predicate must return bool, got int");
    expect(() => ev("filter(1, # > 1)", env)).toThrow("filter: cannot iterate over int");
    expect(() => ev("# + 1", env)).toThrow("# can only be used inside a predicate");
    expect(() => ev("map(xs)", env)).toThrow("map: expects a predicate");
  });
});

describe("evaluateExpression: calls", () => {
  it("calls functions from the environment", () => {
    expect(ev("twice(21)", { twice: (x: unknown) => (x as number) * 2 })).toBe(42);
    expect(ev("lib.hello('x')", { lib: { hello: (s: unknown) => `hello ${String(s)}` } })).toBe("hello x");
  });

  it("exposes the whole environment as $env", () => {
    expect(ev("$env['var with spaces']", { "var with spaces": 1 })).toBe(1);
    expect(ev("'foo' in $env", { foo: 1 })).toBe(true);
    expect(ev("'bar' in $env", { foo: 1 })).toBe(false);
  });

  it("names unknown functions", () => {
    expect(() => ev("nope(1)")).toThrow('expression "nope(1)": unknown function nope at 0');
    expect(() => ev("sprig.nope(1)")).toThrow("unknown function sprig.nope");
    expect(() => ev("x(1)", { x: "s" })).toThrow("x is not a function (it is string)");
  });

  it("turns a throwing environment function into an ExpressionError", () => {
    const env = {
      boom: () => {
        throw new TypeError("kaboom");
      },
    };
    expect(() => ev("boom()", env)).toThrow(ExpressionError);
    expect(() => ev("boom()", env)).toThrow("kaboom");
  });

  it("can disable builtins, as Argo's expr.DisableBuiltin", () => {
    expect(() => evaluateExpression("string(1)", {}, { disableBuiltins: ["string"] })).toThrow("unknown function string");
    expect(evaluateExpression("string(1)", {})).toBe("1");
  });
});

describe("evaluateExpression: Argo environment", () => {
  const env = {
    inputs: { parameters: { "my-int-param": "3", "my-float-param": "2.5", "my-string-param": "  x  ", json: '{"some": {"path": 7}}' } },
    workflow: { parameters: { json: '[{"name": "should-print", "value": "true"}]' } },
    lastRetry: { exitCode: "2", status: "Failed", duration: "12", message: "oops" },
  };
  it.each([
    ["[1, 2]", [1, 2]],
    ["asInt(inputs.parameters['my-int-param'])", 3],
    ["asFloat(inputs.parameters['my-float-param'])", 2.5],
    ["string(1)", "1"],
    ["toJson([1, 2])", "[1,2]"],
    ["jsonpath(inputs.parameters.json, '$.some.path')", 7],
    ["sprig.trim(inputs.parameters['my-string-param'])", "x"],
    ["jsonpath(workflow.parameters.json, '$[0].value') == 'true'", true],
    ["asInt(lastRetry.exitCode) >= 2", true],
    ["lastRetry.exitCode != '2'", false],
    ["lastRetry.status == 'Error' or asInt(lastRetry.exitCode) > 1", true],
    ["fromJSON('{\"a\": [1]}').a[0]", 1],
    ["fromJson('[1, 2]')", [1, 2]],
  ])("%s", (src, want) => {
    expect(ev(src, env)).toEqual(want);
  });

  it("fails like expr-lang's int() on a non-integer string", () => {
    expect(() => ev("asInt('3.5')")).toThrow("asInt: invalid operation: int(3.5)");
    expect(() => ev("asInt('x')")).toThrow(ExpressionError);
  });

  it("lets Argo's functions win over variables of the same name, as Argo's env does", () => {
    expect(ev("sprig.upper('a')", { sprig: "shadow" })).toBe("A");
  });
});

describe("evaluateBool", () => {
  it("returns booleans", () => {
    expect(evaluateBool("asInt(lastRetry.exitCode) > 1", { lastRetry: { exitCode: "2" } })).toBe(true);
    expect(evaluateBool("1 > 2", {})).toBe(false);
  });

  it("fails on a non-boolean result, as Argo's EvalBool", () => {
    expect(() => evaluateBool("1 + 1", {})).toThrow(ExpressionError);
    expect(() => evaluateBool("1 + 1", {})).toThrow('expression "1 + 1": the result must be a bool, got int 2');
    expect(() => evaluateBool("x", { x: null })).toThrow("got nil");
  });
});
