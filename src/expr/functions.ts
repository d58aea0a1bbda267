/**
 * expr-lang's builtin functions (those without a predicate argument) and the functions Argo adds
 * to every expression environment (`asInt`, `asFloat`, `jsonpath`, `toJson`, `sprig`), as in
 * upstream util/expr/env/env.go.
 */
import { queryJsonPath } from "./jsonpath.ts";
import { SPRIG } from "./sprig.ts";
import {
  EvaluationFailure,
  type ExprFunction,
  type ExprMap,
  describe,
  equal,
  formatGoValue,
  goJson,
  isMap,
  isNil,
  parseJson,
  typeName,
} from "./values.ts";

function fail(message: string): never {
  throw new EvaluationFailure(message);
}

/** Requires exactly / at least some arguments. */
export function arity(fn: string, args: readonly unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    fail(`${fn}: expects ${want} argument${min === 1 && max === 1 ? "" : "s"}, got ${args.length}`);
  }
}

export function argString(fn: string, args: readonly unknown[], i: number): string {
  const v = args[i];
  if (typeof v !== "string") fail(`${fn}: argument ${i + 1} must be a string, got ${typeName(v)} ${describe(v)}`);
  return v;
}

export function argNumber(fn: string, args: readonly unknown[], i: number): number {
  const v = args[i];
  if (typeof v !== "number") fail(`${fn}: argument ${i + 1} must be a number, got ${typeName(v)} ${describe(v)}`);
  return v;
}

export function argInt(fn: string, args: readonly unknown[], i: number): number {
  const v = args[i];
  if (typeof v !== "number" || !Number.isInteger(v)) fail(`${fn}: argument ${i + 1} must be an int, got ${typeName(v)} ${describe(v)}`);
  return v;
}

export function argArray(fn: string, args: readonly unknown[], i: number): readonly unknown[] {
  const v = args[i];
  if (!Array.isArray(v)) fail(`${fn}: argument ${i + 1} must be an array, got ${typeName(v)} ${describe(v)}`);
  return v;
}

export function argMap(fn: string, args: readonly unknown[], i: number): ExprMap {
  const v = args[i];
  if (!isMap(v)) fail(`${fn}: argument ${i + 1} must be a map, got ${typeName(v)} ${describe(v)}`);
  return v;
}

const GO_INT = /^[+-]?\d+$/;
const GO_FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** expr-lang `int(v)` (Argo's `asInt`): ints as they are, floats truncated, strings by `strconv.Atoi`. */
export function toIntStrict(fn: string, v: unknown): number {
  if (typeof v === "number") return Math.trunc(v);
  if (typeof v === "string") {
    if (!GO_INT.test(v)) fail(`${fn}: invalid operation: int(${v})`);
    return Number(v);
  }
  if (typeof v === "boolean") fail(`${fn}: invalid operation: int(bool)`);
  return fail(`${fn}: invalid operation: int(${typeName(v)})`);
}

/** expr-lang `float(v)` (Argo's `asFloat`): numbers as they are, strings by `strconv.ParseFloat`. */
export function toFloatStrict(fn: string, v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const t = v.toLowerCase();
    if (t === "inf" || t === "+inf" || t === "infinity" || t === "+infinity") return Infinity;
    if (t === "-inf" || t === "-infinity") return -Infinity;
    if (t === "nan") return NaN;
    if (!GO_FLOAT.test(v.replace(/_/g, ""))) fail(`${fn}: invalid operation: float(${v})`);
    return Number(v.replace(/_/g, ""));
  }
  return fail(`${fn}: invalid operation: float(${typeName(v)})`);
}

function len(v: unknown): number {
  // Go's len of a string counts UTF-8 bytes.
  if (typeof v === "string") return Buffer.byteLength(v, "utf8");
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  return fail(`len: invalid argument for len (type ${typeName(v)})`);
}

