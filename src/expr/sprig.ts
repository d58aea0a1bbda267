/**
 * The sprig functions Argo exposes to expressions as `sprig.<name>` (sprig's GenericFuncMap
 * minus `env` and `expandenv`, see upstream util/expr/env/env.go). Argument order is sprig's:
 * the subject comes last (`sprig.replace(old, new, s)`, `sprig.contains(sub, s)`). Like sprig,
 * conversions are lenient: `sprig.int("x")` is 0, not an error.
 */
import { createHash, randomInt, randomUUID } from "node:crypto";
import { posix } from "node:path";
import { compileGoRegex, type GoRegex } from "./go-regex.ts";
import { formatGoDuration, formatGoTime, parseGoDuration, parseGoTime } from "./go-time.ts";
import {
  EvaluationFailure,
  type ExprFunction,
  describe,
  equal,
  formatGoValue,
  goJson,
  isEmpty,
  isMap,
  isNil,
  typeName,
} from "./values.ts";

function fail(message: string): never {
  throw new EvaluationFailure(message);
}

function arity(fn: string, a: readonly unknown[], min: number, max = min): void {
  if (a.length < min || a.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    fail(`sprig.${fn}: expects ${want} arguments, got ${a.length}`);
  }
}

function str(fn: string, a: readonly unknown[], i: number): string {
  const v = a[i];
  if (typeof v !== "string") fail(`sprig.${fn}: argument ${i + 1} must be a string, got ${typeName(v)} ${describe(v)}`);
  return v;
}

function int(fn: string, a: readonly unknown[], i: number): number {
  const v = a[i];
  if (typeof v !== "number" || !Number.isInteger(v)) fail(`sprig.${fn}: argument ${i + 1} must be an int, got ${typeName(v)} ${describe(v)}`);
  return v;
}

/** sprig's `strval`: strings as they are, anything else as Go's `%v`. */
function strval(v: unknown): string {
  return typeof v === "string" ? v : formatGoValue(v);
}

/** sprig's `toInt64` (spf13/cast, lenient): failures give 0. */
function toInt64(v: unknown): number {
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const s = v.trim();
    if (/^[+-]?\d+$/.test(s)) return Number(s);
    if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return Number.parseInt(s, 16);
    if (/^[+-]?0[oO]?[0-7]+$/.test(s)) return Number.parseInt(s.replace(/0[oO]?/, ""), 8);
    if (/^[+-]?\d*\.\d+([eE][+-]?\d+)?$|^[+-]?\d+\.\d*([eE][+-]?\d+)?$/.test(s)) return Math.trunc(Number(s));
    return 0;
  }
  return 0;
}

/** sprig's `toFloat64` (lenient): failures give 0. */
function toFloat64(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const n = Number(v.trim());
    return v.trim() !== "" && Number.isFinite(n) ? n : 0;
  }
  return 0;
}

/** sprig's `strslice`: a list of strings from a list (nil elements dropped) or a single value. */
function strslice(v: unknown): string[] {
  if (isNil(v)) return [];
  if (Array.isArray(v)) return v.filter((e) => !isNil(e)).map(strval);
  return [strval(v)];
}

function list(fn: string, v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v;
  return fail(`sprig.${fn}: cannot use ${typeName(v)} as a list`);
}

function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function seq(a: readonly unknown[]): string {
  const nums = a.map(toInt64);
  let start = 1;
  let step = 1;
  let end: number;
  if (nums.length === 0) return "";
  if (nums.length === 1) end = nums[0]!;
  else if (nums.length === 2) {
    start = nums[0]!;
    end = nums[1]!;
    step = end < start ? -1 : 1;
  } else {
    start = nums[0]!;
    step = nums[1]!;
    end = nums[2]!;
  }
  if (nums.length === 1 && end < 1) {
    step = -1;
  }
  if (step === 0 || (step > 0 && start > end) || (step < 0 && start < end)) return "";
  const out: number[] = [];
  for (let i = start; step > 0 ? i <= end : i >= end; i += step) out.push(i);
  return out.join(" ");
}

function untilStep(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  if (step === 0) return out;
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  return out;
}

function regex(fn: string, src: string): GoRegex {
  try {
    return compileGoRegex(src);
  } catch (e) {
    return fail(`sprig.${fn}: ${(e as Error).message}`);
  }
}

