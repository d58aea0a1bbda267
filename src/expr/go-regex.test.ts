import { describe, expect, it } from "vitest";
import { evaluateExpression } from "./evaluate.ts";
import { compileGoRegex } from "./go-regex.ts";
import { evaluateWhen } from "./govaluate.ts";

const ev = (src: string): unknown => evaluateExpression(src, {});

/** Elapsed milliseconds of `f`. */
function timed(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

describe("Go regular expressions (RE2)", () => {
  // `^([a-z]+)*$` against "aaa…a!" backtracks exponentially in JavaScript's RegExp
  // (34 characters took 67 s); RE2 matches in linear time.
  const evil = "a".repeat(5000) + "!";

  it("matches catastrophic-backtracking patterns in linear time: =~ (when)", () => {
    const ms = timed(() => expect(evaluateWhen(`'${evil}' =~ '^([a-z]+)*$'`)).toBe(false));
    expect(ms).toBeLessThan(3000);
  });

  it("matches catastrophic-backtracking patterns in linear time: matches and sprig", () => {
    const env = { s: evil };
    const ms = timed(() => {
      expect(evaluateExpression("s matches '^(a|aa)*$'", env)).toBe(false);
      expect(evaluateExpression("sprig.regexMatch('^(a+)+$', s)", env)).toBe(false);
      expect(evaluateExpression("sprig.regexFindAll('(a*)*b', s, -1)", env)).toEqual([]);
      expect(evaluateExpression("sprig.regexReplaceAll('(a|a)*!', s, 'x')", env)).toBe("x");
    });
    expect(ms).toBeLessThan(3000);
  });

  it.each<[string, unknown]>([
    // RE2 syntax JavaScript lacks or reads differently
    ["'abc' matches '^[[:alpha:]]+$'", true],
    ["'aB' matches 'a(?i)b'", true],
    ["'αβγ' matches '^\\\\pL+$'", true],
    ["'٣' matches '^\\\\d$'", false],
    ["'a\\nb' matches 'a.b'", false],
    ["'a\\nb' matches '(?s)a.b'", true],
    ["'x' matches '\\\\Ax\\\\z'", true],
    ["sprig.regexFind('(?U)a+', 'aaa')", "a"],
    ["sprig.regexFind('(?P<first>a)b', 'xab')", "ab"],
    // Go's ReplaceAllString: `$1W` names the group "1W" (empty), `${1}W` is group 1 then W
    ["sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '$1W')", "---"],
    ["sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"],
    ["sprig.regexReplaceAll('a(?P<x>x*)b', '-axb-', '[$x][$$][$]')", "-[x][$][$]-"],
    ["sprig.regexReplaceAll('a*', 'baaac', 'X')", "XbXcX"],
    ["sprig.regexReplaceAllLiteral('a(x*)b', '-ab-', '$1')", "-$1-"],
    // Go's Split(s, n)
    ["sprig.regexSplit('a*', 'abaabaccadaaae', 5)", ["", "b", "b", "c", "cadaaae"]],
    ["sprig.regexSplit('a', 'banana', -1)", ["b", "n", "n", ""]],
    ["sprig.regexSplit('a', 'banana', 0)", []],
    ["sprig.regexSplit('a', 'banana', 1)", ["banana"]],
    ["sprig.regexSplit('a', 'banana', 2)", ["b", "nana"]],
    ["sprig.regexSplit('z+', 'pizza', -1)", ["pi", "a"]],
    ["sprig.regexSplit('z+', '', -1)", [""]],
    // Go's FindAllString(s, n)
    ["sprig.regexFindAll('a.', 'paranormal', -1)", ["ar", "an", "al"]],
    ["sprig.regexFindAll('a.', 'paranormal', 2)", ["ar", "an"]],
    ["sprig.regexFindAll('a*', 'baaab', -1)", ["", "aaa", ""]],
    ["sprig.regexFindAll('.', '😀é', -1)", ["😀", "é"]],
  ])("%s", (src, want) => {
    expect(ev(src)).toEqual(want);
  });

  it("rejects what RE2 rejects, with Go's reason", () => {
    expect(() => ev("'a' matches '(?=a)'")).toThrow("invalid or unsupported Perl syntax: `(?=`");
    expect(() => ev("'aa' matches '(a)\\\\1'")).toThrow("invalid escape sequence");
    expect(() => ev("'a' matches '('")).toThrow("invalid regular expression \"(\"");
    expect(() => ev("sprig.regexMatch('a{2,1}', 'a')")).toThrow("sprig.regexMatch: invalid regular expression");
    expect(() => evaluateWhen("'a' =~ '(?<!a)b'")).toThrow("error parsing regexp");
  });

  it("caches compiled patterns", () => {
    expect(compileGoRegex("^x+$")).toBe(compileGoRegex("^x+$"));
  });
});
