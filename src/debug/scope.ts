/**
 * Variable scopes of the local engine, as Argo resolves `{{…}}` tags: flat dotted names
 * (`inputs.parameters.x`, `steps.gen.outputs.result`, `workflow.name`) to string values, plus
 * artifacts by the same kind of names (`steps.gen.outputs.artifacts.out`).
 */
import { hostname } from "node:os";
import type { Item, NodeStatus, Template } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import { substituteTags } from "./_expr.ts";
import type { ArtifactRef } from "./artifact-io.ts";

/** Flat variables: dotted name → string value. */
export type Vars = Record<string, string>;

/** The variables and artifacts visible to one template invocation. */
export class Scope {
  /**
   * This scope's variables. Its prototype is the parent scope's (normally the live workflow
   * globals), so lookups (`vars[name]`, `for…in`) see both without copying either.
   */
  readonly vars: Vars;
  readonly artifacts: Map<string, ArtifactRef>;
  /** Outputs of skipped or omitted producers that have no default (see absent-arguments.ts). */
  readonly absent = new Set<string>();

  constructor(parent: Vars | null = null, artifacts: Map<string, ArtifactRef> = new Map()) {
    this.vars = Object.create(parent) as Vars;
    this.artifacts = artifacts;
  }

  /** Sets one variable. */
  set(name: string, value: string): void {
    this.vars[name] = value;
  }

  /** A copy to extend without touching this one (same parent). */
  child(): Scope {
    const c = new Scope(Object.getPrototypeOf(this.vars) as Vars | null, new Map(this.artifacts));
    Object.assign(c.vars, this.vars);
    for (const k of this.absent) c.absent.add(k);
    return c;
  }

  /**
   * Adds what `prefix` (`steps.X` / `tasks.X`) of a finished node exposes: id, status,
   * exitCode, startedAt/finishedAt, outputs.result, outputs.parameters.*, outputs.artifacts.*.
   */
  addNode(prefix: string, node: NodeStatus, localArtifacts?: ReadonlyMap<string, ArtifactRef>): void {
    const v = this.vars;
    v[`${prefix}.id`] = node.id;
    v[`${prefix}.status`] = node.phase;
    if (node.startedAt) v[`${prefix}.startedAt`] = node.startedAt;
    if (node.finishedAt) v[`${prefix}.finishedAt`] = node.finishedAt;
    v[`${prefix}.ip`] = "127.0.0.1";
    // The Kubernetes node a pod ran on: here, this machine.
    v[`${prefix}.hostNodeName`] = node.hostNodeName ?? hostname();
    const out = node.outputs;
    if (!out) return;
    // Argo names it `steps.x.exitCode`; `steps.x.outputs.exitCode` is not in its scope.
    if (out.exitCode !== undefined) v[`${prefix}.exitCode`] = out.exitCode;
    if (out.result !== undefined) v[`${prefix}.outputs.result`] = out.result;
    for (const p of out.parameters ?? []) if (p.value !== undefined) v[`${prefix}.outputs.parameters.${p.name}`] = p.value;
    for (const a of out.artifacts ?? []) {
      const ref = localArtifacts?.get(a.name) ?? { artifact: a };
      this.artifacts.set(`${prefix}.outputs.artifacts.${a.name}`, ref);
    }
  }

