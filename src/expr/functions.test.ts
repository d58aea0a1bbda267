import { describe, expect, it } from "vitest";
import { evaluateExpression } from "./evaluate.ts";

const ev = (src: string, env: Record<string, unknown> = {}): unknown => evaluateExpression(src, env);

describe("expr-lang builtins", () => {
  it.each<[string, unknown]>([
    ["len('hello')", 5],
    ["len('héllo')", 6],
    ["len([1, 2])", 2],
    ["len({a: 1})", 1],
    ["abs(-3)", 3],
    ["ceil(1.2)", 2],
    ["floor(1.8)", 1],
    ["round(2.5)", 3],
    ["round(-2.5)", -3],
    ["int('42')", 42],
    ["int(3.9)", 3],
    ["int(-3.9)", -3],
    ["float('2.5')", 2.5],
    ["float(2)", 2],
    ["string(42)", "42"],
    ["string(2.5)", "2.5"],
    ["string(true)", "true"],
    ["string([1, 'a'])", "[1 a]"],
    ["string({b: 1, a: 2})", "map[a:2 b:1]"],
    ["string(nil)", "<nil>"],
    ["upper('abc')", "ABC"],
    ["lower('ABC')", "abc"],
    ["trim('  a  ')", "a"],
    ["trim('xxaxx', 'x')", "a"],
    ["trimPrefix('prefix-a', 'prefix-')", "a"],
    ["trimSuffix('a.txt', '.txt')", "a"],
    ["split('a,b,c', ',')", ["a", "b", "c"]],
    ["split('a,b,c', ',', 2)", ["a", "b,c"]],
    ["split('abc', '')", ["a", "b", "c"]],
    ["splitAfter('a,b', ',')", ["a,", "b"]],
    ["replace('aXbX', 'X', '-')", "a-b-"],
    ["repeat('ab', 3)", "ababab"],
    ["indexOf('hello', 'l')", 2],
    ["indexOf('hello', 'z')", -1],
    ["lastIndexOf('hello', 'l')", 3],
    ["hasPrefix('hello', 'he')", true],
    ["hasSuffix('hello', 'lo')", true],
    ["join(['a', 'b'], '-')", "a-b"],
    ["join(['a', 'b'])", "ab"],
    ["keys({b: 1, a: 2})", ["a", "b"]],
    ["values({b: 1, a: 2})", [2, 1]],
    ["fromJSON('{\"a\": [1, 2]}')", { a: [1, 2] }],
    ["fromJSON('3')", 3],
    ["toBase64('hi')", "aGk="],
    ["fromBase64('aGk=')", "hi"],
    ["max(1, 5, 3)", 5],
    ["min(1, 5, 3)", 1],
    ["max([1, 5, 3])", 5],
    ["min(2.5, 1)", 1],
    ["first([1, 2])", 1],
    ["last([1, 2])", 2],
    ["first([])", null],
    ["take([1, 2, 3], 2)", [1, 2]],
    ["type(1)", "int"],
    ["type(1.5)", "float"],
    ["type('a')", "string"],
    ["type([])", "array"],
    ["type({})", "map"],
    ["type(nil)", "nil"],
    ["toPairs({a: 1})", [["a", 1]]],
    ["fromPairs([['a', 1]])", { a: 1 }],
    ["sort([3, 1, 2])", [1, 2, 3]],
    ["sort(['b', 'a'], 'desc')", ["b", "a"]],
    ["reverse([1, 2])", [2, 1]],
    ["uniq([1, 2, 1])", [1, 2]],
    ["concat([1], [2, 3])", [1, 2, 3]],
    ["flatten([1, [2, [3]]])", [1, 2, 3]],
    ["get({a: 1}, 'a')", 1],
    ["get({a: 1}, 'b')", null],
    ["get([1, 2], 5)", null],
    ["bitand(6, 3)", 2],
    ["bitor(4, 1)", 5],
    ["bitxor(6, 3)", 5],
    ["bitnot(0)", -1],
  ])("%s", (src, want) => {
    expect(ev(src)).toEqual(want);
  });

  it("pretty-prints toJSON like expr-lang (two-space indent, sorted keys)", () => {
    expect(ev("toJSON({b: [1, 2], a: 'x'})")).toBe('{\n  "a": "x",\n  "b": [\n    1,\n    2\n  ]\n}');
    expect(ev("toJSON(1)")).toBe("1");
  });

  it("fails with the function's name on bad arguments", () => {
    expect(() => ev("len(1)")).toThrow("len: invalid argument for len (type int)");
    expect(() => ev("upper(1)")).toThrow("upper: argument 1 must be a string, got int 1");
    expect(() => ev("int('x')")).toThrow("int: invalid operation: int(x)");
    expect(() => ev("float('x')")).toThrow("float: invalid operation: float(x)");
    expect(() => ev("len()")).toThrow("len: expects 1 argument, got 0");
    expect(() => ev("max()")).toThrow("max: not enough arguments");
    expect(() => ev("fromJSON('{')")).toThrow("fromJSON: invalid JSON");
    expect(() => ev("fromBase64('!!')")).toThrow("fromBase64: illegal base64 data");
    expect(() => ev("join([1], ',')")).toThrow("join: element 0 must be a string, got int");
    expect(() => ev("sort([1, 'a'])")).toThrow("sort: can only sort");
    expect(() => ev("toJson(x)", { x: () => 1 })).toThrow("json: unsupported type: func");
  });

  it("reports the failing call's position", () => {
    expect(() => ev("1 + upper(2)")).toThrow('expression "1 + upper(2)": upper: argument 1 must be a string, got int 2 at 4');
  });
});

describe("Argo functions", () => {
  it.each<[string, unknown]>([
    ["asInt('7')", 7],
    ["asInt(7.9)", 7],
    ["asFloat('7.5')", 7.5],
    ["asFloat('1e3')", 1000],
    ["toJson({b: 1, a: [true, nil]})", '{"a":[true,null],"b":1}'],
    ["toJson('a<b')", '"a\\u003cb"'],
    ["toJson(2.5)", "2.5"],
    ["fromJson('{\"a\": 1}').a", 1],
    ["jsonpath('{\"a\": {\"b\": [1, 2]}}', '$.a.b[1]')", 2],
  ])("%s", (src, want) => {
    expect(ev(src)).toEqual(want);
  });
});
