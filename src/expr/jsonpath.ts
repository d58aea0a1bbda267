/**
 * The JSONPath subset behind Argo's `jsonpath(json, path)` expression function (upstream uses
 * github.com/evilmonkeyinc/jsonpath): `$`, `.name`, `['name']`, `["name"]`, `[n]` (negative
 * from the end), `[*]`, `.*`, `..name` (recursive descent), unions `[a,b]`, slices
 * `[start:end:step]` and simple filters `[?(@.x == 1)]`, `[?(@.x)]`.
 *
 * A definite path (names and single indexes only) returns the value itself; any other path
 * returns the list of matches.
 */
import { EvaluationFailure, equal, isMap, isNil } from "./values.ts";

type Segment =
  | { readonly kind: "key"; readonly key: string }
  | { readonly kind: "index"; readonly index: number }
  | { readonly kind: "wildcard" }
  | { readonly kind: "union"; readonly items: readonly (string | number)[] }
  | { readonly kind: "slice"; readonly start?: number; readonly end?: number; readonly step?: number }
  | { readonly kind: "filter"; readonly test: Filter }
  | { readonly kind: "descend"; readonly then: Segment };

type Filter =
  | { readonly kind: "exists"; readonly path: readonly string[] }
  | { readonly kind: "compare"; readonly path: readonly string[]; readonly op: string; readonly value: unknown }
  | { readonly kind: "and" | "or"; readonly left: Filter; readonly right: Filter };

function fail(path: string, message: string): never {
  throw new EvaluationFailure(`jsonpath ${JSON.stringify(path)}: ${message}`);
}

class PathParser {
  i = 0;
  constructor(readonly path: string) {}

  parse(): Segment[] {
    const p = this.path.trim();
    if (p[0] !== "$") fail(this.path, "a path must start with $");
    this.i = 1;
    const segments: Segment[] = [];
    while (this.i < p.length) {
      const c = p[this.i];
      if (c === "." && p[this.i + 1] === ".") {
        this.i += 2;
        let then: Segment;
        if (p[this.i] === "[") then = this.bracket(p);
        else if (p[this.i] === "*") {
          this.i++;
          then = { kind: "wildcard" };
        } else then = { kind: "key", key: this.name(p) };
        segments.push({ kind: "descend", then });
      } else if (c === ".") {
        this.i++;
        if (p[this.i] === "*") {
          this.i++;
          segments.push({ kind: "wildcard" });
        } else if (p[this.i] === "[") {
          segments.push(this.bracket(p));
        } else segments.push({ kind: "key", key: this.name(p) });
      } else if (c === "[") {
        segments.push(this.bracket(p));
      } else {
        fail(this.path, `unexpected ${JSON.stringify(c)} at ${this.i}`);
      }
    }
    return segments;
  }

  private name(p: string): string {
    const start = this.i;
    while (this.i < p.length && !".[".includes(p[this.i]!)) this.i++;
    const name = p.slice(start, this.i).trim();
    if (name === "") fail(this.path, `expected a name at ${start}`);
    return name;
  }

  private bracket(p: string): Segment {
    const open = this.i;
    const close = this.findClose(p, open);
    const body = p.slice(open + 1, close).trim();
    this.i = close + 1;
    if (body === "*") return { kind: "wildcard" };
    if (body.startsWith("?")) {
      const inner = body.slice(1).trim();
      if (!inner.startsWith("(") || !inner.endsWith(")")) fail(this.path, "a filter must be written [?(…)]");
      return { kind: "filter", test: this.filter(inner.slice(1, -1).trim()) };
    }
    const items = splitTopLevel(body, ",").map((s) => s.trim());
    if (items.length === 1 && /^-?\d*\s*:\s*-?\d*(\s*:\s*-?\d*)?$/.test(items[0]!)) {
      const [a, b, c] = items[0]!.split(":").map((s) => s.trim());
      const num = (s: string | undefined): number | undefined => (s === undefined || s === "" ? undefined : Number(s));
      return { kind: "slice", start: num(a), end: num(b), step: num(c) };
    }
    const parsed = items.map((item) => this.item(item));
    if (parsed.length === 1) {
      const only = parsed[0]!;
      return typeof only === "number" ? { kind: "index", index: only } : { kind: "key", key: only };
    }
    return { kind: "union", items: parsed };
  }

