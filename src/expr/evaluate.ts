/**
 * Evaluator for parsed expr-lang expressions (see {@link parseExpression}), with expr-lang's
 * runtime rules: `/` always divides as floats, `%` needs ints, comparisons need operands of one
 * kind (a string parameter compared with a number is an error, as on Argo), member access on a
 * missing map key gives nil, on nil is an error unless `?.` was used.
 */
import { ExpressionError } from "../errors.ts";
import { ARGO_GLOBALS, BUILTINS } from "./functions.ts";
import { compileGoRegex } from "./go-regex.ts";
import { expressionError } from "./lexer.ts";
import { type ExprAst, parseExpression } from "./parser.ts";
import {
  EvaluationFailure,
  type ExprFunction,
  describe,
  equal,
  formatGoValue,
  isEmpty,
  isMap,
  isNil,
  typeName,
} from "./values.ts";

/** Options of {@link evaluateExpression}. */
export interface EvaluateOptions {
  /**
   * Builtin functions to hide, as Argo's `expr.DisableBuiltin` does.
   * @default [] (every builtin is available)
   */
  readonly disableBuiltins?: readonly string[];
}

interface Frame {
  readonly parent: Frame | undefined;
  /** Set inside a predicate: `#`, `#index`, `#acc`. */
  readonly closure?: { readonly item: unknown; readonly index: number; readonly acc?: unknown };
  /** Set by `let name = …;`. */
  readonly name?: string;
  readonly value?: unknown;
}

class Evaluator {
  constructor(
    private readonly source: string,
    private readonly env: Readonly<Record<string, unknown>>,
    private readonly disabled: ReadonlySet<string>,
  ) {}

  private fail(message: string, node: ExprAst): never {
    throw expressionError(this.source, message, node.pos);
  }

  private mismatch(op: string, a: unknown, b: unknown, node: ExprAst): never {
    this.fail(`invalid operation: ${op} (mismatched types ${typeName(a)} and ${typeName(b)})`, node);
  }

