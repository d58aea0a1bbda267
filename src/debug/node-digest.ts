/**
 * The digest of a node: a hash of everything that decides its result, so that a resumed run
 * takes a node over only when nothing it depends on changed, and the content-hash cache can
 * find the same computation in another run.
 *
 * What goes in:
 * - the **template** and, for Steps and DAG templates, every template they call (a change deep
 *   inside a sub-workflow changes the digest of every node that contains it). Fields that only
 *   decide where and how a pod is scheduled (retries, deadlines, resources, node selectors,
 *   metadata …) are left out;
 * - the **code** an OP template runs: its bundle's content hash when it has one, else the
 *   source hash of the OP's module (given by the caller: this module does no I/O);
 * - the values of the **workflow variables** the templates mention (`workflow.parameters.n`);
 * - the node's resolved **input parameters** (the step key, which only names the step, is left
 *   out) and its **input artifacts' checksums**.
 *
 * Pure functions: the same parts always give the same digest, on any machine.
 */
import { createHash } from "node:crypto";
import type { Template } from "../argo/model.ts";
import { KEY_PARAMETER, OPFLOW_ENV } from "../contract.ts";

/** What {@link nodeDigest} hashes. */
export interface NodeDigestParts {
  /** The digest of the node's template and what it calls ({@link TemplateDigests}). */
  readonly template: string;
  /** Resolved input parameters. */
  readonly parameters: readonly { readonly name: string; readonly value?: string }[];
  /** Input artifacts, each by a checksum of its content (or its key where the content is not at hand). */
  readonly artifacts: readonly { readonly name: string; readonly checksum: string }[];
}

/** Template fields that decide scheduling, not results: left out of digests. */
const SCHEDULING_FIELDS = new Set([
  "name",
  "metadata",
  "retryStrategy",
  "activeDeadlineSeconds",
  "timeout",
  "parallelism",
  "failFast",
  "nodeSelector",
  "tolerations",
  "affinity",
  "priorityClassName",
  "priority",
  "schedulerName",
  "serviceAccountName",
  "automountServiceAccountToken",
  "securityContext",
  "podSpecPatch",
  "memoize",
  "synchronization",
  "metrics",
  "archiveLocation",
  "hostAliases",
]);
const CONTAINER_SCHEDULING_FIELDS = new Set(["resources", "imagePullPolicy"]);

/** JSON with object keys sorted (arrays keep their order), `undefined` fields dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Environment variables that name the run and the step (contract.ts OPFLOW_ENV): left out of digests. */
const RUN_NAMING_ENV = new Set<string>(Object.values(OPFLOW_ENV));

/** A template without the fields that only decide scheduling. */
function resultFields(t: Template): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) {
    if (SCHEDULING_FIELDS.has(k)) continue;
    if ((k === "container" || k === "script") && v && typeof v === "object") {
      const c = Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([ck]) => !CONTAINER_SCHEDULING_FIELDS.has(ck)));
      // The workflow's name and the step's key that OP templates pass their OP name the run,
      // not what it computes.
      if (Array.isArray(c["env"])) c["env"] = (c["env"] as { name?: string }[]).filter((e) => !RUN_NAMING_ENV.has(e.name ?? ""));
      out[k] = c;
    } else out[k] = v;
  }
  return out;
}

/** Names of the templates a template calls (steps, DAG tasks, hooks, exit handlers). */
function calledTemplates(t: Template): string[] {
  const out: string[] = [];
  const visit = (inv: { template?: string; inline?: Template; hooks?: Record<string, { template?: string }>; onExit?: string }): void => {
    if (inv.template) out.push(inv.template);
    if (inv.onExit) out.push(inv.onExit);
    for (const h of Object.values(inv.hooks ?? {})) if (h.template) out.push(h.template);
    if (inv.inline) out.push(...calledTemplates(inv.inline));
  };
  for (const group of t.steps ?? []) for (const s of group) visit(s);
  for (const task of t.dag?.tasks ?? []) visit(task);
  return out;
}

