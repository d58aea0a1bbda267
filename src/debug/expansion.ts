/**
 * Loop expansion: the items of a step's or task's `withItems` / `withParam` / `withSequence`,
 * and the children they start (named `name(index:item)`, at most {@link EXPANSION_WINDOW} at a
 * time).
 */
import type { DAGTask, Item, WorkflowStep } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import { itemVars, loopChildName, type Vars } from "./scope.ts";
import { Semaphore } from "./semaphore.ts";

/**
 * Most children of one withItems/withParam/withSequence expansion started at once (the rest
 * wait, without nodes yet): bounds the memory of very wide fan-outs; the leaf slots bound how
 * many actually run.
 */
export const EXPANSION_WINDOW = 512;

/** The items of a withItems / withParam / withSequence, or undefined when the step does not loop. */
export function expansionItems(step: WorkflowStep | DAGTask, where: string): Item[] | undefined {
  if (step.withItems !== undefined) return step.withItems;
  if (step.withParam !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(step.withParam);
    } catch {
      throw new EngineError(`${where}: withParam value could not be parsed as a JSON list: ${step.withParam.trim()}`);
    }
    if (!Array.isArray(parsed)) throw new EngineError(`${where}: withParam must be a JSON list, got ${step.withParam.trim()}`);
    return parsed as Item[];
  }
  if (step.withSequence) return sequenceItems(step.withSequence, where);
  return undefined;
}

/** The items of a `withSequence`. */
function sequenceItems(s: NonNullable<WorkflowStep["withSequence"]>, where: string): Item[] {
  const num = (v: string | number | undefined, field: string): number | undefined => {
    if (v === undefined || v === "") return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new EngineError(`${where}: withSequence.${field} expects an integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const count = num(s.count, "count");
  const start = num(s.start, "start") ?? 0;
  let end = num(s.end, "end");
  if (count !== undefined && end !== undefined) throw new EngineError(`${where}: withSequence takes count or end, not both`);
  const items: Item[] = [];
  const fmt = (i: number): string => (s.format ? formatSequence(s.format, i) : String(i));
  if (count !== undefined) {
    if (count === 0) return [];
    end = start + count - 1;
  }
  if (end === undefined) throw new EngineError(`${where}: withSequence needs count or end`);
  if (end >= start) for (let i = start; i <= end; i++) items.push(fmt(i));
  else for (let i = start; i >= end; i--) items.push(fmt(i));
  return items;
}

/** printf-style format of one integer (`%d`, `%02d`, `%x`, `%s` with text around). */
function formatSequence(format: string, n: number): string {
  return format.replace(/%(0?)(\d*)([dxXos])/, (_m, zero: string, width: string, verb: string) => {
    let s = verb === "x" ? n.toString(16) : verb === "X" ? n.toString(16).toUpperCase() : verb === "o" ? n.toString(8) : String(n);
    const w = Number(width || "0");
    if (s.length < w) s = (zero ? "0" : " ").repeat(w - s.length) + s;
    return s;
  });
}

/** The step or task without its loop fields (what each child runs). */
export function withoutLoop<T extends WorkflowStep | DAGTask>(step: T): T {
  const { withItems: _a, withParam: _b, withSequence: _c, ...base } = step;
  void _a, _b, _c;
  return base as T;
}

/**
 * Starts one child per item, at most {@link EXPANSION_WINDOW} at a time: `start` gets the
 * child's label (`name(index:item)`) and its item variables.
 */
export function expand<R>(name: string, items: readonly Item[], start: (label: string, item: Vars) => Promise<R>): Promise<R>[] {
  const gate = new Semaphore(EXPANSION_WINDOW);
  return items.map((item, index) => {
    const label = loopChildName(name, index, item);
    return gate.run(() => start(label, itemVars(item)));
  });
}