function minMax(fn: "max" | "min", args: readonly unknown[]): unknown {
  const values = args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly unknown[]) : args;
  if (values.length === 0) fail(`${fn}: not enough arguments to call ${fn}`);
  let best: number | undefined;
  for (const v of values) {
    if (typeof v !== "number") fail(`${fn}: invalid argument for ${fn} (type ${typeName(v)})`);
    if (best === undefined || (fn === "max" ? v > best : v < best)) best = v;
  }
  return best;
}

function trimChars(s: string, chars: string, left: boolean, right: boolean): string {
  let a = 0;
  let b = s.length;
  while (left && a < b && chars.includes(s[a]!)) a++;
  while (right && b > a && chars.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** Go's `strings.TrimSpace` whitespace set. */
export const GO_SPACE = " \t\n\r\v\f\u0085\u00a0";

function goSplit(s: string, sep: string, n = -1, after = false): string[] {
  if (n === 0) return [];
  let parts: string[];
  if (sep === "") parts = [...s];
  else {
    parts = [];
    let rest = s;
    for (;;) {
      if (n > 0 && parts.length === n - 1) break;
      const i = rest.indexOf(sep);
      if (i < 0) break;
      parts.push(rest.slice(0, after ? i + sep.length : i));
      rest = rest.slice(i + sep.length);
    }
    parts.push(rest);
    return parts;
  }
  if (n > 0 && parts.length > n) parts = [...parts.slice(0, n - 1), parts.slice(n - 1).join("")];
  return parts;
}

function sortValues(fn: string, arr: readonly unknown[], order: unknown): unknown[] {
  if (order !== undefined && order !== "asc" && order !== "desc") fail(`${fn}: unknown order ${describe(order)}, use "asc" or "desc"`);
  const out = [...arr];
  const allNumbers = out.every((v) => typeof v === "number");
  const allStrings = out.every((v) => typeof v === "string");
  if (!allNumbers && !allStrings) fail(`${fn}: can only sort an array of numbers or of strings`);
  out.sort((a, b) => ((a as number | string) < (b as number | string) ? -1 : (a as number | string) > (b as number | string) ? 1 : 0));
  if (order === "desc") out.reverse();
  return out;
}

function flatten(arr: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of arr) {
    if (Array.isArray(v)) out.push(...flatten(v));
    else out.push(v);
  }
  return out;
}

function base64Decode(fn: string, s: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) fail(`${fn}: illegal base64 data ${describe(s)}`);
  return Buffer.from(s, "base64").toString("utf8");
}

function fetchKey(container: unknown, key: unknown): unknown {
  if (isMap(container)) return typeof key === "string" && Object.hasOwn(container, key) ? container[key] : undefined;
  if (Array.isArray(container) && typeof key === "number" && Number.isInteger(key)) {
    const i = key < 0 ? container.length + key : key;
    return container[i];
  }
  return undefined;
}

const f = (fn: ExprFunction): ExprFunction => fn;

/**
 * expr-lang builtins that take plain values (predicate builtins such as `filter` are evaluated
 * by the evaluator itself). Names as in https://expr-lang.org/docs/language-definition.
 */