function dictOf(fn: string, v: unknown): Readonly<Record<string, unknown>> {
  if (isMap(v)) return v;
  return fail(`sprig.${fn}: argument must be a dict, got ${typeName(v)}`);
}

function jsonOrEmpty(v: unknown, indent: string, escapeHtml: boolean): string {
  try {
    const s = goJson(v, indent);
    return escapeHtml ? s : s.replace(/\\u003c/g, "<").replace(/\\u003e/g, ">").replace(/\\u0026/g, "&");
  } catch {
    return "";
  }
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, pre: string, c: string) => pre + c.toUpperCase());
}

const fns: Record<string, ExprFunction> = {
  // strings
  trim: (...a) => (arity("trim", a, 1), str("trim", a, 0).replace(/^[\s\u0085]+|[\s\u0085]+$/g, "")),
  trimAll: (...a) => {
    arity("trimAll", a, 2);
    const cut = str("trimAll", a, 0);
    let s = str("trimAll", a, 1);
    while (s.length > 0 && cut.includes(s[0]!)) s = s.slice(1);
    while (s.length > 0 && cut.includes(s[s.length - 1]!)) s = s.slice(0, -1);
    return s;
  },
  trimPrefix: (...a) => {
    arity("trimPrefix", a, 2);
    const p = str("trimPrefix", a, 0);
    const s = str("trimPrefix", a, 1);
    return p !== "" && s.startsWith(p) ? s.slice(p.length) : s;
  },
  trimSuffix: (...a) => {
    arity("trimSuffix", a, 2);
    const p = str("trimSuffix", a, 0);
    const s = str("trimSuffix", a, 1);
    return p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  },
  upper: (...a) => (arity("upper", a, 1), str("upper", a, 0).toUpperCase()),
  lower: (...a) => (arity("lower", a, 1), str("lower", a, 0).toLowerCase()),
  title: (...a) => (arity("title", a, 1), title(str("title", a, 0))),
  untitle: (...a) => (arity("untitle", a, 1), str("untitle", a, 0).replace(/(^|\s)(\p{L})/gu, (_, p: string, c: string) => p + c.toLowerCase())),
  repeat: (...a) => (arity("repeat", a, 2), str("repeat", a, 1).repeat(Math.max(0, int("repeat", a, 0)))),
  substr: (...a) => {
    arity("substr", a, 3);
    const start = int("substr", a, 0);
    const end = int("substr", a, 1);
    const s = str("substr", a, 2);
    if (start < 0) return s.slice(0, end);
    if (end < 0 || end > s.length) return s.slice(start);
    return s.slice(start, end);
  },
  trunc: (...a) => {
    arity("trunc", a, 2);
    const c = int("trunc", a, 0);
    const s = str("trunc", a, 1);
    if (c >= 0 && s.length > c) return s.slice(0, c);
    if (c < 0 && s.length > -c) return s.slice(s.length + c);
    return s;
  },
  abbrev: (...a) => {
    arity("abbrev", a, 2);
    const w = int("abbrev", a, 0);
    const s = str("abbrev", a, 1);
    if (w < 4 || s.length <= w) return s;
    return s.slice(0, w - 3) + "...";
  },
  nospace: (...a) => (arity("nospace", a, 1), str("nospace", a, 0).replace(/\s+/g, "")),
  contains: (...a) => (arity("contains", a, 2), str("contains", a, 1).includes(str("contains", a, 0))),
  hasPrefix: (...a) => (arity("hasPrefix", a, 2), str("hasPrefix", a, 1).startsWith(str("hasPrefix", a, 0))),
  hasSuffix: (...a) => (arity("hasSuffix", a, 2), str("hasSuffix", a, 1).endsWith(str("hasSuffix", a, 0))),
  quote: (...a) => a.filter((v) => !isNil(v)).map((v) => goQuote(strval(v))).join(" "),
  squote: (...a) => a.filter((v) => !isNil(v)).map((v) => `'${strval(v)}'`).join(" "),
  cat: (...a) => a.filter((v) => !isNil(v)).map(strval).join(" "),
  replace: (...a) => (arity("replace", a, 3), str("replace", a, 2).split(str("replace", a, 0)).join(str("replace", a, 1))),
  plural: (...a) => (arity("plural", a, 3), int("plural", a, 2) === 1 ? str("plural", a, 0) : str("plural", a, 1)),
  indent: (...a) => {
    arity("indent", a, 2);
    const pad = " ".repeat(Math.max(0, int("indent", a, 0)));
    return pad + str("indent", a, 1).replace(/\n/g, "\n" + pad);
  },
  nindent: (...a) => {
    arity("nindent", a, 2);
    const pad = " ".repeat(Math.max(0, int("nindent", a, 0)));
    return "\n" + pad + str("nindent", a, 1).replace(/\n/g, "\n" + pad);
  },
  splitList: (...a) => (arity("splitList", a, 2), str("splitList", a, 1).split(str("splitList", a, 0))),
  split: (...a) => {
    arity("split", a, 2);
    const parts = str("split", a, 1).split(str("split", a, 0));
    return Object.fromEntries(parts.map((p, i) => [`_${i}`, p]));
  },
  splitn: (...a) => {
    arity("splitn", a, 3);
    const sep = str("splitn", a, 0);
    const n = int("splitn", a, 1);
    const parts = str("splitn", a, 2).split(sep);
    const kept = n > 0 && parts.length > n ? [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)] : parts;
    return Object.fromEntries(kept.map((p, i) => [`_${i}`, p]));
  },
  join: (...a) => (arity("join", a, 2), strslice(a[1]).join(str("join", a, 0))),
  sortAlpha: (...a) => (arity("sortAlpha", a, 1), strslice(a[0]).sort()),
  toString: (...a: readonly unknown[]) => (arity("toString", a, 1), strval(a[0])),
  toStrings: (...a) => (arity("toStrings", a, 1), strslice(a[0])),
  // numbers
  int: (...a) => (arity("int", a, 1), toInt64(a[0])),
  int64: (...a) => (arity("int64", a, 1), toInt64(a[0])),
  float64: (...a) => (arity("float64", a, 1), toFloat64(a[0])),
  atoi: (...a) => (arity("atoi", a, 1), /^[+-]?\d+$/.test(str("atoi", a, 0)) ? Number(a[0]) : 0),
  add: (...a) => a.reduce<number>((s, v) => s + toInt64(v), 0),
  add1: (...a) => (arity("add1", a, 1), toInt64(a[0]) + 1),
  sub: (...a) => (arity("sub", a, 2), toInt64(a[0]) - toInt64(a[1])),
  mul: (...a) => (arity("mul", a, 1, Infinity), a.reduce<number>((s, v) => s * toInt64(v), 1)),
  div: (...a) => {
    arity("div", a, 2);
    const d = toInt64(a[1]);
    if (d === 0) fail("sprig.div: integer divide by zero");
    return Math.trunc(toInt64(a[0]) / d);
  },
  mod: (...a) => {
    arity("mod", a, 2);
    const d = toInt64(a[1]);
    if (d === 0) fail("sprig.mod: integer divide by zero");
    return toInt64(a[0]) % d;
  },
  max: (...a) => (arity("max", a, 1, Infinity), Math.max(...a.map(toInt64))),
  min: (...a) => (arity("min", a, 1, Infinity), Math.min(...a.map(toInt64))),
  addf: (...a) => a.reduce<number>((s, v) => s + toFloat64(v), 0),
  add1f: (...a) => (arity("add1f", a, 1), toFloat64(a[0]) + 1),
  subf: (...a) => (arity("subf", a, 1, Infinity), a.slice(1).reduce<number>((s, v) => s - toFloat64(v), toFloat64(a[0]))),
  mulf: (...a) => (arity("mulf", a, 1, Infinity), a.reduce<number>((s, v) => s * toFloat64(v), 1)),
  divf: (...a) => (arity("divf", a, 1, Infinity), a.slice(1).reduce<number>((s, v) => s / toFloat64(v), toFloat64(a[0]))),
  maxf: (...a) => (arity("maxf", a, 1, Infinity), Math.max(...a.map(toFloat64))),
  minf: (...a) => (arity("minf", a, 1, Infinity), Math.min(...a.map(toFloat64))),
  floor: (...a) => (arity("floor", a, 1), Math.floor(toFloat64(a[0]))),
  ceil: (...a) => (arity("ceil", a, 1), Math.ceil(toFloat64(a[0]))),
  round: (...a) => {
    arity("round", a, 2, 3);
    const p = 10 ** toInt64(a[1]);
    const r = a.length > 2 ? toFloat64(a[2]) : 0.5;
    const v = toFloat64(a[0]) * p;
    const whole = Math.trunc(v);
    return (Math.abs(v - whole) >= r ? whole + Math.sign(v) : whole) / p;
  },
  seq: (...a) => seq(a),
  until: (...a) => (arity("until", a, 1), untilStep(0, toInt64(a[0]), toInt64(a[0]) < 0 ? -1 : 1)),
  untilStep: (...a) => (arity("untilStep", a, 3), untilStep(toInt64(a[0]), toInt64(a[1]), toInt64(a[2]))),
  // defaults and flow
  default: (...a) => (arity("default", a, 1, 2), a.length < 2 || isEmpty(a[1]) ? a[0] : a[1]),
  empty: (...a) => (arity("empty", a, 1), isEmpty(a[0])),
  coalesce: (...a) => a.find((v) => !isEmpty(v)),
  all: (...a) => a.every((v) => !isEmpty(v)),
  any: (...a) => a.length === 0 || a.some((v) => !isEmpty(v)),
  ternary: (...a) => {
    arity("ternary", a, 3);
    if (typeof a[2] !== "boolean") fail(`sprig.ternary: argument 3 must be a bool, got ${typeName(a[2])}`);
    return a[2] ? a[0] : a[1];
  },
  fail: (...a) => fail(strval(a[0])),
  // JSON and encodings
  toJson: (...a) => (arity("toJson", a, 1), jsonOrEmpty(a[0], "", true)),
  toPrettyJson: (...a) => (arity("toPrettyJson", a, 1), jsonOrEmpty(a[0], "  ", true)),
  toRawJson: (...a) => (arity("toRawJson", a, 1), jsonOrEmpty(a[0], "", false)),
  mustToJson: (...a) => (arity("mustToJson", a, 1), goJson(a[0])),
  fromJson: (...a) => {
    arity("fromJson", a, 1);
    try {
      return JSON.parse(str("fromJson", a, 0)) as unknown;
    } catch {
      return undefined;
    }
  },
  mustFromJson: (...a) => {
    arity("mustFromJson", a, 1);
    try {
      return JSON.parse(str("mustFromJson", a, 0)) as unknown;
    } catch (e) {
      return fail(`sprig.mustFromJson: ${(e as Error).message}`);
    }
  },
  b64enc: (...a) => (arity("b64enc", a, 1), Buffer.from(str("b64enc", a, 0), "utf8").toString("base64")),
  b64dec: (...a) => {
    arity("b64dec", a, 1);
    const s = str("b64dec", a, 0);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return `illegal base64 data at input byte ${Math.max(0, s.search(/[^A-Za-z0-9+/=]/))}`;
    return Buffer.from(s, "base64").toString("utf8");
  },
  sha256sum: (...a) => (arity("sha256sum", a, 1), createHash("sha256").update(str("sha256sum", a, 0)).digest("hex")),
  sha1sum: (...a) => (arity("sha1sum", a, 1), createHash("sha1").update(str("sha1sum", a, 0)).digest("hex")),
  uuidv4: (...a) => (arity("uuidv4", a, 0), randomUUID()),
  // regular expressions
  regexMatch: (...a) => (arity("regexMatch", a, 2), regex("regexMatch", str("regexMatch", a, 0)).test(str("regexMatch", a, 1))),
  regexFind: (...a) => (arity("regexFind", a, 2), regex("regexFind", str("regexFind", a, 0)).find(str("regexFind", a, 1))),
  regexFindAll: (...a) => (arity("regexFindAll", a, 3), regex("regexFindAll", str("regexFindAll", a, 0)).findAll(str("regexFindAll", a, 1), int("regexFindAll", a, 2))),
  regexReplaceAll: (...a) => (arity("regexReplaceAll", a, 3), regex("regexReplaceAll", str("regexReplaceAll", a, 0)).replaceAll(str("regexReplaceAll", a, 1), str("regexReplaceAll", a, 2))),
  regexReplaceAllLiteral: (...a) => (arity("regexReplaceAllLiteral", a, 3), regex("regexReplaceAllLiteral", str("regexReplaceAllLiteral", a, 0)).replaceAllLiteral(str("regexReplaceAllLiteral", a, 1), str("regexReplaceAllLiteral", a, 2))),
  regexSplit: (...a) => (arity("regexSplit", a, 3), regex("regexSplit", str("regexSplit", a, 0)).split(str("regexSplit", a, 1), int("regexSplit", a, 2))),
  // lists
  list: (...a) => [...a],
  first: (...a) => (arity("first", a, 1), isNil(a[0]) ? undefined : list("first", a[0])[0]),
  last: (...a) => (arity("last", a, 1), isNil(a[0]) ? undefined : list("last", a[0]).at(-1)),
  rest: (...a) => (arity("rest", a, 1), isNil(a[0]) ? undefined : list("rest", a[0]).slice(1)),
  initial: (...a) => (arity("initial", a, 1), isNil(a[0]) ? undefined : list("initial", a[0]).slice(0, -1)),
  append: (...a) => (arity("append", a, 2), [...list("append", a[0]), a[1]]),
  push: (...a) => (arity("push", a, 2), [...list("push", a[0]), a[1]]),
  prepend: (...a) => (arity("prepend", a, 2), [a[1], ...list("prepend", a[0])]),
  concat: (...a) => a.flatMap((l) => [...list("concat", l)]),
  reverse: (...a) => (arity("reverse", a, 1), [...list("reverse", a[0])].reverse()),
  uniq: (...a) => {
    arity("uniq", a, 1);
    const out: unknown[] = [];
    for (const v of list("uniq", a[0])) if (!out.some((o) => equal(o, v))) out.push(v);
    return out;
  },
  without: (...a) => (arity("without", a, 1, Infinity), list("without", a[0]).filter((v) => !a.slice(1).some((o) => equal(o, v)))),
  has: (...a) => (arity("has", a, 2), isNil(a[1]) ? false : list("has", a[1]).some((v) => equal(v, a[0]))),
  compact: (...a) => (arity("compact", a, 1), list("compact", a[0]).filter((v) => !isEmpty(v))),
  slice: (...a) => {
    arity("slice", a, 1, 3);
    const l = list("slice", a[0]);
    return l.slice(a.length > 1 ? toInt64(a[1]) : 0, a.length > 2 ? toInt64(a[2]) : l.length);
  },
  // dicts
  dict: (...a) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < a.length; i += 2) out[strval(a[i])] = a[i + 1];
    return out;
  },
  get: (...a) => {
    arity("get", a, 2);
    const d = dictOf("get", a[0]);
    const k = str("get", a, 1);
    return Object.hasOwn(d, k) ? d[k] : "";
  },
  set: (...a) => (arity("set", a, 3), { ...dictOf("set", a[0]), [str("set", a, 1)]: a[2] }),
  unset: (...a) => {
    arity("unset", a, 2);
    const out = { ...dictOf("unset", a[0]) };
    delete out[str("unset", a, 1)];
    return out;
  },
  hasKey: (...a) => (arity("hasKey", a, 2), Object.hasOwn(dictOf("hasKey", a[0]), str("hasKey", a, 1))),
  keys: (...a) => a.flatMap((d) => Object.keys(dictOf("keys", d))).sort(),
  values: (...a) => {
    arity("values", a, 1);
    const d = dictOf("values", a[0]);
    return Object.keys(d).sort().map((k) => d[k]);
  },
  pluck: (...a) => {
    arity("pluck", a, 1, Infinity);
    const k = str("pluck", a, 0);
    return a.slice(1).flatMap((d) => {
      const m = dictOf("pluck", d);
      return Object.hasOwn(m, k) ? [m[k]] : [];
    });
  },
  pick: (...a) => {
    arity("pick", a, 1, Infinity);
    const d = dictOf("pick", a[0]);
    const want = a.slice(1).map(strval);
    return Object.fromEntries(Object.entries(d).filter(([k]) => want.includes(k)));
  },
  omit: (...a) => {
    arity("omit", a, 1, Infinity);
    const d = dictOf("omit", a[0]);
    const drop = a.slice(1).map(strval);
    return Object.fromEntries(Object.entries(d).filter(([k]) => !drop.includes(k)));
  },
  merge: (...a) => {
    arity("merge", a, 1, Infinity);
    const out: Record<string, unknown> = {};
    for (const d of [...a].reverse()) Object.assign(out, dictOf("merge", d));
    return out;
  },
  // reflection
  typeOf: (...a) => (arity("typeOf", a, 1), goTypeOf(a[0])),
  kindOf: (...a) => (arity("kindOf", a, 1), goKindOf(a[0])),
  kindIs: (...a) => (arity("kindIs", a, 2), goKindOf(a[1]) === str("kindIs", a, 0)),
  typeIs: (...a) => (arity("typeIs", a, 2), goTypeOf(a[1]) === str("typeIs", a, 0)),
  deepEqual: (...a) => (arity("deepEqual", a, 2), equal(a[0], a[1])),
};