/** What {@link TemplateDigests} needs besides the templates. */
export interface TemplateDigestOptions {
  /**
   * The code an OP template runs, as a hash: its bundle's content hash when it has one, else
   * the source hash of the OP's module; undefined for templates whose spec says it all.
   * @default no code hashes
   */
  readonly code?: (template: Template) => string | undefined;
  /**
   * Workflow-level variables by their tag name (`workflow.parameters.n`, `workflow.name` …):
   * those a template mentions go into its digest.
   * @default none
   */
  readonly globals?: Readonly<Record<string, string>>;
}

/**
 * Digests of a workflow's templates, each covering the template, the code it runs, the workflow
 * variables it mentions, and — for Steps and DAG templates — every template it calls.
 *
 * @example
 * ```ts
 * const digests = new TemplateDigests(manifest.spec.templates ?? [], { globals: { "workflow.parameters.n": "3" } });
 * const d = nodeDigest({ template: digests.of("main"), parameters: [{ name: "n", value: "3" }], artifacts: [] });
 * ```
 */
export class TemplateDigests {
  private readonly byName = new Map<string, Template>();
  private readonly memo = new Map<string, string>();

  constructor(
    templates: Iterable<Template>,
    private readonly options: TemplateDigestOptions = {},
  ) {
    for (const t of templates) this.byName.set(t.name, t);
  }

  /** The digest of the template named `name` (an unknown name digests as missing). */
  of(name: string): string {
    const known = this.memo.get(name);
    if (known) return known;
    // The closure of `name`: itself and every template reachable from it, each hashed once.
    const closure = new Map<string, Template | undefined>();
    const stack = [name];
    while (stack.length > 0) {
      const n = stack.pop() as string;
      if (closure.has(n)) continue;
      const t = this.byName.get(n);
      closure.set(n, t);
      if (t) stack.push(...calledTemplates(t));
    }
    const digest = this.digestOf(name, closure);
    this.memo.set(name, digest);
    return digest;
  }

  /** The digest of a template given inline (a step's `inline`), with what it calls. */
  ofInline(t: Template): string {
    const closure = new Map<string, Template | undefined>([["", t]]);
    const stack = calledTemplates(t);
    while (stack.length > 0) {
      const n = stack.pop() as string;
      if (closure.has(n)) continue;
      const c = this.byName.get(n);
      closure.set(n, c);
      if (c) stack.push(...calledTemplates(c));
    }
    return this.digestOf("", closure);
  }

  private digestOf(root: string, closure: Map<string, Template | undefined>): string {
    const parts: unknown[] = [];
    const names = [...closure.keys()].sort();
    const texts: string[] = [];
    for (const n of names) {
      const t = closure.get(n);
      const text = t ? canonicalJson(resultFields(t)) : null;
      if (text) texts.push(text);
      parts.push([n === root ? "" : n, text, t ? (this.options.code?.(t) ?? null) : null]);
    }
    const all = texts.join("\n");
    const globals = Object.entries(this.options.globals ?? {})
      .filter(([k]) => mentions(all, k))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return sha256(canonicalJson({ templates: parts, globals }));
  }
}

/** Whether template text refers to the variable `key` (`workflow.parameters.n` also as `workflow.parameters['n']`). */
function mentions(text: string, key: string): boolean {
  if (text.includes(key)) return true;
  const dot = key.lastIndexOf(".");
  const head = key.slice(0, dot);
  return dot > 0 && (text.includes(`${head}['${key.slice(dot + 1)}']`) || text.includes(`${head}[\\"${key.slice(dot + 1)}\\"]`));
}

/**
 * The digest of one node (hex SHA-256): its template's digest, its resolved input parameters
 * and its input artifacts' checksums. The step key ({@link KEY_PARAMETER}) is not part of it.
 *
 * @example
 * ```ts
 * nodeDigest({ template: digests.of("train"), parameters: [{ name: "epochs", value: "10" }], artifacts: [{ name: "data", checksum: "sha256:…" }] });
 * ```
 */
export function nodeDigest(parts: NodeDigestParts): string {
  const parameters = parts.parameters
    .filter((p) => p.name !== KEY_PARAMETER)
    .map((p) => [p.name, p.value ?? null])
    .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1));
  const artifacts = parts.artifacts.map((a) => [a.name, a.checksum]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1));
  return sha256(canonicalJson({ template: parts.template, parameters, artifacts }));
}
