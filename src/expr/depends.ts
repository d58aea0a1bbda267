/**
 * DAG `depends` logic (upstream workflow/common/ancestry.go and workflow/controller/dag.go;
 * docs/enhanced-depends-logic.md). A `depends` string combines task results with `&&`, `||`,
 * `!` and parentheses:
 *
 * - `A.Succeeded`, `A.Failed`, `A.Errored`, `A.Skipped`, `A.Omitted`, `A.Daemoned`;
 * - `A.AnySucceeded`, `A.AllFailed` over the children of a fanned-out task (`withItems` …);
 * - a bare `A` means `(A.Succeeded || A.Skipped || A.Daemoned)`, plus `A.Errored` / `A.Failed`
 *   when task A has `continueOn.error` / `continueOn.failed`.
 *
 * Task names are `[a-zA-Z0-9][-a-zA-Z0-9]*`, so they may contain `-`.
 */
import { expressionError } from "./lexer.ts";

/** The result of a finished task, as `depends` sees it. */
export type TaskResultPhase = "Succeeded" | "Failed" | "Errored" | "Skipped" | "Omitted" | "Daemoned";

/** What {@link evaluateDepends} needs to know about one referenced task. */
export interface DependsTaskResult {
  /** `Pending` or `Running` while the task is not finished. */
  readonly phase: TaskResultPhase | "Pending" | "Running";
  /** For a fanned-out task: the phases of its children (for `AnySucceeded`, `AllFailed`). */
  readonly fanOut?: { readonly phases: readonly TaskResultPhase[] };
  /** The task's `continueOn`: widens what a bare task name accepts. @default none */
  readonly continueOn?: { readonly failed?: boolean; readonly error?: boolean };
}

/** Every result a `depends` term may name (`A.Succeeded`, `A.AnySucceeded`, …). */
export const TASK_RESULTS = ["Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"] as const;
/** A result a `depends` term may name. */
export type TaskResultName = (typeof TASK_RESULTS)[number];
const RESULTS = TASK_RESULTS;

type DNode =
  | { readonly kind: "task"; readonly task: string; readonly result: TaskResultName | undefined; readonly pos: number }
  | { readonly kind: "not"; readonly operand: DNode }
  | { readonly kind: "and" | "or"; readonly left: DNode; readonly right: DNode };

type DToken = { readonly kind: "name"; readonly task: string; readonly result: string | undefined; readonly pos: number } | { readonly kind: "op"; readonly value: string; readonly pos: number };

function lexDepends(src: string): DToken[] {
  const tokens: DToken[] = [];
  const re = /\s+|(&&|\|\||!|\(|\))|([a-zA-Z0-9][-a-zA-Z0-9]*)(?:\.([A-Za-z]+))?/y;
  let i = 0;
  while (i < src.length) {
    re.lastIndex = i;
    const m = re.exec(src);
    if (m === null) throw expressionError(src, `unexpected character ${JSON.stringify(src[i])} in depends (use task names, .Result, &&, ||, ! and parentheses)`, i);
    if (m[1] !== undefined) tokens.push({ kind: "op", value: m[1], pos: i });
    else if (m[2] !== undefined) tokens.push({ kind: "name", task: m[2], result: m[3], pos: i });
    i = re.lastIndex;
  }
  return tokens;
}

class DependsParser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: readonly DToken[],
  ) {}

  parse(): DNode {
    if (this.tokens.length === 0) throw expressionError(this.src, "empty depends");
    const node = this.or();
    const t = this.tokens[this.i];
    if (t !== undefined) throw expressionError(this.src, `unexpected ${JSON.stringify(t.kind === "op" ? t.value : t.task)}`, t.pos);
    return node;
  }
  private peekOp(value: string): boolean {
    const t = this.tokens[this.i];
    return t !== undefined && t.kind === "op" && t.value === value;
  }
  private or(): DNode {
    let left = this.and();
    while (this.peekOp("||")) {
      this.i++;
      left = { kind: "or", left, right: this.and() };
    }
    return left;
  }
  private and(): DNode {
    let left = this.not();
    while (this.peekOp("&&")) {
      this.i++;
      left = { kind: "and", left, right: this.not() };
    }
    return left;
  }
  private not(): DNode {
    if (this.peekOp("!")) {
      this.i++;
      return { kind: "not", operand: this.not() };
    }
    return this.primary();
  }
  private primary(): DNode {
    const t = this.tokens[this.i];
    if (t === undefined) throw expressionError(this.src, "unexpected end of depends", this.src.length);
    if (t.kind === "op" && t.value === "(") {
      this.i++;
      const inner = this.or();
      if (!this.peekOp(")")) {
        const c = this.tokens[this.i];
        throw expressionError(this.src, "expected \")\"", c === undefined ? this.src.length : c.pos);
      }
      this.i++;
      return inner;
    }
    if (t.kind === "name") {
      this.i++;
      if (t.result !== undefined && !(RESULTS as readonly string[]).includes(t.result)) {
        throw expressionError(this.src, `task result '${t.result}' for task '${t.task}' is invalid (use one of ${RESULTS.join(", ")})`, t.pos);
      }
      return { kind: "task", task: t.task, result: t.result as TaskResultName | undefined, pos: t.pos };
    }
    throw expressionError(this.src, `unexpected ${JSON.stringify(t.value)}`, t.pos);
  }
}