  private item(item: string): string | number {
    if (/^-?\d+$/.test(item)) return Number(item);
    const q = item[0];
    if ((q === "'" || q === '"') && item.endsWith(q) && item.length >= 2) return item.slice(1, -1).replace(/\\(.)/g, "$1");
    return fail(this.path, `invalid subscript ${JSON.stringify(item)}`);
  }

  private findClose(p: string, open: number): number {
    let depth = 0;
    let quote: string | undefined;
    for (let j = open; j < p.length; j++) {
      const c = p[j]!;
      if (quote !== undefined) {
        if (c === "\\") j++;
        else if (c === quote) quote = undefined;
        continue;
      }
      if (c === "'" || c === '"') quote = c;
      else if (c === "[" || c === "(") depth++;
      else if (c === "]" || c === ")") {
        depth--;
        if (depth === 0) {
          if (c !== "]") fail(this.path, `unbalanced brackets at ${j}`);
          return j;
        }
      }
    }
    return fail(this.path, `unterminated [ at ${open}`);
  }

  private filter(src: string): Filter {
    const or = splitTopLevel(src, "||");
    if (or.length > 1) return or.map((s) => this.filter(s.trim())).reduce((left, right) => ({ kind: "or", left, right }));
    const and = splitTopLevel(src, "&&");
    if (and.length > 1) return and.map((s) => this.filter(s.trim())).reduce((left, right) => ({ kind: "and", left, right }));
    if (src.startsWith("(") && src.endsWith(")")) return this.filter(src.slice(1, -1).trim());
    const m = /^@((?:\.[A-Za-z0-9_-]+|\[(?:'[^']*'|"[^"]*"|\d+)\])*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+))?$/.exec(src);
    if (m === null) return fail(this.path, `unsupported filter ${JSON.stringify(src)}`);
    const path = [...(m[1] ?? "").matchAll(/\.([A-Za-z0-9_-]+)|\['([^']*)'\]|\["([^"]*)"\]|\[(\d+)\]/g)].map((x) => x[1] ?? x[2] ?? x[3] ?? x[4] ?? "");
    if (m[2] === undefined) return { kind: "exists", path };
    const raw = m[3]!.trim();
    let value: unknown;
    if ((raw.startsWith("'") && raw.endsWith("'")) || (raw.startsWith('"') && raw.endsWith('"'))) value = raw.slice(1, -1);
    else if (raw === "true" || raw === "false") value = raw === "true";
    else if (raw === "null") value = null;
    else if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) value = Number(raw);
    else return fail(this.path, `unsupported filter value ${JSON.stringify(raw)}`);
    return { kind: "compare", path, op: m[2], value };
  }
}

function splitTopLevel(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let j = 0; j < s.length; j++) {
    const c = s[j]!;
    if (quote !== undefined) {
      if (c === "\\") j++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (depth === 0 && s.startsWith(sep, j)) {
      parts.push(s.slice(start, j));
      j += sep.length - 1;
      start = j + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return [...v];
  if (isMap(v)) return Object.keys(v).sort().map((k) => v[k]);
  return [];
}

function lookup(v: unknown, path: readonly string[]): { found: boolean; value: unknown } {
  let cur = v;
  for (const k of path) {
    if (isMap(cur) && Object.hasOwn(cur, k)) cur = cur[k];
    else if (Array.isArray(cur) && /^\d+$/.test(k) && Number(k) < cur.length) cur = cur[Number(k)];
    else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

function test(filter: Filter, v: unknown): boolean {
  switch (filter.kind) {
    case "and":
      return test(filter.left, v) && test(filter.right, v);
    case "or":
      return test(filter.left, v) || test(filter.right, v);
    case "exists":
      return lookup(v, filter.path).found;
    case "compare": {
      const { found, value } = lookup(v, filter.path);
      if (!found) return false;
      const want = filter.value;
      switch (filter.op) {
        case "==":
          return equal(value, want);
        case "!=":
          return !equal(value, want);
      }
      if (!((typeof value === "number" && typeof want === "number") || (typeof value === "string" && typeof want === "string"))) return false;
      switch (filter.op) {
        case "<":
          return value < want;
        case "<=":
          return value <= want;
        case ">":
          return value > want;
        default:
          return value >= want;
      }
    }
  }
}

function descendants(v: unknown, out: unknown[]): void {
  out.push(v);
  for (const c of children(v)) descendants(c, out);
}

function apply(path: string, seg: Segment, nodes: readonly unknown[], definite: boolean): unknown[] {
  const out: unknown[] = [];
  for (const v of nodes) {
    switch (seg.kind) {
      case "key":
        if (isMap(v) && Object.hasOwn(v, seg.key)) out.push(v[seg.key]);
        else if (definite) fail(path, isMap(v) ? `key ${JSON.stringify(seg.key)} not found` : `cannot get key ${JSON.stringify(seg.key)} of a non-object`);
        break;
      case "index": {
        if (!Array.isArray(v)) {
          if (definite) fail(path, `cannot index a non-array with [${seg.index}]`);
          break;
        }
        const i = seg.index < 0 ? v.length + seg.index : seg.index;
        if (i >= 0 && i < v.length) out.push(v[i]);
        else if (definite) fail(path, `index [${seg.index}] out of range (length ${v.length})`);
        break;
      }
      case "wildcard":
        out.push(...children(v));
        break;
      case "union":
        for (const item of seg.items) {
          if (typeof item === "number" && Array.isArray(v)) {
            const i = item < 0 ? v.length + item : item;
            if (i >= 0 && i < v.length) out.push(v[i]);
          } else if (typeof item === "string" && isMap(v) && Object.hasOwn(v, item)) out.push(v[item]);
        }
        break;
      case "slice": {
        if (!Array.isArray(v)) break;
        const n = v.length;
        const step = seg.step ?? 1;
        if (step === 0) fail(path, "slice step cannot be 0");
        const norm = (x: number): number => (x < 0 ? Math.max(0, n + x) : Math.min(n, x));
        if (step > 0) {
          for (let i = norm(seg.start ?? 0); i < norm(seg.end ?? n); i += step) out.push(v[i]);
        } else {
          const start = seg.start === undefined ? n - 1 : Math.min(n - 1, seg.start < 0 ? n + seg.start : seg.start);
          const end = seg.end === undefined ? -1 : seg.end < 0 ? n + seg.end : seg.end;
          for (let i = start; i > end; i += step) out.push(v[i]);
        }
        break;
      }
      case "filter":
        for (const c of children(v)) if (test(seg.test, c)) out.push(c);
        break;
      case "descend": {
        const all: unknown[] = [];
        descendants(v, all);
        out.push(...apply(path, seg.then, all, false));
        break;
      }
    }
  }
  return out;
}

const cache = new Map<string, Segment[]>();

/**
 * Evaluates a JSONPath over an already parsed JSON document.
 *
 * @throws EvaluationFailure (turned into an ExpressionError by the evaluator) on a syntax error,
 *   or when a definite path does not exist.
 * @example
 * queryJsonPath([{ value: "true" }], "$[0].value"); // "true"
 * queryJsonPath({ a: [{ b: 1 }, { b: 2 }] }, "$.a[*].b"); // [1, 2]
 */
export function queryJsonPath(doc: unknown, path: string): unknown {
  let segments = cache.get(path);
  if (segments === undefined) {
    segments = new PathParser(path).parse();
    if (cache.size > 1000) cache.clear();
    cache.set(path, segments);
  }
  const definite = segments.every((s) => s.kind === "key" || s.kind === "index");
  let nodes: unknown[] = [doc];
  for (const seg of segments) {
    nodes = apply(path, seg, nodes, definite);
  }
  if (definite) return nodes[0];
  return nodes.filter((n) => !isNil(n) || n === null);
}
