/**
 * Go's `regexp` package as Argo uses it (`=~` in govaluate, `matches` in expr-lang, sprig's
 * `regexMatch`, `regexFind`, `regexFindAll`, `regexReplaceAll`, `regexReplaceAllLiteral`,
 * `regexSplit`): RE2 syntax and linear-time matching, through the pure-JavaScript port of RE2.
 * JavaScript's backtracking `RegExp` is never used for a pattern that comes from a manifest: a
 * pattern such as `^([a-z]+)*$` would block the engine for minutes.
 */
import { RE2JS } from "re2js";
import { EvaluationFailure } from "./values.ts";

/** A compiled Go regular expression with the operations of Go's `*regexp.Regexp` that Argo uses. */
export interface GoRegex {
  /** The pattern as written. */
  readonly pattern: string;
  /** Go `MatchString`: whether the pattern matches anywhere in `s`. */
  test(s: string): boolean;
  /** Go `FindString`: the leftmost match, or `""`. */
  find(s: string): string;
  /** Go `FindAllString(s, n)`: up to `n` successive matches (all when `n < 0`). */
  findAll(s: string, n: number): string[];
  /** Go `ReplaceAllString`: `$1`, `${1}`, `$name`, `${name}` and `$$` in `repl` are expanded. */
  replaceAll(s: string, repl: string): string;
  /** Go `ReplaceAllLiteralString`: `repl` is inserted as it is. */
  replaceAllLiteral(s: string, repl: string): string;
  /** Go `Split(s, n)`. */
  split(s: string, n: number): string[];
}

/** The RE2 program behind RE2JS (its `re2()` accessor), typed for the one call made on it. */
interface Re2Program {
  findAllSubmatchIndex(s: string, n: number): number[][] | null;
}

const cache = new Map<string, GoRegex>();
const CACHE_LIMIT = 1000;

/**
 * Compiles a pattern with Go's RE2 syntax (inline flags such as `(?i)`, `(?P<name>…)` groups;
 * no backreferences or lookaround, as in Go).
 *
 * @throws EvaluationFailure naming the pattern and Go's reason when the pattern is invalid.
 * @example
 * compileGoRegex("^([a-z]+)*$").test("a".repeat(40) + "!"); // false, in microseconds
 */
export function compileGoRegex(pattern: string): GoRegex {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (e) {
    throw new EvaluationFailure(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  const re = wrap(pattern, compiled);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, re);
  return re;
}

function wrap(pattern: string, compiled: RE2JS): GoRegex {
  const program = compiled.re2() as unknown as Re2Program;
  const names = compiled.namedGroups();
  const all = (s: string, n: number): number[][] => (n === 0 ? [] : (program.findAllSubmatchIndex(s, n) ?? []));
  const replace = (s: string, insert: (m: number[]) => string): string => {
    let out = "";
    let last = 0;
    for (const m of all(s, -1)) {
      out += s.slice(last, m[0]) + insert(m);
      last = m[1]!;
    }
    return out + s.slice(last);
  };
  return {
    pattern,
    test: (s) => compiled.test(s),
    find: (s) => {
      const m = all(s, 1)[0];
      return m === undefined ? "" : s.slice(m[0], m[1]);
    },
    findAll: (s, n) => all(s, n).map((m) => s.slice(m[0], m[1])),
    replaceAll: (s, repl) => replace(s, (m) => expand(repl, s, m, names)),
    replaceAllLiteral: (s, repl) => replace(s, () => repl),
    split: (s, n) => split(pattern, s, n, all),
  };
}

/** Go `(*Regexp).Split`. */
function split(pattern: string, s: string, n: number, all: (s: string, n: number) => number[][]): string[] {
  if (n === 0) return [];
  if (pattern.length > 0 && s.length === 0) return [""];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of all(s, n)) {
    if (n > 0 && out.length === n - 1) break;
    end = m[0]!;
    if (m[1] !== 0) out.push(s.slice(beg, end));
    beg = m[1]!;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** Go `(*Regexp).Expand` for one match `m` (pairs of indices, -1 for a group that did not take part). */
function expand(template: string, src: string, m: readonly number[], names: Readonly<Record<string, number>>): string {
  let out = "";
  let rest = template;
  for (;;) {
    const at = rest.indexOf("$");
    if (at < 0) break;
    out += rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (rest.startsWith("$")) {
      out += "$";
      rest = rest.slice(1);
      continue;
    }
    const ref = extractName(rest);
    if (ref === undefined) {
      out += "$"; // malformed: the `$` is kept as text
      continue;
    }
    rest = rest.slice(ref.length);
    const group = ref.num >= 0 ? ref.num : names[ref.name];
    if (group !== undefined && 2 * group + 1 < m.length && m[2 * group]! >= 0) out += src.slice(m[2 * group], m[2 * group + 1]);
  }
  return out + rest;
}

/** Go's `extract`: a leading `name` or `{name}` (letters, digits, `_`); `num` is -1 unless it is a group number. */
function extractName(s: string): { name: string; num: number; length: number } | undefined {
  const brace = s.startsWith("{");
  const body = brace ? s.slice(1) : s;
  const name = /^[\p{L}\p{Nd}_]*/u.exec(body)![0];
  if (name === "") return undefined;
  if (brace && body[name.length] !== "}") return undefined;
  let num = /^[0-9]+$/.test(name) && !(name.length > 1 && name.startsWith("0")) ? Number(name) : -1;
  if (num >= 1e8) num = -1;
  return { name, num, length: name.length + (brace ? 2 : 0) };
}