  /** Runs `fn`, turning failures of functions and operators into positioned ExpressionErrors. */
  private guard<T>(node: ExprAst, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ExpressionError) throw e;
      if (e instanceof EvaluationFailure) this.fail(e.message, node);
      if (e instanceof RangeError && /call stack/i.test(e.message)) this.fail("recursion too deep", node);
      this.fail(`${e instanceof Error ? e.message : String(e)}`, node);
    }
  }

  private lookup(name: string, frame: Frame | undefined): { found: boolean; value: unknown } {
    for (let f = frame; f !== undefined; f = f.parent) {
      if (f.name === name) return { found: true, value: f.value };
    }
    if (Object.hasOwn(ARGO_GLOBALS, name)) return { found: true, value: ARGO_GLOBALS[name] };
    if (name === "$env") return { found: true, value: this.env };
    if (Object.hasOwn(this.env, name)) return { found: true, value: this.env[name] };
    return { found: false, value: undefined };
  }

  private closure(frame: Frame | undefined, node: ExprAst): NonNullable<Frame["closure"]> {
    for (let f = frame; f !== undefined; f = f.parent) if (f.closure !== undefined) return f.closure;
    return this.fail("# can only be used inside a predicate (the second argument of filter, map, all …)", node);
  }

  eval(node: ExprAst, frame: Frame | undefined): unknown {
    switch (node.kind) {
      case "nil":
        return null;
      case "bool":
      case "number":
      case "string":
        return node.value;
      case "identifier": {
        const { found, value } = this.lookup(node.name, frame);
        if (found) return value;
        if (BUILTINS.has(node.name) && !this.disabled.has(node.name)) return BUILTINS.get(node.name);
        return this.fail(`unknown name ${node.name}`, node);
      }
      case "pointer": {
        const c = this.closure(frame, node);
        if (node.name === "") return c.item;
        if (node.name === "index") return c.index;
        if (node.name === "acc") return c.acc;
        const { found, value } = this.lookup(node.name, frame);
        if (found) return value;
        return this.fail(`unknown pointer #${node.name}`, node);
      }
      case "array":
        return node.elements.map((e) => this.eval(e, frame));
      case "map": {
        const out: Record<string, unknown> = {};
        for (const { key, value } of node.entries) {
          const k = this.eval(key, frame);
          if (typeof k !== "string" && typeof k !== "number") this.fail(`a map key must be a string, got ${typeName(k)}`, key);
          out[typeof k === "string" ? k : formatGoValue(k)] = this.eval(value, frame);
        }
        return out;
      }
      case "member":
        return this.member(node, frame);
      case "slice":
        return this.slice(node, frame);
      case "call":
        return this.call(node, frame);
      case "closure":
        return this.fail("a predicate can only be an argument of filter, map, all …", node);
      case "unary":
        return this.unary(node, frame);
      case "binary":
        return this.binary(node, frame);
      case "conditional": {
        const test = this.eval(node.test, frame);
        if (typeof test !== "boolean") this.fail(`non-bool expression (type ${typeName(test)}) used as condition`, node.test);
        return this.eval(test ? node.consequent : node.alternate, frame);
      }
      case "let":
        return this.eval(node.body, { parent: frame, name: node.name, value: this.eval(node.value, frame) });
    }
  }

  private member(node: Extract<ExprAst, { kind: "member" }>, frame: Frame | undefined): unknown {
    const object = this.eval(node.object, frame);
    const key = this.eval(node.property, frame);
    return this.fetch(object, key, node.optional, node);
  }

  private fetch(object: unknown, key: unknown, optional: boolean, node: ExprAst): unknown {
    if (isNil(object)) {
      if (optional) return null;
      return this.fail(`cannot fetch ${formatGoValue(key)} from nil`, node);
    }
    if (isMap(object)) {
      if (typeof key !== "string") return this.fail(`cannot fetch ${typeName(key)} key from a map (keys are strings)`, node);
      return Object.hasOwn(object, key) ? object[key] : null;
    }
    if (Array.isArray(object) || typeof object === "string") {
      if (typeof key !== "number" || !Number.isInteger(key)) {
        return this.fail(`cannot fetch ${describe(key)} from ${typeName(object)} (index must be an int)`, node);
      }
      const items: readonly unknown[] = typeof object === "string" ? [...object] : object;
      const i = key < 0 ? items.length + key : key;
      if (i < 0 || i >= items.length) return this.fail(`index out of range: ${key} (${typeName(object)} length is ${items.length})`, node);
      return items[i];
    }
    return this.fail(`cannot fetch ${formatGoValue(key)} from ${typeName(object)} ${describe(object)}`, node);
  }

  private slice(node: Extract<ExprAst, { kind: "slice" }>, frame: Frame | undefined): unknown {
    const object = this.eval(node.object, frame);
    if (isNil(object) && node.optional) return null;
    if (!Array.isArray(object) && typeof object !== "string") return this.fail(`cannot slice ${typeName(object)}`, node);
    const items: readonly unknown[] = typeof object === "string" ? [...object] : object;
    const bound = (ast: ExprAst | undefined, dflt: number): number => {
      if (ast === undefined) return dflt;
      const v = this.eval(ast, frame);
      if (typeof v !== "number" || !Number.isInteger(v)) return this.fail(`slice bounds must be ints, got ${typeName(v)}`, ast);
      const i = v < 0 ? items.length + v : v;
      return Math.min(Math.max(i, 0), items.length);
    };
    const from = bound(node.from, 0);
    const to = bound(node.to, items.length);
    const part = items.slice(from, Math.max(from, to));
    return typeof object === "string" ? part.join("") : part;
  }

  private unary(node: Extract<ExprAst, { kind: "unary" }>, frame: Frame | undefined): unknown {
    const v = this.eval(node.operand, frame);
    switch (node.op) {
      case "not":
        if (typeof v !== "boolean") return this.fail(`invalid operation: not ${typeName(v)} (operand must be bool)`, node);
        return !v;
      case "-":
        if (typeof v !== "number") return this.fail(`invalid operation: -${typeName(v)} (operand must be a number)`, node);
        return -v;
      default:
        if (typeof v !== "number") return this.fail(`invalid operation: +${typeName(v)} (operand must be a number)`, node);
        return v;
    }
  }

  private binary(node: Extract<ExprAst, { kind: "binary" }>, frame: Frame | undefined): unknown {
    const op = node.op;
    // Short-circuiting operators first.
    if (op === "and" || op === "&&" || op === "or" || op === "||") {
      const left = this.eval(node.left, frame);
      if (typeof left !== "boolean") return this.fail(`invalid operation: ${op} (left operand is ${typeName(left)} ${describe(left)}, not bool)`, node);
      const isAnd = op === "and" || op === "&&";
      if (isAnd ? !left : left) return left;
      const right = this.eval(node.right, frame);
      if (typeof right !== "boolean") return this.fail(`invalid operation: ${op} (right operand is ${typeName(right)} ${describe(right)}, not bool)`, node);
      return right;
    }
    if (op === "??") {
      const left = this.evalOrNilForMissing(node.left, frame);
      return isNil(left) ? this.eval(node.right, frame) : left;
    }
    if (op === "?:") {
      const left = this.eval(node.left, frame);
      return isEmpty(left) ? this.eval(node.right, frame) : left;
    }
    const a = this.eval(node.left, frame);
    const b = this.eval(node.right, frame);
    switch (op) {
      case "==":
        return equal(a, b);
      case "!=":
        return !equal(a, b);
      case "<":
      case "<=":
      case ">":
      case ">=": {
        if (!((typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string"))) this.mismatch(op, a, b, node);
        const x = a as number | string;
        const y = b as number | string;
        return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
      }
      case "+":
        if (typeof a === "number" && typeof b === "number") return a + b;
        if (typeof a === "string" && typeof b === "string") return a + b;
        return this.mismatch(op, a, b, node);
      case "-":
      case "*":
      case "/":
      case "**":
      case "^":
        if (typeof a !== "number" || typeof b !== "number") return this.mismatch(op, a, b, node);
        return op === "-" ? a - b : op === "*" ? a * b : op === "/" ? a / b : a ** b;
      case "%":
        if (!Number.isInteger(a) || !Number.isInteger(b)) return this.mismatch(op, a, b, node);
        if (b === 0) return this.fail("integer divide by zero", node);
        return (a as number) % (b as number);
      case "..": {
        if (!Number.isInteger(a) || !Number.isInteger(b)) return this.mismatch(op, a, b, node);
        const out: number[] = [];
        if ((b as number) - (a as number) > 10_000_000) this.fail("range too large", node);
        for (let i = a as number; i <= (b as number); i++) out.push(i);
        return out;
      }
      case "in":
        if (isNil(b)) return false;
        if (Array.isArray(b)) return b.some((e) => equal(e, a));
        if (isMap(b)) {
          if (typeof a !== "string") return this.mismatch(op, a, b, node);
          return Object.hasOwn(b, a);
        }
        return this.mismatch(op, a, b, node);
      case "contains":
      case "startsWith":
      case "endsWith":
        if (typeof a !== "string" || typeof b !== "string") return this.mismatch(op, a, b, node);
        return op === "contains" ? a.includes(b) : op === "startsWith" ? a.startsWith(b) : a.endsWith(b);
      case "matches":
        if (typeof a !== "string" || typeof b !== "string") return this.mismatch(op, a, b, node);
        return this.guard(node, () => compileGoRegex(b).test(a));
      default:
        return this.fail(`unknown operator ${op}`, node);
    }
  }

  /** `a.b ?? c` must not fail when `a` is nil: the left side of `??` reads like an optional chain. */
  private evalOrNilForMissing(node: ExprAst, frame: Frame | undefined): unknown {
    if (node.kind === "member") {
      const object = this.evalOrNilForMissing(node.object, frame);
      if (isNil(object)) return null;
      return this.fetch(object, this.eval(node.property, frame), true, node);
    }
    if (node.kind === "identifier") {
      const { found, value } = this.lookup(node.name, frame);
      return found ? value : null;
    }
    return this.eval(node, frame);
  }

  private call(node: Extract<ExprAst, { kind: "call" }>, frame: Frame | undefined): unknown {
    const callee = node.callee;
    let fn: unknown;
    let name: string;
    if (callee.kind === "identifier") {
      name = callee.name;
      const { found, value } = this.lookup(name, frame);
      if (found) fn = value;
      else if (PREDICATES.has(name)) return this.predicate(name, node, frame);
      else if (BUILTINS.has(name) && !this.disabled.has(name)) fn = BUILTINS.get(name);
      else return this.fail(`unknown function ${name}`, callee);
    } else if (callee.kind === "member") {
      const object = this.eval(callee.object, frame);
      name = `${calleeName(callee.object)}.${callee.property.kind === "string" ? callee.property.value : "[…]"}`;
      if (isNil(object) && node.optional) return null;
      if (isMap(object) && callee.property.kind === "string" && !Object.hasOwn(object, callee.property.value)) {
        return this.fail(`unknown function ${name}`, callee);
      }
      fn = this.fetch(object, this.eval(callee.property, frame), node.optional, callee);
    } else {
      name = "(expression)";
      fn = this.eval(callee, frame);
    }
    if (typeof fn !== "function") {
      if (isNil(fn) && node.optional) return null;
      return this.fail(`${name} is not a function (it is ${typeName(fn)})`, callee);
    }
    // A predicate-shaped argument given to a non-predicate function (an environment function
    // shadowing `map`, say) is an ordinary expression.
    const args = node.args.map((a) => this.eval(a.kind === "closure" ? a.body : a, frame));
    return this.guard(node, () => (fn as ExprFunction)(...args));
  }

  private predicate(name: string, node: Extract<ExprAst, { kind: "call" }>, frame: Frame | undefined): unknown {
    const [collectionAst, closureAst, ...rest] = node.args;
    if (collectionAst === undefined) return this.fail(`${name}: expects an array argument`, node);
    const raw = this.eval(collectionAst, frame);
    const items: readonly unknown[] = isNil(raw) ? [] : Array.isArray(raw) ? raw : isMap(raw) ? Object.keys(raw).sort().map((k) => raw[k]) : this.fail(`${name}: cannot iterate over ${typeName(raw)}`, collectionAst);
    const body = closureAst === undefined ? undefined : closureAst.kind === "closure" ? closureAst.body : closureAst;
    const apply = (item: unknown, index: number, acc?: unknown): unknown =>
      body === undefined ? item : this.eval(body, { parent: frame, closure: { item, index, acc } });
    const test = (item: unknown, index: number): boolean => {
      const r = apply(item, index);
      if (typeof r !== "boolean") return this.fail(`${name}: the predicate must return bool, got ${typeName(r)} ${describe(r)}`, closureAst ?? node);
      return r;
    };
    const needBody = (): void => {
      if (body === undefined) this.fail(`${name}: expects a predicate as second argument`, node);
    };
    const numbers = (): number[] =>
      items.map((it, i) => {
        const v = apply(it, i);
        return typeof v === "number" ? v : this.fail(`${name}: expects numbers, got ${typeName(v)} ${describe(v)}`, node);
      });
    switch (name) {
      case "all":
        needBody();
        return items.every(test);
      case "any":
        needBody();
        return items.some(test);
      case "none":
        needBody();
        return !items.some(test);
      case "one":
        needBody();
        return items.filter(test).length === 1;
      case "filter":
        needBody();
        return items.filter(test);
      case "map":
        needBody();
        return items.map((it, i) => apply(it, i));
      case "count":
        return body === undefined
          ? items.filter((v) => (typeof v === "boolean" ? v : this.fail(`count: expects bools, got ${typeName(v)}`, node))).length
          : items.filter(test).length;
      case "find":
        needBody();
        return items.find(test) ?? null;
      case "findIndex":
        needBody();
        return items.findIndex(test);
      case "findLast":
        needBody();
        return items.findLast(test) ?? null;
      case "findLastIndex":
        needBody();
        return items.findLastIndex(test);
      case "groupBy": {
        needBody();
        const out: Record<string, unknown[]> = {};
        items.forEach((it, i) => {
          const k = apply(it, i);
          const key = typeof k === "string" ? k : formatGoValue(k);
          (out[key] ??= []).push(it);
        });
        return out;
      }
      case "sortBy": {
        needBody();
        const order = rest[0] === undefined ? "asc" : this.eval(rest[0], frame);
        if (order !== "asc" && order !== "desc") return this.fail(`sortBy: unknown order ${describe(order)}, use "asc" or "desc"`, node);
        // Older expr-lang spells the key as a field name: sortBy(users, "Age").
        const field = body?.kind === "string" ? body.value : undefined;
        const keyed = items.map((it, i) => ({ it, k: field !== undefined && isMap(it) ? it[field] : apply(it, i) }));
        const kinds = new Set(keyed.map((x) => typeof x.k));
        if (keyed.length > 0 && !(kinds.size === 1 && (kinds.has("number") || kinds.has("string")))) {
          return this.fail("sortBy: the keys must all be numbers or all strings", node);
        }
        keyed.sort((x, y) => ((x.k as number) < (y.k as number) ? -1 : (x.k as number) > (y.k as number) ? 1 : 0));
        if (order === "desc") keyed.reverse();
        return keyed.map((x) => x.it);
      }
      case "reduce": {
        needBody();
        let acc: unknown;
        let start = 0;
        if (rest[0] !== undefined) acc = this.eval(rest[0], frame);
        else {
          if (items.length === 0) return this.fail("reduce: empty array and no initial value", node);
          acc = items[0];
          start = 1;
        }
        for (let i = start; i < items.length; i++) acc = apply(items[i], i, acc);
        return acc;
      }
      case "sum":
        return numbers().reduce((s, v) => s + v, 0);
      case "mean": {
        const ns = numbers();
        return ns.length === 0 ? 0 : ns.reduce((s, v) => s + v, 0) / ns.length;
      }
      default: {
        // median
        const ns = numbers().sort((x, y) => x - y);
        if (ns.length === 0) return 0;
        const mid = Math.floor(ns.length / 2);
        return ns.length % 2 === 1 ? ns[mid]! : (ns[mid - 1]! + ns[mid]!) / 2;
      }
    }
  }
}

const PREDICATES: ReadonlySet<string> = new Set([
  "all", "any", "none", "one", "filter", "map", "count", "find", "findIndex", "findLast",
  "findLastIndex", "groupBy", "sortBy", "reduce", "sum", "mean", "median",
]);

function calleeName(node: ExprAst): string {
  if (node.kind === "identifier") return node.name;
  if (node.kind === "member" && node.property.kind === "string") return `${calleeName(node.object)}.${node.property.value}`;
  return "(expression)";
}

/**
 * Evaluates an already parsed expression against an environment (the AST of
 * {@link parseExpression}; `source` is its text, for error messages). See
 * {@link evaluateExpression}.
 *
 * @example
 * const src = "a * 2";
 * evaluateAst(parseExpression(src), src, { a: 21 }); // 42
 */
export function evaluateAst(ast: ExprAst, source: string, env: Readonly<Record<string, unknown>>, options: EvaluateOptions = {}): unknown {
  const disabled = new Set(options.disableBuiltins ?? []);
  const value = new Evaluator(source, env, disabled).eval(ast, undefined);
  return value === undefined ? null : value;
}

/**
 * Evaluates an expr-lang expression (the subset Argo uses in `{{=…}}` tags,
 * `retryStrategy.expression`, hook expressions) against an environment of nested values. Argo's
 * own functions are always in scope: `asInt`, `asFloat`, `jsonpath`, `toJson`, `fromJson`,
 * `sprig.*`, plus expr-lang's builtins (`len`, `filter`, `map`, `upper`, `toJSON` …).
 *
 * Values: nil is returned as `null`; maps are plain objects; ints and floats are both `number`.
 * The parsed AST is cached by source text.
 *
 * @throws ExpressionError with the source, the rule and the offset, for a syntax error, an
 *   unknown name or function, or a type error (`"3" > 1` is an error, as on Argo).
 * @example
 * evaluateExpression("asInt(inputs.parameters.n) + 1", { inputs: { parameters: { n: "41" } } }); // 42
 * evaluateExpression("filter([1, 2, 3], # > 1)", {}); // [2, 3]
 * evaluateExpression("sprig.upper('a')", {}); // "A"
 */
export function evaluateExpression(src: string, env: Readonly<Record<string, unknown>>, options: EvaluateOptions = {}): unknown {
  return evaluateAst(parseExpression(src), src, env, options);
}

/**
 * Evaluates an expression that must yield a boolean, as Argo's `EvalBool` does for
 * `retryStrategy.expression`, lifecycle hook `expression`s and `depends` (over an environment
 * built with {@link expandScope}).
 *
 * @throws ExpressionError when evaluation fails or the result is not a boolean.
 * @example
 * evaluateBool("asInt(lastRetry.exitCode) > 1", { lastRetry: { exitCode: "2" } }); // true
 */
export function evaluateBool(src: string, env: Readonly<Record<string, unknown>>, options: EvaluateOptions = {}): boolean {
  const value = evaluateExpression(src, env, options);
  if (typeof value !== "boolean") {
    throw expressionError(src, `the result must be a bool, got ${typeName(value)} ${describe(value)}`);
  }
  return value;
}
