/**
 * Recursion that cannot end and branches: a template that calls itself (directly or through
 * others), more than once on some level, by calls that always happen — the first group of a Steps template or a DAG task without dependencies,
 * with no `when`, no loop, and arguments that cannot fail. Argo runs such a workflow until its
 * stack depth (100) and ends it with "Maximum recursion depth exceeded"; the local engine, which
 * runs the calls of a level side by side, would reach its node cap first (a template calling
 * itself twice makes 2^depth nodes) after growing to hundreds of megabytes. Found before the
 * first call, the run ends at once with Argo's message, in bounded memory.
 *
 * Conservative: any call that might not happen (a condition, a loop over items that may be
 * empty, an expression in an argument, a template of another WorkflowTemplate) breaks the
 * chain, and the usual depth cap then decides.
 */
import type { DAGTask, Template, WorkflowStep } from "../argo/model.ts";

/** A simple tag naming an input of the calling template (cannot fail once the caller runs). */
const INPUT_TAG = /^\{\{inputs\.parameters\.([-a-zA-Z0-9_]+)\}\}$/;

/** Whether the call `c` of `caller` to `callee` always happens, with arguments that always bind. */
function alwaysCalls(caller: Template, c: WorkflowStep | DAGTask, callee: Template | undefined): boolean {
  if (!callee || !c.template || c.templateRef || c.inline) return false;
  if (c.when !== undefined || c.withItems !== undefined || c.withParam !== undefined || c.withSequence !== undefined) return false;
  if ((callee.inputs?.artifacts?.length ?? 0) > 0 || (c.arguments?.artifacts?.length ?? 0) > 0) return false;
  const callerInputs = new Set((caller.inputs?.parameters ?? []).map((p) => p.name));
  const given = new Map((c.arguments?.parameters ?? []).map((p) => [p.name, p]));
  for (const p of c.arguments?.parameters ?? []) {
    if (p.valueFrom !== undefined || p.value === undefined) return false;
    const v = String(p.value);
    if (!v.includes("{{")) continue;
    const m = INPUT_TAG.exec(v);
    if (!m || !callerInputs.has(m[1] as string)) return false;
  }
  // Every input of the callee is given or has a value of its own.
  for (const p of callee.inputs?.parameters ?? []) {
    if (!given.has(p.name) && p.value === undefined && p.default === undefined) return false;
  }
  return true;
}

/** The calls of `t` that always happen. */
function alwaysCalled(t: Template, byName: ReadonlyMap<string, Template>): string[] {
  const out: string[] = [];
  const first = t.steps?.[0] ?? [];
  for (const s of first) if (alwaysCalls(t, s, byName.get(s.template ?? ""))) out.push(s.template as string);
  // A DAG with a target runs only what the target needs: left to the depth cap.
  for (const task of t.dag?.target === undefined ? t.dag?.tasks ?? [] : []) {
    if (task.depends !== undefined || (task.dependencies?.length ?? 0) > 0) continue;
    if (alwaysCalls(t, task, byName.get(task.template ?? ""))) out.push(task.template as string);
  }
  return out;
}

/** Finds templates whose recursion cannot end, once per template. */
export class EndlessRecursion {
  private readonly byName = new Map<string, Template>();
  private readonly memo = new Map<string, readonly string[] | undefined>();

  constructor(templates: Iterable<Template>) {
    for (const t of templates) this.byName.set(t.name, t);
  }

  /**
   * The chain of calls by which the template named `name` always calls itself again, more than
   * once on some level (`["forever", "forever"]`); undefined when its recursion may end, or
   * calls itself once per level (the depth cap then ends it, as in Argo, after 100 levels).
   */
  cycleOf(name: string): readonly string[] | undefined {
    if (this.memo.has(name)) return this.memo.get(name);
    // Depth-first over the calls that always happen, looking for `name` again.
    const seen = new Set<string>();
    const find = (at: string, trail: string[]): string[] | undefined => {
      const t = this.byName.get(at);
      if (!t) return undefined;
      for (const next of alwaysCalled(t, this.byName)) {
        if (next === name) return [...trail, next];
        if (seen.has(next)) continue;
        seen.add(next);
        const found = find(next, [...trail, next]);
        if (found) return found;
      }
      return undefined;
    };
    const cycle = find(name, [name]);
    // A chain that calls itself once per level reaches the depth cap in 100 levels, as Argo does;
    // only one that branches (a level calls back into the chain twice) grows without bound first.
    const on = new Set(cycle ?? []);
    const branches = cycle?.some((n) => alwaysCalled(this.byName.get(n) as Template, this.byName).filter((c) => on.has(c)).length > 1) ?? false;
    const endless = branches ? cycle : undefined;
    this.memo.set(name, endless);
    return endless;
  }
}