  /**
   * Adds the aggregated outputs of an expanded (withItems/withParam/withSequence) step or task:
   * `prefix.outputs.parameters` (a JSON list of maps), `prefix.outputs.parameters.<p>` (a JSON
   * list of values) and, for container/script templates, `prefix.outputs.result` (a JSON list).
   * Only succeeded children count, as in Argo (`processAggregateNodeOutputs` skips every child
   * not `Succeeded`): a failed iteration, even one let through by `continueOn`, leaves no entry,
   * so the lists are shorter than the loop and no longer line up with its items.
   */
  addAggregate(prefix: string, children: readonly NodeStatus[], tmpl: Template | undefined): void {
    const maps: Record<string, string>[] = [];
    const lists = new Map<string, string[]>();
    const results: unknown[] = [];
    for (const child of children) {
      const out = child.outputs;
      if (!out || child.phase !== "Succeeded") continue;
      if (out.parameters && out.parameters.length > 0) {
        const m: Record<string, string> = {};
        for (const p of out.parameters) {
          m[p.name] = p.value ?? "";
          let list = lists.get(p.name);
          if (!list) lists.set(p.name, (list = []));
          list.push(p.value ?? "");
        }
        maps.push(m);
      }
      if (out.result !== undefined) {
        results.push(parseJsonObject(out.result) ?? out.result);
      }
    }
    if (tmpl && (tmpl.container || tmpl.script)) this.vars[`${prefix}.outputs.result`] = JSON.stringify(results);
    this.vars[`${prefix}.outputs.parameters`] = JSON.stringify(maps);
    for (const [name, values] of lists) this.vars[`${prefix}.outputs.parameters.${name}`] = aggregatedJsonList(values);
    this.vars[`${prefix}.status`] = aggregatePhase(children);
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Argo's `aggregatedJSONValueList`: when every value parses as a JSON object or list, the
 * result is the list of those values; otherwise it is the list of the values as strings
 * (scalars included: `["1","2"]`).
 *
 * @example
 * aggregatedJsonList(["1", "2"]);             // '["1","2"]'
 * aggregatedJsonList(['{"a":1}', '{"a":2}']); // '[{"a":1},{"a":2}]'
 */
export function aggregatedJsonList(values: readonly string[]): string {
  const parsed: unknown[] = [];
  for (const value of values) {
    let v: unknown;
    try {
      v = JSON.parse(value);
    } catch {
      return JSON.stringify(values);
    }
    if (typeof v !== "object" || v === null) return JSON.stringify(values);
    parsed.push(v);
  }
  return JSON.stringify(parsed);
}

function aggregatePhase(children: readonly NodeStatus[]): string {
  if (children.some((c) => c.phase === "Error")) return "Error";
  if (children.some((c) => c.phase === "Failed")) return "Failed";
  return "Succeeded";
}

/** How `{{item}}` renders: strings as they are, everything else as JSON. */
export function itemString(item: Item): string {
  return typeof item === "string" ? item : JSON.stringify(item);
}

/** The variables an item brings: `item`, and `item.<key>` for map items. */
export function itemVars(item: Item): Vars {
  const vars: Vars = { item: itemString(item) };
  if (typeof item === "object" && item !== null && !Array.isArray(item)) {
    for (const [k, v] of Object.entries(item)) vars[`item.${k}`] = itemString(v);
  }
  return vars;
}

/**
 * The name Argo gives the expanded child `index` of `name`: `name(index:item)`. Maps render as
 * their `key:value` pairs sorted by key and joined with commas; lists as JSON.
 *
 * @example
 * loopChildName("sleep", 2, "22"); // "sleep(2:22)"
 * loopChildName("s", 0, { os: "debian", v: 1 }); // "s(0:os:debian,v:1)"
 */
export function loopChildName(name: string, index: number, item: Item): string {
  let text: string;
  if (typeof item === "object" && item !== null && !Array.isArray(item)) {
    text = Object.keys(item)
      .sort()
      .map((k) => `${k}:${itemString(item[k] as Item)}`)
      .join(",");
  } else {
    text = itemString(item);
  }
  return `${name}(${index}:${text})`;
}

/** Namespaces whose unresolved tags are errors; Argo leaves other `{{…}}` text as it is. */
const KNOWN = /^\s*(inputs|outputs|steps|tasks|workflow|item|pod|node|retries|lastRetry)\b/;

/**
 * Variables Argo sets only once the workflow ends (operator.go: duration, status, failures);
 * before that a pod sees the tag as written, as Argo substitutes pods with unresolved tags allowed.
 */
const SET_AT_END = /^\s*workflow\.(duration|status|failures)\s*$/;

/**
 * Applies `{{…}}` tags as Argo does at run time: variables of the known namespaces (`inputs.`,
 * `steps.`, `workflow.`, `item` …) must resolve; any other `{{…}}` text stays as written.
 *
 * @example
 * substituteStrict("{{inputs.parameters.x}} {{not a tag}}", { "inputs.parameters.x": "1" }); // "1 {{not a tag}}"
 * substituteStrict("{{inputs.parameters.y}}", {}); // throws: failed to resolve {{inputs.parameters.y}}
 */
export function substituteStrict(text: string, vars: Vars): string {
  if (!text.includes("{{")) return text;
  const out = substituteTags(text, vars, { onMissing: "keep" });
  if (out === text || out.includes("{{")) {
    const re = /\{\{(=?)([^}]*)\}\}/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const tag = m[0];
      if (!out.includes(tag)) continue;
      if (m[1] === "=" || (KNOWN.test(m[2] as string) && !SET_AT_END.test(m[2] as string))) {
        // Let the evaluator say precisely what is wrong.
        try {
          substituteTags(tag, vars, { onMissing: "error" });
        } catch (err) {
          // The evaluator's message may name the tag already: say it once.
          const why = (err as Error).message;
          throw new EngineError(why.startsWith(`failed to resolve ${tag}`) ? why : `failed to resolve ${tag}: ${why}`);
        }
        throw new EngineError(`failed to resolve ${tag}`);
      }
    }
  }
  return out;
}
