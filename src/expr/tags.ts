/**
 * Argo's `{{…}}` template tags (upstream util/template): simple tags `{{inputs.parameters.x}}`
 * looked up in a flat scope of dotted names, and expression tags `{{=expr}}` evaluated as
 * expr-lang over the same scope expanded into nested maps.
 */
import { ExpressionError } from "../errors.ts";
import { evaluateAst } from "./evaluate.ts";
import { expressionError, lex, type Token } from "./lexer.ts";
import { type ExprAst, parseExpression } from "./parser.ts";
import { goJson } from "./values.ts";

/** Options of {@link substituteTags}. */
export interface TagOptions {
  /**
   * What to do with a tag that cannot be resolved: a simple tag naming no variable, or an
   * expression tag that fails or yields nil. `"keep"` writes the tag back verbatim, as Argo does
   * when it substitutes in several passes (`allowUnresolved`).
   * @default "error"
   */
  readonly onMissing?: "error" | "keep";
}

/**
 * Turns a flat scope of dotted names into the nested environment expressions see, as Argo's
 * `expand.Expand`: `{"inputs.parameters.x": "1"}` becomes `{inputs: {parameters: {x: "1"}}}`.
 * When a name is also the prefix of another (`a` and `a.b`), the less specific one is dropped.
 *
 * @example
 * expandScope({ "steps.a.outputs.result": "7", item: "x" });
 * // { steps: { a: { outputs: { result: "7" } } }, item: "x" }
 */
export function expandScope(vars: Readonly<Record<string, string>>): Record<string, unknown> {
  const result: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  // Maps created here, so that a leaf never overwrites one and a map always replaces a leaf:
  // the most specific name wins whatever the key order.
  const created = new WeakSet<object>();
  for (const key in vars) {
    const value = vars[key];
    let current = result;
    let start = 0;
    for (let dot = key.indexOf("."); dot >= 0; dot = key.indexOf(".", start)) {
      const part = key.slice(start, dot);
      const next = current[part];
      if (typeof next === "object" && next !== null && created.has(next)) {
        current = next as Record<string, unknown>;
      } else {
        const map = Object.create(null) as Record<string, unknown>;
        created.add(map);
        current[part] = map;
        current = map;
      }
      start = dot + 1;
    }
    const last = key.slice(start);
    const existing = current[last];
    if (!(typeof existing === "object" && existing !== null && created.has(existing))) current[last] = value;
  }
  return result;
}

/** Variables Argo refuses to resolve early (exit handlers, retries) when they are not yet in scope. */
const LATE_VARIABLES = [
  "retries",
  "lastRetry.exitCode",
  "lastRetry.status",
  "lastRetry.duration",
  "lastRetry.message",
  "workflow.status",
  "workflow.failures",
];

function mentions(expression: string, variable: string): boolean {
  if (!expression.includes(variable)) return false;
  let tokens: Token[];
  try {
    tokens = lex(expression);
  } catch {
    return false;
  }
  const needle = lex(variable).slice(0, -1);
  outer: for (let i = 0; i + needle.length <= tokens.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (tokens[i + j]!.value !== needle[j]!.value || tokens[i + j]!.kind !== needle[j]!.kind) continue outer;
    }
    return true;
  }
  return false;
}

/**
 * Renders the value of an expression tag as Argo writes it: strings as they are, anything else
 * as Go's `json.Marshal` (`3`, `2.5`, `true`, `[1,2]`, `{"a":"b"}`).
 *
 * @example
 * renderTagValue([1, "a"]); // '[1,"a"]'
 * renderTagValue("plain"); // "plain"
 */
export function renderTagValue(value: unknown): string {
  return typeof value === "string" ? value : goJson(value);
}

