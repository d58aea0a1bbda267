/**
 * Keyed reuse on Argo: Argo's `memoize` on the templates that take a step key, so that a step
 * whose key has an entry in the workflow's memoization cache (a ConfigMap) is not run — its
 * recorded outputs are taken instead. opflow writes those entries before submitting
 * ({@link memoCacheEntry}); Argo adds an entry for every keyed step that succeeds.
 *
 * The cache key is the SHA-1 of the step key, computed by Argo from the template's input
 * (`{{=sprig.sha1sum(inputs.parameters['opflow-key'])}}`): Argo accepts only keys matching
 * `^[a-zA-Z0-9][-a-zA-Z0-9]*$`, which a step key need not. Every workflow gets its own cache
 * ConfigMap (`opflow-memo-<workflow-name>`): entries never leak between workflows and a
 * ConfigMap never outgrows Kubernetes' 1 MB limit from the history of other runs.
 */
import { createHash } from "node:crypto";
import { KEY_PARAMETER } from "../contract.ts";
import { SubmitError } from "../errors.ts";
import type { Outputs, Template, Workflow, WorkflowStep } from "./model.ts";

/** Label Argo requires on a memoization ConfigMap (`workflows.argoproj.io/configmap-type: Cache`). */
export const CACHE_CONFIGMAP_LABEL = "workflows.argoproj.io/configmap-type";
/** Value of {@link CACHE_CONFIGMAP_LABEL} on a memoization ConfigMap. */
export const CACHE_CONFIGMAP_TYPE = "Cache";
/** Argo's rule for cache keys. */
const CACHE_KEY = /^[a-zA-Z0-9][-a-zA-Z0-9]*$/;
/** How long Argo trusts an entry: the memoize `maxAge` (required by v4's CRD). */
export const DEFAULT_MEMO_MAX_AGE = "720h";
const NOKEY_SUFFIX = "-nokey";

/** The memoize key expression of a keyed template: Argo evaluates it per node. */
export const MEMO_KEY_EXPRESSION = `{{=sprig.sha1sum(inputs.parameters['${KEY_PARAMETER}'])}}`;

/** The cache key Argo computes for step key `key` ({@link MEMO_KEY_EXPRESSION}). */
export function memoCacheKey(key: string): string {
  return createHash("sha1").update(key).digest("hex");
}

/** The name of the memoization ConfigMap of workflow `workflowName`. */
export function memoConfigMapName(workflowName: string): string {
  const name = `opflow-memo-${workflowName}`;
  if (name.length > 253) throw new SubmitError(`workflow "${workflowName}": name too long for its memoization ConfigMap "${name.slice(0, 40)}…" (${name.length} > 253 characters)`);
  return name;
}

/** Options of {@link memoizeKeyedTemplates}. */
export interface MemoizeOptions {
  /**
   * How long Argo trusts a cache entry (a Go duration: `"24h"`, `"90m"`).
   * @default "720h"
   */
  readonly maxAge?: string;
}

function takesKey(t: Template): boolean {
  return (t.inputs?.parameters ?? []).some((p) => p.name === KEY_PARAMETER);
}

function passesKey(step: { arguments?: WorkflowStep["arguments"] }): boolean {
  return (step.arguments?.parameters ?? []).some((p) => p.name === KEY_PARAMETER && (p.value ?? "") !== "");
}

/**
 * The manifest with `memoize` on every template that takes a step key ({@link KEY_PARAMETER}),
 * caching into the workflow's own ConfigMap. A template that already has a memoize block (its
 * author's `memoize` option) keeps it unchanged: a template has one memoize block, and the
 * author's takes precedence ({@link checkReuseTargets} refuses reuse entries it would hide). The workflow needs its final `metadata.name`
 * (reuse entries are written under it before submitting). A keyed template that some step calls
 * without a key gets an unmemoized copy (`<name>-nokey`) for those steps: all of them would
 * otherwise share the empty key, and the second would take the first one's outputs.
 *
 * @example
 * ```ts
 * const m = memoizeKeyedTemplates({ ...manifest, metadata: { name: "loop-x7k2p" } });
 * m.spec.templates.find((t) => t.name === "plus1").memoize;
 * // { key: "{{=sprig.sha1sum(inputs.parameters['opflow-key'])}}", maxAge: "720h", cache: { configMap: { name: "opflow-memo-loop-x7k2p" } } }
 * ```
 */
