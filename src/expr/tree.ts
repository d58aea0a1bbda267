/**
 * Typed expression trees (DESIGN.md: "expressions are data"). Authoring code builds them;
 * the compiler renders them to Argo syntax — simple `{{…}}` tags where a bare variable is
 * enough, expr-lang `{{=…}}` tags otherwise — and the local engine evaluates what was
 * rendered with its own parser. Nothing here evaluates anything.
 */
import { CompileError, ExpressionError, ValidationError } from "../errors.ts";

/** How a value travels as an Argo string, which decides how expressions convert it. */
export type ValueKind = "string" | "number" | "integer" | "boolean" | "json" | "unknown";

/** A variable the compiler resolves to an Argo path such as `steps.a.outputs.parameters.p`. */
export interface Variable {
  /** Resolves to the path segments in the template where it is rendered. */
  readonly resolve: (ctx: RenderContext) => readonly string[];
  /** How its string value converts inside expressions. */
  readonly kind: ValueKind;
  /** A readable description for error messages. */
  readonly describe: () => string;
}

/** What the compiler knows while rendering inside one template. */
export interface RenderContext {
  /** Name of the template being rendered, for messages. */
  readonly template: string;
  /**
   * Maps a variable to the path used in this template. The default context returns the
   * variable's own path; the compiler's contexts also check that the variable is in scope.
   */
  readonly resolve?: (variable: Variable, path: readonly string[]) => readonly string[];
  /** Called for every variable rendered (the DAG compiler infers dependencies from it). */
  readonly visit?: (variable: Variable) => void;
  /** Called for every artifact source rendered (local files to upload before running). */
  readonly onArtifactSource?: (source: object) => void;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Renders a path as an expr-lang accessor: `steps["gen-list"].outputs.result`. */
export function renderAccessor(path: readonly string[]): string {
  return path
    .map((seg, i) => {
      if (IDENT.test(seg)) return i === 0 ? seg : `.${seg}`;
      if (i === 0) throw new CompileError(`expression variable root ${JSON.stringify(seg)} is not an identifier`);
      return `[${quoteString(seg)}]`;
    })
    .join("");
}

/**
 * Quotes a string as an expr-lang literal. `{` and `}` are escaped so that a literal can never
 * close the surrounding `{{=…}}` tag, and non-ASCII control characters are escaped.
 */
export function quoteString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "{" || ch === "}" || code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function resolvePath(variable: Variable, ctx: RenderContext): readonly string[] {
  ctx.visit?.(variable);
  const own = variable.resolve(ctx);
  return ctx.resolve ? ctx.resolve(variable, own) : own;
}

/** A literal operand, or an expression of the same value type. */
export type Operand<T> = T | Expr<T>;

/**
 * A typed expression. `T` is the value type it stands for at run time (the phantom field
 * keeps `Expr<string>` and `Expr<number>` apart for the compiler).
 */
export abstract class Expr<T> {
  /** Phantom: the static value type. Never set. */
  declare readonly __valueType?: T;
  /** How the value converts when it flows as a string. */
  abstract readonly kind: ValueKind;

  /** Renders the expr-lang source of this expression, in its typed form. */
  abstract renderExpr(ctx: RenderContext): string;

  /**
   * Renders the value where Argo expects a string (arguments, `when`): a simple tag for a
   * bare variable, else an expression tag producing the string form.
   */
  renderTag(ctx: RenderContext): string {
    const src = this.renderExpr(ctx);
    return `{{=${this.kind === "json" ? `toJson(${src})` : src}}}`;
  }

  eq(other: Operand<T>): Expr<boolean> {
    return binary("==", this, other);
  }
  ne(other: Operand<T>): Expr<boolean> {
    return binary("!=", this, other);
  }
  lt(other: Operand<T>): Expr<boolean> {
    return binary("<", this, other);
  }
  le(other: Operand<T>): Expr<boolean> {
    return binary("<=", this, other);
  }
  gt(other: Operand<T>): Expr<boolean> {
    return binary(">", this, other);
  }
  ge(other: Operand<T>): Expr<boolean> {
    return binary(">=", this, other);
  }
}

/**
 * A literal, an expression, or — for lists and objects — a literal structure with expressions
 * anywhere inside (dflow's dict and list parameters built from references).
 */
export type DeepOperand<T> =
  | Expr<T>
  | (T extends readonly (infer E)[] ? readonly DeepOperand<E>[] : T extends object ? { readonly [K in keyof T]: DeepOperand<T[K]> } : T);

/** Whether a plain list or object holds an expression somewhere inside. */
export function containsExpr(value: unknown): boolean {
  if (value instanceof Expr) return true;
  if (Array.isArray(value)) return value.some(containsExpr);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).some(containsExpr);
  return false;
}