function goKindOf(v: unknown): string {
  switch (typeName(v)) {
    case "nil":
      return "invalid";
    case "float":
      return "float64";
    case "array":
      return "slice";
    default:
      return typeName(v);
  }
}

function goTypeOf(v: unknown): string {
  switch (typeName(v)) {
    case "nil":
      return "<nil>";
    case "float":
      return "float64";
    case "array":
      return "[]interface {}";
    case "map":
      return "map[string]interface {}";
    default:
      return typeName(v);
  }
}

/** sprig's date argument: a time, or unix seconds; anything else means now (as sprig does). */
function toTime(v: unknown): Date {
  if (v instanceof Date) return v;
  if (typeof v === "number" && Number.isInteger(v)) return new Date(v * 1000);
  return new Date();
}

Object.assign(fns, {
  now: (...a: readonly unknown[]) => (arity("now", a, 0), new Date()),
  date: (...a: readonly unknown[]) => (arity("date", a, 2), formatGoTime(toTime(a[1]), str("date", a, 0), "Local")),
  dateInZone: (...a: readonly unknown[]) => (arity("dateInZone", a, 3), formatGoTime(toTime(a[1]), str("dateInZone", a, 0), str("dateInZone", a, 2))),
  htmlDate: (...a: readonly unknown[]) => (arity("htmlDate", a, 1), formatGoTime(toTime(a[0]), "2006-01-02", "Local")),
  htmlDateInZone: (...a: readonly unknown[]) => (arity("htmlDateInZone", a, 2), formatGoTime(toTime(a[0]), "2006-01-02", str("htmlDateInZone", a, 1))),
  unixEpoch: (...a: readonly unknown[]) => {
    arity("unixEpoch", a, 1);
    if (!(a[0] instanceof Date)) fail(`sprig.unixEpoch: argument 1 must be a time, got ${typeName(a[0])}`);
    return String(Math.floor(a[0].getTime() / 1000));
  },
  toDate: (...a: readonly unknown[]) => {
    arity("toDate", a, 2);
    try {
      return parseGoTime(str("toDate", a, 0), str("toDate", a, 1));
    } catch {
      return new Date(-62135596800000); // Go's zero time, 0001-01-01T00:00:00Z
    }
  },
  mustToDate: (...a: readonly unknown[]) => (arity("mustToDate", a, 2), parseGoTime(str("mustToDate", a, 0), str("mustToDate", a, 1))),
  dateModify: (...a: readonly unknown[]) => {
    arity("dateModify", a, 2);
    const t = toTime(a[1]);
    try {
      return new Date(t.getTime() + parseGoDuration(str("dateModify", a, 0)));
    } catch {
      return t;
    }
  },
  ago: (...a: readonly unknown[]) => (arity("ago", a, 1), formatGoDuration(Math.round((Date.now() - toTime(a[0]).getTime()) / 1000) * 1000)),
  duration: (...a: readonly unknown[]) => (arity("duration", a, 1), formatGoDuration(toInt64(a[0]) * 1000)),
});