export const BUILTINS: ReadonlyMap<string, ExprFunction> = new Map<string, ExprFunction>([
  ["len", f((...a) => (arity("len", a, 1), len(a[0])))],
  ["abs", f((...a) => (arity("abs", a, 1), Math.abs(argNumber("abs", a, 0))))],
  ["ceil", f((...a) => (arity("ceil", a, 1), Math.ceil(argNumber("ceil", a, 0))))],
  ["floor", f((...a) => (arity("floor", a, 1), Math.floor(argNumber("floor", a, 0))))],
  ["round", f((...a) => {
    arity("round", a, 1);
    const v = argNumber("round", a, 0);
    return Math.sign(v) * Math.round(Math.abs(v)); // Go rounds half away from zero
  })],
  ["int", f((...a) => (arity("int", a, 1), toIntStrict("int", a[0])))],
  ["float", f((...a) => (arity("float", a, 1), toFloatStrict("float", a[0])))],
  ["string", f((...a) => (arity("string", a, 1), formatGoValue(a[0])))],
  ["upper", f((...a) => (arity("upper", a, 1), argString("upper", a, 0).toUpperCase()))],
  ["lower", f((...a) => (arity("lower", a, 1), argString("lower", a, 0).toLowerCase()))],
  ["trim", f((...a) => {
    arity("trim", a, 1, 2);
    const s = argString("trim", a, 0);
    return trimChars(s, a.length > 1 ? argString("trim", a, 1) : GO_SPACE, true, true);
  })],
  ["trimPrefix", f((...a) => {
    arity("trimPrefix", a, 1, 2);
    const s = argString("trimPrefix", a, 0);
    const p = a.length > 1 ? argString("trimPrefix", a, 1) : " ";
    return p !== "" && s.startsWith(p) ? s.slice(p.length) : s;
  })],
  ["trimSuffix", f((...a) => {
    arity("trimSuffix", a, 1, 2);
    const s = argString("trimSuffix", a, 0);
    const p = a.length > 1 ? argString("trimSuffix", a, 1) : " ";
    return p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  })],
  ["split", f((...a) => (arity("split", a, 2, 3), goSplit(argString("split", a, 0), argString("split", a, 1), a.length > 2 ? argInt("split", a, 2) : -1)))],
  ["splitAfter", f((...a) => (arity("splitAfter", a, 2, 3), goSplit(argString("splitAfter", a, 0), argString("splitAfter", a, 1), a.length > 2 ? argInt("splitAfter", a, 2) : -1, true)))],
  ["replace", f((...a) => (arity("replace", a, 3), argString("replace", a, 0).split(argString("replace", a, 1)).join(argString("replace", a, 2))))],
  ["repeat", f((...a) => {
    arity("repeat", a, 2);
    const n = argInt("repeat", a, 1);
    if (n < 0) fail("repeat: negative repeat count");
    return argString("repeat", a, 0).repeat(n);
  })],
  ["indexOf", f((...a) => {
    arity("indexOf", a, 2);
    const s = argString("indexOf", a, 0);
    const i = s.indexOf(argString("indexOf", a, 1));
    return i < 0 ? -1 : [...s.slice(0, i)].length;
  })],
  ["lastIndexOf", f((...a) => {
    arity("lastIndexOf", a, 2);
    const s = argString("lastIndexOf", a, 0);
    const i = s.lastIndexOf(argString("lastIndexOf", a, 1));
    return i < 0 ? -1 : [...s.slice(0, i)].length;
  })],
  ["hasPrefix", f((...a) => (arity("hasPrefix", a, 2), argString("hasPrefix", a, 0).startsWith(argString("hasPrefix", a, 1))))],
  ["hasSuffix", f((...a) => (arity("hasSuffix", a, 2), argString("hasSuffix", a, 0).endsWith(argString("hasSuffix", a, 1))))],
  ["join", f((...a) => {
    arity("join", a, 1, 2);
    const arr = argArray("join", a, 0);
    const sep = a.length > 1 ? argString("join", a, 1) : "";
    return arr.map((v, i) => (typeof v === "string" ? v : fail(`join: element ${i} must be a string, got ${typeName(v)}`))).join(sep);
  })],
  ["keys", f((...a) => (arity("keys", a, 1), Object.keys(argMap("keys", a, 0)).sort()))],
  ["values", f((...a) => {
    arity("values", a, 1);
    const m = argMap("values", a, 0);
    return Object.keys(m).sort().map((k) => m[k]);
  })],
  ["toJSON", f((...a) => (arity("toJSON", a, 1), goJson(a[0], "  ")))],
  ["fromJSON", f((...a) => (arity("fromJSON", a, 1), parseJson(argString("fromJSON", a, 0), "fromJSON")))],
  ["toBase64", f((...a) => (arity("toBase64", a, 1), Buffer.from(argString("toBase64", a, 0), "utf8").toString("base64")))],
  ["fromBase64", f((...a) => (arity("fromBase64", a, 1), base64Decode("fromBase64", argString("fromBase64", a, 0))))],
  ["max", f((...a) => minMax("max", a))],
  ["min", f((...a) => minMax("min", a))],
  ["first", f((...a) => {
    arity("first", a, 1);
    const v = a[0];
    if (isNil(v)) return undefined;
    if (Array.isArray(v)) return v[0];
    if (typeof v === "string") return [...v][0];
    return fail(`first: cannot get first element from ${typeName(v)}`);
  })],
  ["last", f((...a) => {
    arity("last", a, 1);
    const v = a[0];
    if (isNil(v)) return undefined;
    if (Array.isArray(v)) return v[v.length - 1];
    if (typeof v === "string") return [...v].at(-1);
    return fail(`last: cannot get last element from ${typeName(v)}`);
  })],
  ["take", f((...a) => (arity("take", a, 2), argArray("take", a, 0).slice(0, Math.max(0, argInt("take", a, 1)))))],
  ["type", f((...a) => (arity("type", a, 1), typeName(a[0])))],
  ["toPairs", f((...a) => {
    arity("toPairs", a, 1);
    const m = argMap("toPairs", a, 0);
    return Object.keys(m).sort().map((k) => [k, m[k]]);
  })],
  ["fromPairs", f((...a) => {
    arity("fromPairs", a, 1);
    const out: Record<string, unknown> = {};
    for (const p of argArray("fromPairs", a, 0)) {
      if (!Array.isArray(p) || p.length !== 2) fail(`fromPairs: each element must be a [key, value] pair, got ${describe(p)}`);
      out[typeof p[0] === "string" ? p[0] : formatGoValue(p[0])] = p[1];
    }
    return out;
  })],
  ["sort", f((...a) => (arity("sort", a, 1, 2), sortValues("sort", argArray("sort", a, 0), a[1])))],
  ["reverse", f((...a) => (arity("reverse", a, 1), [...argArray("reverse", a, 0)].reverse()))],
  ["uniq", f((...a) => {
    arity("uniq", a, 1);
    const out: unknown[] = [];
    for (const v of argArray("uniq", a, 0)) if (!out.some((o) => equal(o, v))) out.push(v);
    return out;
  })],
  ["concat", f((...a) => {
    arity("concat", a, 1, Infinity);
    return a.flatMap((_, i) => argArray("concat", a, i));
  })],
  ["flatten", f((...a) => (arity("flatten", a, 1), flatten(argArray("flatten", a, 0))))],
  ["get", f((...a) => (arity("get", a, 2), fetchKey(a[0], a[1])))],
  ["bitand", f((...a) => (arity("bitand", a, 2), Number(BigInt(argInt("bitand", a, 0)) & BigInt(argInt("bitand", a, 1)))))],
  ["bitor", f((...a) => (arity("bitor", a, 2), Number(BigInt(argInt("bitor", a, 0)) | BigInt(argInt("bitor", a, 1)))))],
  ["bitxor", f((...a) => (arity("bitxor", a, 2), Number(BigInt(argInt("bitxor", a, 0)) ^ BigInt(argInt("bitxor", a, 1)))))],
  ["bitnot", f((...a) => (arity("bitnot", a, 1), Number(~BigInt(argInt("bitnot", a, 0)))))],
]);

/**
 * What Argo adds to every expression environment (util/expr/env/env.go): `asInt`, `asFloat`,
 * `jsonpath`, `toJson`, and `sprig` (sprig's generic functions minus `env`, `expandenv`).
 * `fromJson` is accepted as an alias of expr-lang's `fromJSON`.
 */
export const ARGO_GLOBALS: Readonly<Record<string, unknown>> = Object.freeze({
  asInt: f((...a) => (arity("asInt", a, 1), toIntStrict("asInt", a[0]))),
  asFloat: f((...a) => (arity("asFloat", a, 1), toFloatStrict("asFloat", a[0]))),
  jsonpath: f((...a) => {
    arity("jsonpath", a, 2);
    const doc = parseJson(argString("jsonpath", a, 0), "jsonpath");
    return queryJsonPath(doc, argString("jsonpath", a, 1));
  }),
  toJson: f((...a) => (arity("toJson", a, 1), goJson(a[0]))),
  fromJson: f((...a) => (arity("fromJson", a, 1), parseJson(argString("fromJson", a, 0), "fromJson"))),
  sprig: SPRIG,
});