/**
 * Replaces every `{{…}}` tag in `text`. A simple tag `{{ name }}` (spaces allowed) is looked up
 * in `vars`; an expression tag `{{=expr}}` is evaluated as expr-lang over
 * {@link expandScope}(vars) plus Argo's functions, and rendered with {@link renderTagValue}.
 * A tag ends at the first `}}`, as in Argo.
 *
 * @throws ExpressionError naming the tag when it cannot be resolved (unless `onMissing: "keep"`),
 *   or when a `{{` is never closed.
 * @example
 * substituteTags("hello {{inputs.parameters.who}}", { "inputs.parameters.who": "world" }); // "hello world"
 * substituteTags("{{=asInt(item) * 2}}", { item: "21" }); // "42"
 * substituteTags("{{workflow.status}}", {}, { onMissing: "keep" }); // "{{workflow.status}}"
 */
export function substituteTags(text: string, vars: Readonly<Record<string, string>>, options: TagOptions = {}): string {
  const keep = options.onMissing === "keep";
  let start = text.indexOf("{{");
  if (start < 0) return text;
  let out = "";
  let last = 0;
  while (start >= 0) {
    const end = text.indexOf("}}", start + 2);
    if (end < 0) throw new ExpressionError(`template ${JSON.stringify(text.length > 120 ? text.slice(0, 120) + "…" : text)}: unterminated tag "{{" at ${start}`);
    out += text.slice(last, start);
    const tag = text.slice(start + 2, end);
    const verbatim = text.slice(start, end + 2);
    if (tag.startsWith("=")) {
      const expression = tag.slice(1);
      if (keep && LATE_VARIABLES.some((v) => vars[v] === undefined && mentions(expression, v))) {
        out += verbatim;
      } else {
        out += expressionTag(expression, verbatim, vars, keep);
      }
    } else {
      const value = vars[tag.trim()];
      const nested = value === undefined ? nestedTag(tag, vars) : undefined;
      if (value !== undefined) out += value;
      else if (nested !== undefined) out += nested;
      else if (keep) out += verbatim;
      else throw new ExpressionError(`failed to resolve ${verbatim}: no variable named ${JSON.stringify(tag.trim())}`);
    }
    last = end + 2;
    start = text.indexOf("{{", last);
  }
  return out + text.slice(last);
}

/** The dotted paths an expression reads from its scope, or "all" when it reads `$env`. */
function readPaths(ast: ExprAst): readonly string[] | "all" {
  const cached = pathCache.get(ast);
  if (cached !== undefined) return cached;
  const paths = new Set<string>();
  let all = false;
  /** The static dotted path of a member chain rooted at an identifier, if any. */
  const chain = (node: ExprAst): string | undefined => {
    if (node.kind === "identifier") return node.name;
    if (node.kind === "member" && node.property.kind === "string") {
      const base = chain(node.object);
      return base === undefined ? undefined : `${base}.${node.property.value}`;
    }
    return undefined;
  };
  const visit = (node: ExprAst): void => {
    if (all) return;
    const path = chain(node);
    if (path !== undefined) {
      if (path === "$env" || path.startsWith("$env.")) all = true;
      paths.add(path);
      return;
    }
    switch (node.kind) {
      case "array":
        node.elements.forEach(visit);
        return;
      case "map":
        node.entries.forEach((e) => (visit(e.key), visit(e.value)));
        return;
      case "member":
        visit(node.object);
        visit(node.property);
        return;
      case "slice":
        visit(node.object);
        if (node.from) visit(node.from);
        if (node.to) visit(node.to);
        return;
      case "call":
        visit(node.callee);
        node.args.forEach(visit);
        return;
      case "closure":
        visit(node.body);
        return;
      case "unary":
        visit(node.operand);
        return;
      case "binary":
        visit(node.left);
        visit(node.right);
        return;
      case "conditional":
        visit(node.test);
        visit(node.consequent);
        visit(node.alternate);
        return;
      case "let":
        visit(node.value);
        visit(node.body);
        return;
      default:
        return;
    }
  };
  visit(ast);
  const result = all ? "all" : [...paths];
  pathCache.set(ast, result);
  return result;
}
const pathCache = new WeakMap<ExprAst, readonly string[] | "all">();