/** Wraps a literal or passes an expression through; a structure holding expressions becomes a {@link Composite}. */
export function toExpr<T>(value: Operand<T> | DeepOperand<T>): Expr<T> {
  if (value instanceof Expr) return value;
  if (containsExpr(value)) return new Composite<T>(value);
  return new Literal(value as T) as Expr<T>;
}

/** A list or object literal with expressions inside, built at run time (`{"k": steps.a.outputs.parameters.n}`). */
export class Composite<T> extends Expr<T> {
  readonly kind: ValueKind = "json";
  constructor(readonly value: unknown) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    const walk = (v: unknown): string => {
      if (v instanceof Expr) return v.renderExpr(ctx);
      if (Array.isArray(v)) return `[${v.map(walk).join(", ")}]`;
      if (v !== null && typeof v === "object") {
        // "} " and not "}": two closing braces in a row would end the surrounding {{=…}} tag.
        return `{${Object.entries(v as Record<string, unknown>)
          .map(([k, x]) => `${quoteString(k)}: ${walk(x)}`)
          .join(", ")} }`;
      }
      return renderLiteral(v);
    };
    return walk(this.value);
  }
}

/** A literal value rendered in expr-lang syntax. */
export class Literal<T> extends Expr<T> {
  readonly kind: ValueKind;
  constructor(readonly value: T) {
    super();
    this.kind = kindOfValue(value);
  }
  renderExpr(): string {
    return renderLiteral(this.value);
  }
  override renderTag(): string {
    const v = this.value as unknown;
    return typeof v === "string" ? v : JSON.stringify(v);
  }
}

function kindOfValue(value: unknown): ValueKind {
  if (typeof value === "string") return "string";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (typeof value === "boolean") return "boolean";
  return "json";
}

