import { describe, expect, it } from "vitest";
import { evaluateExpression } from "./evaluate.ts";

const ev = (src: string, env: Record<string, unknown> = {}): unknown => evaluateExpression(src, env);

describe("sprig functions", () => {
  it.each<[string, unknown]>([
    // strings
    ["sprig.trim('  a b  ')", "a b"],
    ["sprig.trimAll('$', '$5.00$')", "5.00"],
    ["sprig.trimPrefix('v', 'v1.2')", "1.2"],
    ["sprig.trimSuffix('.txt', 'a.txt')", "a"],
    ["sprig.upper('abc')", "ABC"],
    ["sprig.lower('ABC')", "abc"],
    ["sprig.title('hello world')", "Hello World"],
    ["sprig.repeat(3, 'ab')", "ababab"],
    ["sprig.substr(1, 3, 'hello')", "el"],
    ["sprig.trunc(3, 'hello')", "hel"],
    ["sprig.trunc(-3, 'hello')", "llo"],
    ["sprig.abbrev(5, 'hello world')", "he..."],
    ["sprig.nospace('a b\tc')", "abc"],
    ["sprig.replace(' ', '-', 'a b c')", "a-b-c"],
    ["sprig.contains('cat', 'catch')", true],
    ["sprig.contains('dog', 'catch')", false],
    ["sprig.hasPrefix('ca', 'cat')", true],
    ["sprig.hasSuffix('at', 'cat')", true],
    ["sprig.quote('a', 1)", '"a" "1"'],
    ["sprig.squote('a')", "'a'"],
    ["sprig.cat('a', 1, nil, true)", "a 1 true"],
    ["sprig.indent(2, 'a\\nb')", "  a\n  b"],
    ["sprig.nindent(2, 'a')", "\n  a"],
    ["sprig.plural('one', 'many', 2)", "many"],
    ["sprig.splitList(',', 'a,b,c')", ["a", "b", "c"]],
    ["sprig.split('$', 'a$b')", { _0: "a", _1: "b" }],
    ["sprig.splitn(',', 2, 'a,b,c')", { _0: "a", _1: "b,c" }],
    ["sprig.join('-', ['a', 1, nil])", "a-1"],
    ["sprig.join(',', sprig.list('x', 'y'))", "x,y"],
    ["sprig.sortAlpha(['b', 'a'])", ["a", "b"]],
    ["sprig.toString(12)", "12"],
    ["sprig.toString('s')", "s"],
    ["sprig.toStrings([1, 2])", ["1", "2"]],
    // numbers
    ["sprig.int('42')", 42],
    ["sprig.int('nope')", 0],
    ["sprig.int(3.7)", 3],
    ["sprig.int64('0x10')", 16],
    ["sprig.float64('2.5')", 2.5],
    ["sprig.atoi('12')", 12],
    ["sprig.add(1, 2, '3')", 6],
    ["sprig.add1(1)", 2],
    ["sprig.sub(5, 7)", -2],
    ["sprig.mul(2, 3, 4)", 24],
    ["sprig.div(7, 2)", 3],
    ["sprig.div(-7, 2)", -3],
    ["sprig.mod(7, 3)", 1],
    ["sprig.max(1, 9, 3)", 9],
    ["sprig.min(4, 2, 3)", 2],
    ["sprig.addf(1.5, 1)", 2.5],
    ["sprig.subf(5, 1.5)", 3.5],
    ["sprig.mulf(1.5, 2)", 3],
    ["sprig.divf(5, 2)", 2.5],
    ["sprig.maxf(1.5, 2.5)", 2.5],
    ["sprig.minf(1.5, 2.5)", 1.5],
    ["sprig.floor(1.7)", 1],
    ["sprig.ceil(1.2)", 2],
    ["sprig.round(1.2345, 2)", 1.23],
    ["sprig.seq(3)", "1 2 3"],
    ["sprig.seq(2, 4)", "2 3 4"],
    ["sprig.seq(5, 3)", "5 4 3"],
    ["sprig.seq(0, 2, 6)", "0 2 4 6"],
    ["sprig.until(3)", [0, 1, 2]],
    ["sprig.untilStep(0, 10, 4)", [0, 4, 8]],
    // defaults and flow
    ["sprig.default('d', '')", "d"],
    ["sprig.default('d', 'v')", "v"],
    ["sprig.default('d', nil)", "d"],
    ["sprig.default('d', 0)", "d"],
    ["sprig.default('d')", "d"],
    ["sprig.empty('')", true],
    ["sprig.empty([])", true],
    ["sprig.empty({})", true],
    ["sprig.empty(0)", true],
    ["sprig.empty('x')", false],
    ["sprig.coalesce('', nil, 'x', 'y')", "x"],
    ["sprig.ternary('yes', 'no', true)", "yes"],
    ["sprig.ternary('yes', 'no', 1 > 2)", "no"],
    ["sprig.all(1, 'a', true)", true],
    ["sprig.any(0, '', 'x')", true],
    // JSON and encodings
    ["sprig.toJson({b: 1, a: 'x'})", '{"a":"x","b":1}'],
    ["sprig.toPrettyJson({a: 1})", '{\n  "a": 1\n}'],
    ["sprig.toRawJson('<a>')", '"<a>"'],
    ["sprig.fromJson('{\"a\": 1}')", { a: 1 }],
    ["sprig.fromJson('{')", null],
    ["sprig.b64enc('hello')", "aGVsbG8="],
    ["sprig.b64dec('aGVsbG8=')", "hello"],
    ["sprig.sha256sum('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["sprig.sha1sum('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    // regular expressions
    ["sprig.regexMatch('^[a-z]+$', 'abc')", true],
    ["sprig.regexFind('[0-9]+', 'ab12cd34')", "12"],
    ["sprig.regexFindAll('[0-9]+', 'ab12cd34', -1)", ["12", "34"]],
    ["sprig.regexFindAll('[0-9]+', 'ab12cd34', 1)", ["12"]],
    ["sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"],
    ["sprig.regexReplaceAllLiteral('a(x*)b', '-ab-', '${1}')", "-${1}-"],
    ["sprig.regexSplit('z+', 'pizza', -1)", ["pi", "a"]],
    // lists
    ["sprig.list(1, 'a')", [1, "a"]],
    ["sprig.first([1, 2])", 1],
    ["sprig.last([1, 2])", 2],
    ["sprig.rest([1, 2, 3])", [2, 3]],
    ["sprig.initial([1, 2, 3])", [1, 2]],
    ["sprig.append([1], 2)", [1, 2]],
    ["sprig.prepend([1], 0)", [0, 1]],
    ["sprig.concat([1], [2], [3])", [1, 2, 3]],
    ["sprig.reverse([1, 2])", [2, 1]],
    ["sprig.uniq([1, 1, 2])", [1, 2]],
    ["sprig.without([1, 2, 3], 2)", [1, 3]],
    ["sprig.has(2, [1, 2])", true],
    ["sprig.compact([1, '', nil, 0, 'a'])", [1, "a"]],
    ["sprig.slice([1, 2, 3], 1)", [2, 3]],
    // dicts
    ["sprig.dict('a', 1, 'b', 2)", { a: 1, b: 2 }],
    ["sprig.get({a: 1}, 'a')", 1],
    ["sprig.get({a: 1}, 'b')", ""],
    ["sprig.set({a: 1}, 'b', 2)", { a: 1, b: 2 }],
    ["sprig.unset({a: 1, b: 2}, 'a')", { b: 2 }],
    ["sprig.hasKey({a: 1}, 'a')", true],
    ["sprig.keys({b: 1}, {a: 2})", ["a", "b"]],
    ["sprig.values({a: 1})", [1]],
    ["sprig.pluck('a', {a: 1}, {b: 2}, {a: 3})", [1, 3]],
    ["sprig.pick({a: 1, b: 2}, 'a')", { a: 1 }],
    ["sprig.omit({a: 1, b: 2}, 'a')", { b: 2 }],
    ["sprig.merge({a: 1}, {a: 2, b: 3})", { a: 1, b: 3 }],
    // paths
    ["sprig.base('/a/b/c.txt')", "c.txt"],
    ["sprig.dir('/a/b/c.txt')", "/a/b"],
    ["sprig.ext('c.tar.gz')", ".gz"],
    ["sprig.clean('a//b/../c/')", "a/c"],
    ["sprig.isAbs('/x')", true],
    // case
    ["sprig.camelcase('http_server')", "HttpServer"],
    ["sprig.snakecase('FirstName')", "first_name"],
    ["sprig.kebabcase('FirstName')", "first-name"],
    ["sprig.swapcase('aB')", "Ab"],
    ["sprig.initials('First Try')", "FT"],
    // more lists and numbers
    ["sprig.chunk(2, [1, 2, 3])", [[1, 2], [3]]],
    ["sprig.biggest(1, 7, 3)", 7],
    ["sprig.toDecimal('777')", 511],
    ["sprig.mustFirst([4])", 4],
    ["sprig.mustRegexMatch('^a', 'ab')", true],
    ["sprig.adler32sum('hello world')", "436929629"],
    ["sprig.regexQuoteMeta('1.2+')", "1\\.2\\+"],
    ["len(sprig.randAlphaNum(12))", 12],
    ["sprig.randNumeric(5) matches '^[0-9]{5}$'", true],
    ["len(sprig.shuffle('abc'))", 3],
    ["sprig.randInt(3, 4)", 3],
    // reflection
    ["sprig.kindOf('a')", "string"],
    ["sprig.kindOf([])", "slice"],
    ["sprig.kindIs('map', {})", true],
    ["sprig.typeOf(1.5)", "float64"],
    ["sprig.deepEqual([1], [1])", true],
  ])("%s", (src, want) => {
    expect(ev(src)).toEqual(want);
  });

  it("runs the sprig calls of Argo's docs and examples", () => {
    expect(ev("sprig.trim(inputs.parameters['my-string-param'])", { inputs: { parameters: { "my-string-param": " v " } } })).toBe("v");
    expect(ev("sprig.int(retries) + 1", { retries: "2" })).toBe(3);
    expect(ev("sprig.replace('-', '_', 'a-b')")).toBe("a_b");
  });

  it("does not expose env and expandenv, which Argo removes", () => {
    expect(() => ev("sprig.env('HOME')")).toThrow("unknown function sprig.env");
    expect(() => ev("sprig.expandenv('$HOME')")).toThrow("unknown function sprig.expandenv");
  });

  it("fails on wrongly typed arguments and arity, naming the function", () => {
    expect(() => ev("sprig.upper(1)")).toThrow("sprig.upper: argument 1 must be a string, got int 1");
    expect(() => ev("sprig.trim()")).toThrow("sprig.trim: expects 1 arguments, got 0");
    expect(() => ev("sprig.div(1, 0)")).toThrow("sprig.div: integer divide by zero");
    expect(() => ev("sprig.ternary(1, 2, 'x')")).toThrow("sprig.ternary: argument 3 must be a bool");
    expect(() => ev("sprig.mustFromJson('{')")).toThrow("sprig.mustFromJson");
    expect(() => ev("sprig.fail('boom')")).toThrow("boom");
    expect(() => ev("sprig.first(1)")).toThrow("sprig.first: cannot use int as a list");
  });
});