export function memoizeKeyedTemplates(manifest: Workflow, options: MemoizeOptions = {}): Workflow {
  const name = manifest.metadata?.name;
  if (!name) throw new SubmitError(`workflow ${JSON.stringify(manifest.metadata?.generateName ?? "")}: keyed reuse needs metadata.name (the memoization ConfigMap is named after it); set a name`);
  const maxAge = options.maxAge ?? DEFAULT_MEMO_MAX_AGE;
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(maxAge)) {
    throw new SubmitError(`workflow "${name}": memoize maxAge must be a Go duration such as "24h" or "90m", got ${JSON.stringify(maxAge)}`);
  }
  const templates = manifest.spec.templates ?? [];
  // A template's own memoize (the `memoize` option) takes precedence: it keeps its block.
  const keyed = new Set(templates.filter((t) => takesKey(t) && !hasOwnMemoize(t)).map((t) => t.name));
  if (keyed.size === 0) return manifest;
  // Keyed templates some step, task, hook or exit handler calls without a key.
  const unkeyedUse = new Set<string>();
  const note = (inv: { template?: string; arguments?: WorkflowStep["arguments"] } | undefined): void => {
    if (inv?.template && keyed.has(inv.template) && !passesKey(inv)) unkeyedUse.add(inv.template);
  };
  const noteStep = (s: WorkflowStep): void => {
    note(s);
    if (s.onExit) note({ template: s.onExit });
    for (const h of Object.values(s.hooks ?? {})) note(h);
  };
  for (const t of templates) {
    for (const group of t.steps ?? []) group.forEach(noteStep);
    t.dag?.tasks.forEach(noteStep);
  }
  for (const n of [manifest.spec.entrypoint, manifest.spec.onExit]) note(n ? { template: n } : undefined);
  for (const h of Object.values(manifest.spec.hooks ?? {})) note(h);
  const taken = new Set(templates.map((t) => t.name));
  const copyName = new Map<string, string>();
  for (const n of unkeyedUse) {
    let c = `${n.slice(0, 128 - NOKEY_SUFFIX.length)}${NOKEY_SUFFIX}`;
    for (let i = 2; taken.has(c); i++) c = `${n.slice(0, 128 - NOKEY_SUFFIX.length - String(i).length)}${NOKEY_SUFFIX}${i}`;
    taken.add(c);
    copyName.set(n, c);
  }
  const swap = (n: string | undefined): string | undefined => (n && copyName.get(n)) || n;
  const repointHooks = <H extends { template?: string; arguments?: WorkflowStep["arguments"] }>(hooks: Record<string, H> | undefined): Record<string, H> | undefined =>
    hooks && Object.fromEntries(Object.entries(hooks).map(([k, h]) => [k, passesKey(h) ? h : { ...h, template: swap(h.template) }]));
  const repoint = <S extends WorkflowStep>(s: S): S => {
    const out: S = { ...s };
    if (!passesKey(s) && s.template) out.template = swap(s.template) as string;
    if (s.onExit) out.onExit = swap(s.onExit) as string;
    if (s.hooks) out.hooks = repointHooks(s.hooks) as S["hooks"];
    return out;
  };
  const cache = { configMap: { name: memoConfigMapName(name) } };
  const out: Template[] = [];
  for (const t of templates) {
    let next: Template = t;
    if (t.steps) next = { ...next, steps: t.steps.map((g) => g.map(repoint)) };
    if (t.dag) next = { ...next, dag: { ...t.dag, tasks: t.dag.tasks.map(repoint) } };
    if (keyed.has(t.name)) {
      out.push({ ...next, memoize: { key: MEMO_KEY_EXPRESSION, maxAge, cache } });
      const copy = copyName.get(t.name);
      if (copy) out.push({ ...next, name: copy });
    } else out.push(next);
  }
  const spec = { ...manifest.spec, templates: out };
  if (spec.entrypoint) spec.entrypoint = swap(spec.entrypoint) as string;
  if (spec.onExit) spec.onExit = swap(spec.onExit) as string;
  if (spec.hooks) spec.hooks = repointHooks(spec.hooks) as typeof spec.hooks;
  return { ...manifest, spec };
}

