/**
 * Argo's `{{…}}` template tags (upstream util/template): simple tags `{{inputs.parameters.x}}`
 * looked up in a flat scope of dotted names, and expression tags `{{=expr}}` evaluated as
 * expr-lang over the same scope expanded into nested maps.
 */
import { ExpressionError } from "../errors.ts";
import { evaluateAst } from "./evaluate.ts";
import { expressionError, lex, type Token } from "./lexer.ts";
import { parseExpression } from "./parser.ts";
import { goJson, isMap } from "./values.ts";

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
  const keys = Object.keys(vars).sort();
  const result: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // Sorted order puts "a.b…" right after "a" (and after "a-…", "a+…", which sort before ".").
    let shadowed = false;
    for (let j = i + 1; j < keys.length && keys[j]!.startsWith(key); j++) {
      if (keys[j]!.startsWith(key + ".")) {
        shadowed = true;
        break;
      }
    }
    if (shadowed) continue;
    const parts = key.split(".");
    let current = result;
    for (let p = 0; p < parts.length - 1; p++) {
      const part = parts[p]!;
      const next = current[part];
      if (isMap(next)) current = next as Record<string, unknown>;
      else {
        const created: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        current[part] = created;
        current = created;
      }
    }
    current[parts[parts.length - 1]!] = vars[key];
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
  let env: Record<string, unknown> | undefined;
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
        env ??= expandScope(vars);
        out += expressionTag(expression, verbatim, env, keep);
      }
    } else {
      const value = vars[tag.trim()];
      if (value !== undefined) out += value;
      else if (keep) out += verbatim;
      else throw new ExpressionError(`failed to resolve ${verbatim}: no variable named ${JSON.stringify(tag.trim())}`);
    }
    last = end + 2;
    start = text.indexOf("{{", last);
  }
  return out + text.slice(last);
}

function expressionTag(expression: string, verbatim: string, env: Record<string, unknown>, keep: boolean): string {
  let value: unknown;
  try {
    value = evaluateAst(parseExpression(expression), expression, env);
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
