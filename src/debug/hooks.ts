/**
 * Lifecycle hooks of the workflow, of steps and of tasks: expression hooks (`hooks.<name>` with
 * an `expression`, evaluated while their owner runs — Argo re-evaluates them on every
 * reconcile — each firing at most once, what has not fired evaluated again at the end) and exit
 * hooks (`onExit` / `hooks.exit`, after a step or task ran). One runner serves all three owners:
 * each describes itself as a {@link HookSite}.
 */
import type { LifecycleHook, NodeStatus, WorkflowStep } from "../argo/model.ts";
import { evaluateExpression, expandScope, substituteTags } from "./_expr.ts";
import { inherited, messageOf, NO_ARGS, type Invoker, type Place, type ResolvedArgs } from "./_context.ts";
import { resolveArgs, substituteAll, varsOf } from "./arguments.ts";
import type { Globals } from "./globals.ts";
import type { NodeBook } from "./node-book.ts";
import type { Scope, Vars } from "./scope.ts";

/** What running hooks needs of the engine. */
export interface HookEngine extends Invoker {
  readonly book: NodeBook;
  readonly globals: Globals;
}

/** The owner of hooks: what their expressions and arguments see, and where their nodes go. */
export interface HookSite {
  /** Variables of expressions and argument tags. */
  readonly vars: Vars;
  /** Scope of argument references (artifacts). */
  readonly scope: Scope;
  /** Where the node of hook `name` goes. */
  place(name: string): Place;
  /** The owner, for messages. */
  readonly where: string;
}

type Hooks = Readonly<Record<string, LifecycleHook>> | undefined;

/** Whether an entry is an expression hook (not the exit hook, with an expression and a template). */
function isExpressionHook(name: string, hook: LifecycleHook): boolean {
  return name !== "exit" && Boolean(hook.expression) && Boolean(hook.template);
}

/** Whether `hooks` hold an expression hook. */
export function hasExpressionHooks(hooks: Hooks): boolean {
  return Object.entries(hooks ?? {}).some(([k, h]) => isExpressionHook(k, h));
}

/** A hook's arguments resolved at its site, or the message saying why they cannot be. */
function hookArgs(e: HookEngine, site: HookSite, name: string, hook: LifecycleHook): ResolvedArgs | { error: string } {
  if (!hook.arguments) return NO_ARGS;
  try {
    return resolveArgs(e.globals, substituteAll(hook.arguments, site.vars, "error"), site.scope, `${site.where}: hooks.${name}`);
  } catch (err) {
    return { error: messageOf(err) };
  }
}

/**
 * Fires the expression hooks that hold now and have not fired yet (recorded in `fired`); a
 * hook whose arguments cannot be resolved gets a Skipped node that says why. `site` is made
 * only when some hook may fire. An expression that cannot be evaluated counts as false, or is
 * given to `onError` (the workflow's hooks: Argo errors the workflow).
 */
export async function fireExpressionHooks(e: HookEngine, hooks: Hooks, fired: Set<string>, site: () => HookSite, onError?: (hook: string, message: string) => void): Promise<void> {
  if (!hooks || !Object.entries(hooks).some(([k, h]) => isExpressionHook(k, h) && !fired.has(k))) return;
  const s = site();
  const runs: Promise<unknown>[] = [];
  for (const [name, hook] of Object.entries(hooks)) {
    if (!isExpressionHook(name, hook) || fired.has(name)) continue;
    let fire = false;
    try {
      const v = evaluateExpression(substituteTags(hook.expression as string, s.vars, { onMissing: "keep" }), expandScope(s.vars));
      if (onError && typeof v !== "boolean") throw new Error(`gives ${JSON.stringify(v)}, not a boolean`);
      fire = Boolean(v);
    } catch (err) {
      onError?.(name, messageOf(err));
      fire = false;
    }
    if (!fire) continue;
    fired.add(name);
    const args = hookArgs(e, s, name, hook);
    const place = s.place(name);
    runs.push("error" in args ? e.book.error(place, "Skipped", undefined, args.error) : e.invoke(place, { template: hook.template as string }, args));
  }
  await Promise.all(runs);
}

/**
 * Evaluates expression hooks while their owner runs: `evaluate` after changes of the run and
 * at least every second, until `stop`; `settled` waits for the hooks that fired.
 */
export function watchHooks(book: NodeBook, hooks: Hooks, evaluate: () => Promise<unknown> | undefined): { stop(): void; settled(): Promise<unknown> } {
  const runs: Promise<unknown>[] = [];
  const stop = hasExpressionHooks(hooks)
    ? book.whileRunning(() => {
        const run = evaluate();
        if (run) runs.push(run);
      })
    : undefined;
  return { stop: () => stop?.(), settled: () => Promise.all(runs) };
}

/** The hook site of a step or task whose node is `node`: its scope sees `steps.<name>` / `tasks.<name>`. */
function stepSite(e: HookEngine, place: Place, step: WorkflowStep, node: NodeStatus, scope: Scope, item: Vars): HookSite {
  const hookScope = scope.child();
  const prefix = place.boundaryID && e.book.nodes[place.boundaryID]?.type === "DAG" ? "tasks" : "steps";
  hookScope.addNode(`${prefix}.${step.name}`, node, e.book.artifacts.get(node.id));
  return {
    vars: varsOf(hookScope, item),
    scope: hookScope,
    where: `node "${node.name}"`,
    place: (name) => ({
      name: `${node.name}.hooks.${name}`,
      displayName: `${place.displayName}.hooks.${name}`,
      parentId: node.id,
      ...(place.boundaryID ? { boundaryID: place.boundaryID } : {}),
      semaphores: place.semaphores,
      ...inherited(place),
    }),
  };
}

/** Runs `step`'s expression hooks that hold now (while the step runs, see {@link watchHooks}). */
export function fireStepHooks(e: HookEngine, place: Place, step: WorkflowStep, node: NodeStatus, scope: Scope, item: Vars, fired: Set<string>): Promise<void> {
  return fireExpressionHooks(e, step.hooks, fired, () => stepSite(e, place, step, node, scope, item));
}

/** A step's or task's `onExit` / `hooks.exit`, then its expression hooks not fired yet, after it ran. */
export async function runStepExitHooks(e: HookEngine, place: Place, step: WorkflowStep, node: NodeStatus, scope: Scope, item: Vars, fired: Set<string>): Promise<void> {
  if (node.type === "Skipped") return;
  const exitTemplate = step.onExit ?? step.hooks?.["exit"]?.template;
  if (exitTemplate) {
    const site = stepSite(e, place, step, node, scope, item);
    const exitPlace: Place = { name: `${node.name}.onExit`, displayName: `${place.displayName}.onExit`, parentId: node.id, ...(place.boundaryID ? { boundaryID: place.boundaryID } : {}), semaphores: place.semaphores, ...inherited(place), exit: true };
    let args = step.hooks?.["exit"] ? hookArgs(e, site, "exit", step.hooks["exit"]) : NO_ARGS;
    if ("error" in args) {
      await e.book.error(exitPlace, "Skipped", undefined, args.error);
      args = NO_ARGS;
    }
    if (!e.book.at(exitPlace)) await e.invoke(exitPlace, { template: exitTemplate }, args);
  }
  await fireStepHooks(e, place, step, node, scope, item, fired);
}
