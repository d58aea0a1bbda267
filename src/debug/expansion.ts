/**
 * Loop expansion: the items of a step's or task's `withItems` / `withParam` / `withSequence`,
 * and the children they start (named `name(index:item)`, at most {@link EXPANSION_WINDOW} at a
 * time).
 */
import type { DAGTask, Item, WorkflowStep } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import { clipText, QUOTED_VALUE_MAX_CHARS } from "./message-cap.ts";
import { itemVars, loopChildName, type Vars } from "./scope.ts";
import { Semaphore } from "./semaphore.ts";

/**
 * Most children of one withItems/withParam/withSequence expansion started at once (the rest
 * wait, without nodes yet): bounds the memory of very wide fan-outs; the leaf slots bound how
 * many actually run.
 */
export const EXPANSION_WINDOW = 512;

/**
 * Most items of one withItems / withParam / withSequence. Argo has no such number, but its
 * workflow object (every node in `status.nodes`) stops far below it; here it keeps a
 * `withSequence` of a billion items from building them all before saying anything.
 */
export const MAX_EXPANSION_ITEMS = 50_000;

function tooMany(where: string, what: string, n: number | string): EngineError {
  return new EngineError(`${where}: ${what} makes ${n} items, more than the local engine's ${MAX_EXPANSION_ITEMS} for one expansion`);
}

/** The items of a withItems / withParam / withSequence, or undefined when the step does not loop. */
export function expansionItems(step: WorkflowStep | DAGTask, where: string): Item[] | undefined {
  if (step.withItems !== undefined) {
    if (step.withItems.length > MAX_EXPANSION_ITEMS) throw tooMany(where, "withItems", step.withItems.length);
    return step.withItems;
  }
  if (step.withParam !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(step.withParam);
    } catch {
      throw new EngineError(`${where}: withParam value could not be parsed as a JSON list: ${clipText(step.withParam.trim(), QUOTED_VALUE_MAX_CHARS)}`);
    }
    if (!Array.isArray(parsed)) throw new EngineError(`${where}: withParam must be a JSON list, got ${clipText(step.withParam.trim(), QUOTED_VALUE_MAX_CHARS)}`);
    if (parsed.length > MAX_EXPANSION_ITEMS) throw tooMany(where, "withParam", parsed.length);
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
    if (count < 0) throw new EngineError(`${where}: withSequence.count must not be negative, got ${count}`);
    if (count === 0) return [];
    if (count > MAX_EXPANSION_ITEMS) throw tooMany(where, `withSequence count ${JSON.stringify(s.count)}`, count);
    end = start + count - 1;
  }
  if (end === undefined) throw new EngineError(`${where}: withSequence needs count or end`);
  if (Math.abs(end - start) + 1 > MAX_EXPANSION_ITEMS) throw tooMany(where, `withSequence from ${start} to ${end}`, Math.abs(end - start) + 1);
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