/**
 * The nested environment an expression sees: {@link expandScope} of only the names it can
 * reach, which gives the same values as expanding the whole scope (large scopes of step
 * outputs make a full expansion per tag costly).
 */
function envFor(ast: ExprAst, vars: Readonly<Record<string, string>>): Record<string, unknown> {
  const paths = readPaths(ast);
  if (paths === "all") return expandScope(vars);
  if (paths.length === 0) return {};
  const subset: Record<string, string> = {};
  const n = paths.length;
  for (const key in vars) {
    for (let i = 0; i < n; i++) {
      const path = paths[i]!;
      // key is the path, below it, or above it (then it may still lose to a more specific name).
      const shorter = key.length <= path.length ? key : path;
      const longer = shorter === key ? path : key;
      if (longer.startsWith(shorter) && (longer.length === shorter.length || longer.charCodeAt(shorter.length) === 46)) {
        subset[key] = vars[key]!;
        break;
      }
    }
  }
  // A name that is only a prefix of a read path loses against any more specific name, as in
  // the full expansion, even when that name is not reached by the expression.
  for (const key in subset) {
    if (paths.some((p) => p.startsWith(key + ".")) && !paths.some((p) => p === key || key.startsWith(p + "."))) {
      for (const other in vars) {
        if (other.startsWith(key + ".")) {
          subset[other] = vars[other]!;
          break;
        }
      }
    }
  }
  return expandScope(subset);
}

/**
 * `{{a {{b}}`: the tag ends at the first `}}`, so it reads `a {{b`; Argo then resolves the inner
 * `b` and writes `{{a ` followed by its value (upstream simpleReplace).
 */
function nestedTag(tag: string, vars: Readonly<Record<string, string>>): string | undefined {
  const index = tag.lastIndexOf("{{");
  if (index <= 0) return undefined;
  const inner = vars[tag.slice(index + 2)];
  return inner === undefined ? undefined : `{{${tag.slice(0, index)}${inner}`;
}

function expressionTag(expression: string, verbatim: string, vars: Readonly<Record<string, string>>, keep: boolean): string {
  let value: unknown;
  try {
    const ast = parseExpression(expression);
    value = evaluateAst(ast, expression, envFor(ast, vars));
  } catch (e) {
    if (keep) return verbatim;
    if (e instanceof ExpressionError) throw new ExpressionError(`failed to evaluate ${verbatim}: ${e.message}`);
    throw e;
  }
  if (value === null || value === undefined) {
    if (keep) return verbatim;
    throw expressionError(expression, `failed to evaluate ${verbatim}: the result is nil`);
  }
  try {
    return renderTagValue(value);
  } catch (e) {
    if (keep) return verbatim;
    throw new ExpressionError(`failed to evaluate ${verbatim}: ${(e as Error).message}`);
  }
}

/** Options of {@link substituteTagsDeep}. */
export interface DeepTagOptions {
  /** Keys of the top-level object left as they are (nested templates, hooks, …). @default none */
  readonly skip?: ReadonlySet<string>;
  /** Whether to leave the value under `key` as it is, at any depth. @default never */
  readonly keep?: (key: string, value: unknown) => boolean;
}

/**
 * The one walker that applies tag substitution over a manifest fragment: `substitute` is
 * applied to every string inside `value` (arrays and plain objects are walked and copied; other
 * values are kept).
 *
 * @example
 * substituteTagsDeep({ args: ["{{inputs.parameters.x}}"] }, (t) => substituteTags(t, { "inputs.parameters.x": "1" }));
 * // { args: ["1"] }
 */
export function substituteTagsDeep<T>(value: T, substitute: (text: string) => string, options: DeepTagOptions = {}): T {
  const walk = (v: unknown, top: boolean): unknown => {
    if (typeof v === "string") return substitute(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, false));
    if (typeof v === "object" && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = (top && options.skip?.has(k)) || options.keep?.(k, x) ? x : walk(x, false);
      return out;
    }
    return v;
  };
  return walk(value, true) as T;
}