/** Whether `t` carries a memoize block of its author's (the template option `memoize`), not the keyed one. */
export function hasOwnMemoize(t: Template): boolean {
  return t.memoize !== undefined && t.memoize.key !== MEMO_KEY_EXPRESSION;
}

/**
 * Refuses reuse entries that could never be hit: steps whose template in `manifest` carries its
 * own `memoize` (which takes precedence over the keyed one, so Argo looks their outputs up by
 * the author's key in the author's ConfigMap, not by the step key).
 *
 * @throws SubmitError naming the step, its key and the template.
 */
export function checkReuseTargets(manifest: Workflow, steps: Iterable<{ readonly key?: string; readonly displayName: string; readonly templateName?: string }>): void {
  const own = new Map((manifest.spec.templates ?? []).filter(hasOwnMemoize).map((t) => [t.name, t]));
  for (const s of steps) {
    const t = s.templateName !== undefined ? own.get(s.templateName) : undefined;
    if (t) {
      throw new SubmitError(
        `reuse: step "${s.displayName}" (key ${JSON.stringify(s.key)}) cannot be reused on Argo: its template "${t.name}" has its own memoize (key ${JSON.stringify(t.memoize?.key)}), which takes precedence over keyed reuse; drop the template's memoize option or the step from reuse`,
      );
    }
  }
}

/** One entry of a memoization ConfigMap, in Argo's format (controller/cache `Entry`). */
export interface MemoCacheEntry {
  readonly nodeID: string;
  readonly outputs: Outputs;
  readonly creationTimestamp: string;
  readonly lastHitTimestamp: string;
}

/**
 * The ConfigMap data entry (cache key and JSON text) that makes Argo take `outputs` for the
 * step keyed `key`; `nodeId` names the node they come from.
 */
export function memoCacheEntry(key: string, nodeId: string, outputs: Outputs, now: Date = new Date()): [string, string] {
  const cacheKey = memoCacheKey(key);
  if (!CACHE_KEY.test(cacheKey)) throw new SubmitError(`step "${nodeId}": cache key ${cacheKey} does not match ${CACHE_KEY}`);
  // Argo's metav1.Time: RFC 3339 to the second.
  const at = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const entry: MemoCacheEntry = { nodeID: nodeId, outputs, creationTimestamp: at, lastHitTimestamp: at };
  return [cacheKey, JSON.stringify(entry)];
}

/** A Kubernetes ConfigMap as opflow writes it. */
export interface ConfigMapObject {
  readonly apiVersion: "v1";
  readonly kind: "ConfigMap";
  readonly metadata: { name: string; namespace?: string; labels: Record<string, string>; resourceVersion?: string };
  readonly data: Record<string, string>;
}

/** A memoization ConfigMap holding `entries` (from {@link memoCacheEntry}), labelled as Argo requires. */
export function memoConfigMap(name: string, entries: Iterable<[string, string]>): ConfigMapObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { [CACHE_CONFIGMAP_LABEL]: CACHE_CONFIGMAP_TYPE } }, data: Object.fromEntries(entries) };
}
