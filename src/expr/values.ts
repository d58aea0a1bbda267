/**
 * Values of evaluated Argo expressions, and how Go (which Argo is written in) prints them.
 *
 * Values are plain JavaScript: `null`/`undefined` (nil), `boolean`, `number`, `string`, arrays,
 * plain objects (maps) and functions. expr-lang distinguishes `int` from `float`; we treat an
 * integral number as an int and any other as a float, except where an operator always yields a
 * float (`/`, `**`), which only matters for errors such as `%` on floats.
 */
import { formatGoTime } from "./go-time.ts";

import { EvaluationFailure } from "./evaluation-failure.ts";

export { EvaluationFailure };

/** A callable value: a builtin, a sprig function or a function put into the environment. */
export type ExprFunction = (...args: readonly unknown[]) => unknown;

/** A map value (a plain object). */
export type ExprMap = Readonly<Record<string, unknown>>;

export function isNil(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

export function isMap(v: unknown): v is ExprMap {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** expr-lang's name for the type of a value, used in error messages and `type()`. */
export function typeName(v: unknown): string {
  if (isNil(v)) return "nil";
  if (v instanceof Date) return "time.Time";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "string":
      return "string";
    case "function":
      return "func";
    case "bigint":
      return "int";
    default:
      if (Array.isArray(v)) return "array";
      if (isMap(v)) return "map";
      return "unknown";
  }
}

/** Deep equality as expr-lang's `==`: numbers compare by value across int and float. */
export function equal(a: unknown, b: unknown): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (typeof a !== typeof b) return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return a === b;
}

/** Truthiness as sprig's `empty` sees it: nil, false, 0, "", empty array or map are empty. */
export function isEmpty(v: unknown): boolean {
  if (isNil(v)) return true;
  if (typeof v === "boolean") return !v;
  if (typeof v === "number") return v === 0;
  if (typeof v === "string") return v.length === 0;
  if (Array.isArray(v)) return v.length === 0;
  if (isMap(v)) return Object.keys(v).length === 0;
  return false;
}

/** Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which is what `fmt.Sprintf("%v", float)` prints. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  // Shortest round-tripping digits, as JavaScript also produces.
  const [mantissa, expText] = v.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return goExponent(mantissa, exp);
  return String(v);
}

function goExponent(mantissa: string, exp: number): string {
  const sign = exp < 0 ? "-" : "+";
  const digits = String(Math.abs(exp)).padStart(2, "0");
  return `${mantissa}e${sign}${digits}`;
}

/** Prints a number the way Go prints an int or a float64 with `%v`. */
export function formatGoNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) return BigInt(v).toString();
  return formatGoFloat(v);
}

/**
 * `fmt.Sprintf("%v", v)` in Go, as expr-lang's `string()` and sprig's `toString` print values:
 * strings as they are, numbers as above, `[a b]` for lists, `map[k:v]` (sorted keys) for maps,
 * `<nil>`.
 *
 * @example
 * formatGoValue([1, "a", { k: true }]); // "[1 a map[k:true]]"
 * formatGoValue(1e6 + 0.5); // "1.0000005e+06"
 */
export function formatGoValue(v: unknown): string {
  if (isNil(v)) return "<nil>";
  switch (typeof v) {
    case "string":
      return v;
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return formatGoNumber(v);
    case "bigint":
      return v.toString();
    case "function":
      return "<func>";
  }
  if (v instanceof Date) return formatGoTime(v, "2006-01-02 15:04:05.999999999 -0700 MST");
  if (Array.isArray(v)) return `[${v.map(formatGoValue).join(" ")}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${formatGoValue(v[k])}`).join(" ")}]`;
  }
  return String(v);
}

/**
 * Go's `json.Marshal(v)` (compact, map keys sorted, `<`, `>`, `&` escaped as `\u003c` …), as
 * Argo's `toJson` and sprig's `toJson` produce. `indent` gives `json.MarshalIndent(v, "", indent)`.
 *
 * @example
 * goJson({ b: 1, a: "<" }); // '{"a":"\u003c","b":1}'
 */
export function goJson(v: unknown, indent = ""): string {
  return marshal(v, indent, "");
}

function marshal(v: unknown, indent: string, prefix: string): string {
  if (isNil(v)) return "null";
  switch (typeof v) {
    case "string":
      return quoteJson(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isFinite(v)) throw new EvaluationFailure(`json: unsupported value: ${formatGoFloat(v)}`);
      return JSON.stringify(v);
    case "bigint":
      return v.toString();
    case "function":
      throw new EvaluationFailure("json: unsupported type: func");
  }
  if (v instanceof Date) return quoteJson(formatGoTime(v, "2006-01-02T15:04:05.999999999Z07:00"));
  const inner = prefix + indent;
  const sep = indent === "" ? "," : ",\n" + inner;
  const open = indent === "" ? "" : "\n" + inner;
  const close = indent === "" ? "" : "\n" + prefix;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[${open}${v.map((e) => marshal(e, indent, inner)).join(sep)}${close}]`;
  }
  if (isMap(v)) {
    const keys = Object.keys(v).sort();
    if (keys.length === 0) return "{}";
    const colon = indent === "" ? ":" : ": ";
    return `{${open}${keys.map((k) => `${quoteJson(k)}${colon}${marshal(v[k], indent, inner)}`).join(sep)}${close}}`;
  }
  throw new EvaluationFailure(`json: unsupported type: ${typeName(v)}`);
}

function quoteJson(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Parses JSON text into expression values, failing as an {@link EvaluationFailure}. */
export function parseJson(text: string, fn: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new EvaluationFailure(`${fn}: invalid JSON ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + "…" : text)}: ${(e as Error).message}`);
  }
}

/** Short rendering of a value for error messages. */
export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? v.slice(0, 60) + "…" : v);
  const s = formatGoValue(v);
  return s.length > 60 ? s.slice(0, 60) + "…" : s;
}