function renderLiteral(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return quoteString(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new CompileError(`expression literal ${value} is not a finite number`);
    return String(value);
  }
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(renderLiteral).join(", ")}]`;
  if (typeof value === "object") {
    // "} " and not "}": two closing braces in a row would end the surrounding {{=…}} tag.
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${quoteString(k)}: ${renderLiteral(v)}`)
      .join(", ")} }`;
  }
  throw new CompileError(`expression literal of type ${typeof value} cannot be rendered`);
}

/** A reference to an Argo variable (an input, a step output, `item`, a workflow parameter). */
export class VarRef<T> extends Expr<T> {
  constructor(readonly variable: Variable) {
    super();
  }
  get kind(): ValueKind {
    return this.variable.kind;
  }
  /** The Argo path in `ctx`, e.g. `["steps", "a", "outputs", "parameters", "p"]`. */
  path(ctx: RenderContext): readonly string[] {
    return resolvePath(this.variable, ctx);
  }
  /** The raw (string) accessor, without conversion. */
  renderRaw(ctx: RenderContext): string {
    return renderAccessor(this.path(ctx));
  }
  renderExpr(ctx: RenderContext): string {
    const raw = this.renderRaw(ctx);
    switch (this.kind) {
      case "number":
        return `asFloat(${raw})`;
      case "integer":
        return `asInt(${raw})`;
      case "boolean":
        return `(${raw} == "true")`;
      case "json":
        return `fromJSON(${raw})`;
      default:
        return raw;
    }
  }
  override renderTag(ctx: RenderContext): string {
    return `{{${this.path(ctx).join(".")}}}`;
  }
}

/** A binary operation. */
export class Binary<T> extends Expr<T> {
  constructor(
    readonly op: string,
    readonly left: Expr<unknown>,
    readonly right: Expr<unknown>,
    readonly kind: ValueKind,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    return `(${this.left.renderExpr(ctx)} ${this.op} ${this.right.renderExpr(ctx)})`;
  }
}

function binary<T>(op: string, left: Expr<T>, right: Operand<T>): Expr<boolean> {
  return new Binary<boolean>(op, left as Expr<unknown>, toExpr(right) as Expr<unknown>, "boolean");
}

/** A unary operation (`!`, `-`). */
export class Unary<T> extends Expr<T> {
  constructor(
    readonly op: string,
    readonly operand: Expr<unknown>,
    readonly kind: ValueKind,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    return `(${this.op}${this.operand.renderExpr(ctx)})`;
  }
}

/** A call of an expr-lang builtin or an Argo/sprig function. */
export class Call<T> extends Expr<T> {
  constructor(
    readonly fn: string,
    readonly args: readonly Expr<unknown>[],
    readonly kind: ValueKind,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    return `${this.fn}(${this.args.map((a) => a.renderExpr(ctx)).join(", ")})`;
  }
}

/** `cond ? a : b`. */
export class Conditional<T> extends Expr<T> {
  constructor(
    readonly cond: Expr<boolean>,
    readonly then: Expr<T>,
    readonly otherwise: Expr<T>,
  ) {
    super();
  }
  get kind(): ValueKind {
    return this.then.kind === this.otherwise.kind ? this.then.kind : "unknown";
  }
  renderExpr(ctx: RenderContext): string {
    return `(${this.cond.renderExpr(ctx)} ? ${this.then.renderExpr(ctx)} : ${this.otherwise.renderExpr(ctx)})`;
  }
}

/**
 * A string with embedded references, rendered with simple tags where possible:
 * `` argoString`echo ${ref} done` `` → `echo {{inputs.parameters.x}} done`.
 */
export class Interpolation extends Expr<string> {
  readonly kind = "string";
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly Operand<unknown>[],
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    const parts: string[] = [];
    this.strings.forEach((s, i) => {
      if (s) parts.push(quoteString(s));
      if (i < this.values.length) {
        const v = toExpr(this.values[i]);
        parts.push(v.kind === "string" ? v.renderExpr(ctx) : `string(${v.renderExpr(ctx)})`);
      }
    });
    return parts.length ? `(${parts.join(" + ")})` : '""';
  }
  override renderTag(ctx: RenderContext): string {
    let out = "";
    this.strings.forEach((s, i) => {
      out += s;
      if (i < this.values.length) out += renderValue(this.values[i], ctx);
    });
    return out;
  }
}

/** Verbatim Argo text (an escape hatch for expressions written by hand). */
export class RawTag<T = string> extends Expr<T> {
  readonly kind: ValueKind;
  constructor(
    readonly text: string,
    kind: ValueKind = "string",
  ) {
    super();
    this.kind = kind;
  }
  renderExpr(): string {
    const m = /^\{\{=([\s\S]*)\}\}$/.exec(this.text.trim());
    if (m) return (m[1] as string).trim();
    throw new CompileError(`raw text ${JSON.stringify(this.text)} cannot be used inside an expression; write it as an expression`);
  }
  override renderTag(): string {
    return this.text;
  }
}

/** Renders a literal or expression where Argo expects a string value. */
export function renderValue(value: Operand<unknown>, ctx: RenderContext): string {
  return toExpr(value).renderTag(ctx);
}

// ---------------------------------------------------------------------------------------
// Builders (the public expression vocabulary)

/** Logical and of conditions. */
export function and(...conds: Operand<boolean>[]): Expr<boolean> {
  if (conds.length === 0) return new Literal(true);
  return conds.map((c) => toExpr(c)).reduce((a, b) => new Binary<boolean>("&&", a, b, "boolean"));
}

/** Logical or of conditions. */
export function or(...conds: Operand<boolean>[]): Expr<boolean> {
  if (conds.length === 0) return new Literal(false);
  return conds.map((c) => toExpr(c)).reduce((a, b) => new Binary<boolean>("||", a, b, "boolean"));
}

/** Logical negation. */
export function not(cond: Operand<boolean>): Expr<boolean> {
  return new Unary<boolean>("!", toExpr(cond), "boolean");
}

/** Arithmetic helpers on numbers. */
export function add(a: Operand<number>, b: Operand<number>): Expr<number> {
  return arith("+", a, b);
}
export function sub(a: Operand<number>, b: Operand<number>): Expr<number> {
  return arith("-", a, b);
}
export function mul(a: Operand<number>, b: Operand<number>): Expr<number> {
  return arith("*", a, b);
}
/** `a / b` (always a float in expr-lang). */
export function div(a: Operand<number>, b: Operand<number>): Expr<number> {
  return new Binary<number>("/", toExpr(a), toExpr(b), "number");
}
/** `a % b` on integers. */
export function mod(a: Operand<number>, b: Operand<number>): Expr<number> {
  return new Binary<number>("%", toExpr(a), toExpr(b), "integer");
}

/** The element at `index` of a list (negative counts from the end), or the value at `key` of an object. */
export function at<T>(list: Expr<readonly T[]> | Expr<T[]>, index: Operand<number>): Expr<T>;
export function at<T extends object, K extends keyof T & string>(obj: Expr<T>, key: K): Expr<T[K]>;
export function at(container: Expr<unknown>, key: Operand<number> | string): Expr<unknown> {
  return new Index(container, toExpr(key as Operand<unknown>));
}

class Index extends Expr<unknown> {
  readonly kind: ValueKind = "unknown";
  constructor(
    readonly container: Expr<unknown>,
    readonly key: Expr<unknown>,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    const k = this.key.kind === "integer" || this.key.kind === "number" ? `int(${this.key.renderExpr(ctx)})` : this.key.renderExpr(ctx);
    return `${this.container.renderExpr(ctx)}[${k}]`;
  }
  override renderTag(ctx: RenderContext): string {
    // Strings as they are, anything else as JSON (how Argo writes an expression's value).
    const src = this.renderExpr(ctx);
    return `{{=type(${src}) == "string" ? ${src} : toJson(${src})}}`;
  }
}

/** The sum of a list of numbers (dflow's `argo_sum`). */
export function argoSum(list: Expr<readonly number[]> | Expr<number[]>): Expr<number> {
  return new Call<number>("sum", [list as Expr<unknown>], "number");
}

/** The lists joined into one (dflow's `argo_concat`). */
export function argoConcat<T>(...lists: (Expr<readonly T[]> | Expr<T[]> | readonly DeepOperand<T>[])[]): Expr<T[]> {
  if (!lists.length) throw new ValidationError("argoConcat(): give at least one list");
  return new Call<T[]>("concat", lists.map((l) => toExpr(l as Operand<unknown>)), "json");
}

function arith(op: string, a: Operand<number>, b: Operand<number>): Expr<number> {
  const l = toExpr(a);
  const r = toExpr(b);
  return new Binary<number>(op, l, r, l.kind === "integer" && r.kind === "integer" ? "integer" : "number");
}

/**
 * `cond ? then : otherwise` — in dflow's words `if_expression`. Used for conditional outputs
 * of Steps and DAG templates (see `Steps.outputs`).
 *
 * @example
 * ifExpression(flip.outputs.result.eq("heads"), heads.outputs.result, tails.outputs.result)
 */
export function ifExpression<T>(cond: Operand<boolean>, then: Operand<T>, otherwise: Operand<T>): Expr<T> {
  return new Conditional(toExpr(cond), toExpr(then), toExpr(otherwise));
}

/** Number of elements of a JSON list (dflow's `argo_len`). */
export function argoLen(list: Expr<readonly unknown[]>): Expr<number> {
  return new Call<number>("len", [list as Expr<unknown>], "integer");
}

/** The list `[0, 1, …, n-1]` (or `start…end-1` by `step`), dflow's `argo_range`, as JSON. */
export function argoRange(
  startOrEnd: Operand<number>,
  end?: Operand<number>,
  step?: Operand<number>,
): Expr<number[]> {
  const args = [startOrEnd, end, step].filter((a) => a !== undefined).map((a) => toExpr(a as Operand<number>));
  return new Call<number[]>("sprig.untilStep", rangeArgs(args), "json");
}

function rangeArgs(args: Expr<number>[]): Expr<unknown>[] {
  const int = (e: Expr<number>): Expr<unknown> => new Call<number>("int", [e as Expr<unknown>], "integer");
  if (args.length === 1) return [new Literal(0), int(args[0] as Expr<number>), new Literal(1)];
  if (args.length === 2) return [int(args[0] as Expr<number>), int(args[1] as Expr<number>), new Literal(1)];
  return args.map(int);
}

/** A list of `{ order, item }` objects — dflow's `argo_enumerate` over one JSON list. */
export function argoEnumerate<T>(list: Expr<readonly T[]>): Expr<{ order: number; item: T }[]> {
  return new RawCall<{ order: number; item: T }[]>(
    // Parenthesised: braces right after the comma would open a closure, not a map literal.
    (ctx) => `map(${list.renderExpr(ctx)}, ({"order": #index, "item": #}))`,
    "json",
  );
}

/** Compact JSON text of a value (Argo's `toJson`). */
export function toJson(value: Expr<unknown>): Expr<string> {
  return new Call<string>("toJson", [value], "string");
}

/** Converts any value to its string form. */
export function asString(value: Expr<unknown>): Expr<string> {
  return new Call<string>("string", [value], "string");
}

/** Renders through a callback (for builders whose syntax is not a plain call). */
class RawCall<T> extends Expr<T> {
  constructor(
    readonly render: (ctx: RenderContext) => string,
    readonly kind: ValueKind,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    return this.render(ctx);
  }
}

/**
 * A string built from text and references, rendered with `{{…}}` tags.
 *
 * @example
 * args: [argoString`echo sleeping for ${inputs.parameters.seconds} seconds`]
 */
export function argoString(strings: TemplateStringsArray, ...values: Operand<unknown>[]): Expr<string> {
  return new Interpolation([...strings], values);
}

/**
 * A `when` condition in Argo's govaluate syntax with embedded references, e.g.
 * `` argoCondition`${inputs.parameters.flag} == true` ``. References are substituted as
 * text before govaluate runs, so prefer the typed builders (`ref.eq(…)`, `and`, …) for
 * strings that may contain quotes.
 */
export function argoCondition(strings: TemplateStringsArray, ...values: Operand<unknown>[]): Expr<boolean> {
  return new Interpolation([...strings], values) as unknown as Expr<boolean>;
}

/**
 * Verbatim Argo text, for conditions or values written in Argo's own syntax (govaluate
 * `when`, hand-written `{{=…}}`). Prefer the typed builders: they quote correctly.
 */
export function rawArgo<T = string>(text: string): Expr<T> {
  return new RawTag<T>(text);
}

/** Verbatim expr-lang source (an `{{=…}}` tag's inside), as `valueFrom.expression` and `fromExpression` take it. */
class RawExpression<T> extends Expr<T> {
  readonly kind: ValueKind = "string";
  constructor(readonly source: string) {
    super();
  }
  renderExpr(): string {
    return this.source;
  }
}

/**
 * Verbatim expr-lang source, for fields that take an expression (a graph template's output
 * `valueFrom.expression`, an artifact's `fromExpression`); where a string is expected it renders
 * as `{{=source}}`. Prefer the typed builders.
 *
 * @example
 * main.setOutputs({ parameters: { n: rawExpression("steps.gen.outputs.result + '!'") } });
 */
export function rawExpression<T = string>(source: string): Expr<T> {
  if (typeof source !== "string" || !source.trim()) throw new ExpressionError(`rawExpression(): expects expr-lang source, got ${JSON.stringify(source)}`);
  return new RawExpression<T>(source);
}

/** Renders a condition for a `when` field. */
export function renderCondition(cond: Operand<boolean> | string, ctx: RenderContext): string {
  if (typeof cond === "string") return cond;
  const e = toExpr(cond);
  if (e instanceof RawTag || e instanceof Interpolation) return e.renderTag(ctx);
  return `{{=${e.renderExpr(ctx)}}}`;
}

/** Renders an expression as bare expr-lang source (for `valueFrom.expression`, `fromExpression`). */
export function renderExpression(value: Operand<unknown>, ctx: RenderContext): string {
  return toExpr(value).renderExpr(ctx);
}