function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "");
}

function randomFrom(alphabet: string, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function adler32(s: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s, "utf8")) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";

Object.assign(fns, {
  // paths (sprig's base, dir … use Go's path package: forward slashes)
  base: (...a: readonly unknown[]) => (arity("base", a, 1), str("base", a, 0) === "" ? "." : posix.basename(str("base", a, 0)) || "/"),
  dir: (...a: readonly unknown[]) => (arity("dir", a, 1), posix.dirname(str("dir", a, 0))),
  ext: (...a: readonly unknown[]) => (arity("ext", a, 1), posix.extname(str("ext", a, 0))),
  clean: (...a: readonly unknown[]) => {
    arity("clean", a, 1);
    const p = str("clean", a, 0);
    if (p === "") return ".";
    const n = posix.normalize(p);
    return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
  },
  isAbs: (...a: readonly unknown[]) => (arity("isAbs", a, 1), str("isAbs", a, 0).startsWith("/")),
  // case
  camelcase: (...a: readonly unknown[]) => (arity("camelcase", a, 1), str("camelcase", a, 0).split("_").map((w) => (w === "" ? "" : w[0]!.toUpperCase() + w.slice(1))).join("")),
  snakecase: (...a: readonly unknown[]) => (arity("snakecase", a, 1), words(str("snakecase", a, 0)).map((w) => w.toLowerCase()).join("_")),
  kebabcase: (...a: readonly unknown[]) => (arity("kebabcase", a, 1), words(str("kebabcase", a, 0)).map((w) => w.toLowerCase()).join("-")),
  swapcase: (...a: readonly unknown[]) => (arity("swapcase", a, 1), [...str("swapcase", a, 0)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("")),
  initials: (...a: readonly unknown[]) => (arity("initials", a, 1), str("initials", a, 0).split(/\s+/).filter((w) => w !== "").map((w) => [...w][0]).join("")),
  // lists
  chunk: (...a: readonly unknown[]) => {
    arity("chunk", a, 2);
    const size = toInt64(a[0]);
    const l = list("chunk", a[1]);
    if (size <= 0) return [];
    const out: unknown[][] = [];
    for (let i = 0; i < l.length; i += size) out.push(l.slice(i, i + size));
    return out;
  },
  biggest: (...a: readonly unknown[]) => (arity("biggest", a, 1, Infinity), Math.max(...a.map(toInt64))),
  toDecimal: (...a: readonly unknown[]) => {
    arity("toDecimal", a, 1);
    const s = strval(a[0]);
    return /^[0-7]+$/.test(s) ? Number.parseInt(s, 8) : 0;
  },
  // random
  randAlphaNum: (...a: readonly unknown[]) => (arity("randAlphaNum", a, 1), randomFrom(LETTERS + DIGITS, toInt64(a[0]))),
  randAlpha: (...a: readonly unknown[]) => (arity("randAlpha", a, 1), randomFrom(LETTERS, toInt64(a[0]))),
  randNumeric: (...a: readonly unknown[]) => (arity("randNumeric", a, 1), randomFrom(DIGITS, toInt64(a[0]))),
  randAscii: (...a: readonly unknown[]) => {
    arity("randAscii", a, 1);
    let printable = "";
    for (let c = 32; c < 127; c++) printable += String.fromCharCode(c);
    return randomFrom(printable, toInt64(a[0]));
  },
  randInt: (...a: readonly unknown[]) => (arity("randInt", a, 2), randomInt(toInt64(a[0]), toInt64(a[1]))),
  shuffle: (...a: readonly unknown[]) => {
    arity("shuffle", a, 1);
    const chars = [...str("shuffle", a, 0)];
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [chars[i], chars[j]] = [chars[j]!, chars[i]!];
    }
    return chars.join("");
  },
  // hashes and regexps
  adler32sum: (...a: readonly unknown[]) => (arity("adler32sum", a, 1), String(adler32(str("adler32sum", a, 0)))),
  regexQuoteMeta: (...a: readonly unknown[]) => (arity("regexQuoteMeta", a, 1), str("regexQuoteMeta", a, 0).replace(/[\\.+*?()|[\]{}^$]/g, "\\$&")),
});

// sprig's must* variants fail where the plain ones return a zero value; ours already fail.
for (const name of ["first", "last", "rest", "initial", "append", "push", "prepend", "uniq", "without", "has", "compact", "slice", "reverse", "chunk", "regexMatch", "regexFind", "regexFindAll", "regexReplaceAll", "regexReplaceAllLiteral", "regexSplit", "dateModify", "merge"]) {
  const fn = fns[name];
  const must = `must${name[0]!.toUpperCase()}${name.slice(1)}`;
  if (fn !== undefined && fns[must] === undefined) fns[must] = fn;
}

/** `sprig` in the expression environment: a map from function name to function. */
export const SPRIG: Readonly<Record<string, ExprFunction>> = Object.freeze(fns);