const cache = new Map<string, { ast: DNode; tasks: string[] }>();

function parseDepends(depends: string): { ast: DNode; tasks: string[] } {
  let hit = cache.get(depends);
  if (hit === undefined) {
    const tokens = lexDepends(depends);
    const ast = new DependsParser(depends, tokens).parse();
    const tasks = [...new Set(tokens.flatMap((t) => (t.kind === "name" ? [t.task] : [])))];
    hit = { ast, tasks };
    if (cache.size > 10_000) cache.clear();
    cache.set(depends, hit);
  }
  return hit;
}

/**
 * The task names a `depends` string refers to, in order of first appearance.
 *
 * @throws ExpressionError on a syntax error or an unknown task result (`A.Done`).
 * @example
 * dependsTasks("(build-a.Succeeded || build-b) && !lint.Failed"); // ["build-a", "build-b", "lint"]
 */
export function dependsTasks(depends: string): string[] {
  return [...parseDepends(depends).tasks];
}

/** Whether a task's result satisfies one task-result term. */
function holds(result: DependsTaskResult, name: TaskResultName | undefined): boolean {
  const phase = result.phase;
  switch (name) {
    case undefined:
      return (
        phase === "Succeeded" || phase === "Skipped" || phase === "Daemoned" ||
        (phase === "Errored" && result.continueOn?.error === true) ||
        (phase === "Failed" && result.continueOn?.failed === true)
      );
    case "AnySucceeded":
      return result.fanOut !== undefined && result.fanOut.phases.some((p) => p === "Succeeded");
    case "AllFailed":
      return result.fanOut !== undefined && result.fanOut.phases.length > 0 && result.fanOut.phases.every((p) => p === "Failed");
    default:
      return phase === name;
  }
}

/** The outcome of {@link evaluateDependsDetailed}. */
export interface DependsOutcome {
  /** Every referenced task is finished (not `Pending` or `Running`), so the logic can be decided. */
  readonly ready: boolean;
  /** The logic holds; always false while not `ready`. */
  readonly execute: boolean;
}

/**
 * Evaluates `depends`, telling apart "not decidable yet" from "decided false" (Argo's
 * `proceed` and `execute`). When `ready` and not `execute`, Argo marks the task Omitted.
 *
 * @example
 * evaluateDependsDetailed("A && B", (t) => ({ phase: t === "A" ? "Succeeded" : "Running" }));
 * // { ready: false, execute: false }
 */
export function evaluateDependsDetailed(depends: string, result: (task: string) => DependsTaskResult): DependsOutcome {
  const { ast, tasks } = parseDepends(depends);
  const results = new Map<string, DependsTaskResult>();
  for (const task of tasks) {
    const r = result(task);
    if (r.phase === "Pending" || r.phase === "Running") return { ready: false, execute: false };
    results.set(task, r);
  }
  const evaluate = (node: DNode): boolean => {
    switch (node.kind) {
      case "task":
        return holds(results.get(node.task)!, node.result);
      case "not":
        return !evaluate(node.operand);
      case "and":
        return evaluate(node.left) && evaluate(node.right);
      case "or":
        return evaluate(node.left) || evaluate(node.right);
    }
  };
  return { ready: true, execute: evaluate(ast) };
}

/**
 * Evaluates a DAG task's `depends` over the results of the tasks it names. Returns false while
 * any referenced task is still `Pending` or `Running` (use {@link evaluateDependsDetailed} to
 * tell "not yet" from "never"), otherwise whether the logic holds.
 *
 * @throws ExpressionError on a syntax error or an unknown task result.
 * @example
 * evaluateDepends("A && (B.Failed || B.Errored)", (t) => ({ phase: t === "A" ? "Succeeded" : "Failed" })); // true
 * evaluateDepends("A", () => ({ phase: "Skipped" })); // true: a bare name accepts Succeeded, Skipped, Daemoned
 */
export function evaluateDepends(depends: string, result: (task: string) => DependsTaskResult): boolean {
  return evaluateDependsDetailed(depends, result).execute;
}
