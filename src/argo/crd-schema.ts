/**
 * Checks a manifest against the structural schema of Argo's Workflow CRD (v4.1.2, stored in
 * `schema/workflow.schema.json`; see `schema/NOTICE.md`), as `argo submit` does: unknown
 * fields are refused (Argo's CLI and server decode manifests strictly), types, enums, required
 * fields and bounds are checked. Each problem names the field path.
 */
import fs from "node:fs";

/** One node of the stored schema (a subset of OpenAPI v3 schema keywords). */
interface SchemaNode {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  readonly properties?: Readonly<Record<string, SchemaRef>>;
  readonly items?: SchemaRef;
  readonly additionalProperties?: SchemaRef | boolean;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly "x-kubernetes-int-or-string"?: boolean;
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean;
}
type SchemaRef = SchemaNode | { readonly ref: string };

interface StoredSchema {
  readonly root: SchemaRef;
  readonly defs: Readonly<Record<string, SchemaNode>>;
}

let stored: StoredSchema | undefined;
function schema(): StoredSchema {
  stored ??= JSON.parse(fs.readFileSync(new URL("./schema/workflow.schema.json", import.meta.url), "utf8")) as StoredSchema;
  return stored;
}

function resolve(s: SchemaRef): SchemaNode {
  return "ref" in s ? (schema().defs[s.ref] as SchemaNode) : s;
}

/**
 * Fields whose Go type is Argo's `AnyString`: a YAML number or boolean there is read as its
 * text (parameter values, defaults and enums), so the schema's `string` admits them.
 */
const ANY_STRING = new Set(["value", "default", "enum"]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = d[j] as number;
      d[j] = Math.min(here + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return d[b.length] as number;
}

function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 3)) ? ` (did you mean "${best}"?)` : "";
}

/** Where a path element goes: `.name` for keys, `[i]` for indices. */
function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function check(value: unknown, ref: SchemaRef, path: string, key: string | undefined, out: string[], limit: number): void {
  if (out.length >= limit) return;
  const s = resolve(ref);
  if (s["x-kubernetes-int-or-string"]) {
    if (typeof value !== "string" && !Number.isInteger(value)) out.push(`${path}: expects an integer or a string, got ${show(value)} (${typeOf(value)})`);
    return;
  }
  const t = typeOf(value);
  if (s.type) {
    const ok =
      s.type === t ||
      (s.type === "number" && t === "integer") ||
      (s.type === "string" && key !== undefined && ANY_STRING.has(key) && (t === "integer" || t === "number" || t === "boolean"));
    if (!ok) {
      out.push(`${path}: expects ${s.type === "integer" || s.type === "array" || s.type === "object" ? `an ${s.type}` : `a ${s.type}`}, got ${show(value)} (${t})`);
      return;
    }
  }
  if (s.enum && !s.enum.includes(value)) out.push(`${path}: must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${show(value)}`);
  if (typeof value === "number") {
    if (s.minimum !== undefined && value < s.minimum) out.push(`${path}: must be at least ${s.minimum}, got ${value}`);
    if (s.maximum !== undefined && value > s.maximum) out.push(`${path}: must be at most ${s.maximum}, got ${value}`);
  }
  if (typeof value === "string") {
    if (s.minLength !== undefined && value.length < s.minLength) out.push(`${path}: must have at least ${s.minLength} characters, got ${show(value)}`);
    if (s.maxLength !== undefined && value.length > s.maxLength) out.push(`${path}: must have at most ${s.maxLength} characters, got ${value.length}`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, "u").test(value)) out.push(`${path}: must match ${s.pattern}, got ${show(value)}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) out.push(`${path}: must have at least ${s.minItems} items, got ${value.length}`);
    if (s.maxItems !== undefined && value.length > s.maxItems) out.push(`${path}: must have at most ${s.maxItems} items, got ${value.length}`);
    if (s.items) value.forEach((v, i) => check(v, s.items as SchemaRef, join(path, i), key, out, limit));
    return;
  }
  if (t !== "object") return;
  const obj = value as Record<string, unknown>;
  for (const r of s.required ?? []) if (obj[r] === undefined || obj[r] === null) out.push(`${join(path, r)}: required field is missing`);
  if (s.properties) {
    const known = Object.keys(s.properties);
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const p = s.properties[k];
      if (p) {
        if (v !== null) check(v, p, join(path, k), k, out, limit);
      } else if (typeof s.additionalProperties === "object") check(v, s.additionalProperties, join(path, k), k, out, limit);
      else if (!s["x-kubernetes-preserve-unknown-fields"] && s.additionalProperties !== true) {
        out.push(`${join(path, k)}: unknown field "${k}"${suggestion(k, known)}`);
      }
    }
  } else if (typeof s.additionalProperties === "object") {
    for (const [k, v] of Object.entries(obj)) if (v !== undefined) check(v, s.additionalProperties, join(path, k), k, out, limit);
  }
}

/**
 * The problems of `manifest` against the Workflow CRD's schema, each `field.path: what is
 * wrong` (empty when there are none). Stops after `limit` problems.
 *
 * @example
 * ```ts
 * crdProblems({ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "x" },
 *   spec: { entrypoint: "m", templates: [{ name: "m", container: { image: "alpine", comand: ["ls"] } }] } });
 * // ['spec.templates[0].container.comand: unknown field "comand" (did you mean "command"?)']
 * ```
 */
export function crdProblems(manifest: unknown, limit = 20): string[] {
  const out: string[] = [];
  check(manifest, schema().root, "", undefined, out, limit);
  return out.slice(0, limit);
}
