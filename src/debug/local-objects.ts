/**
 * The ConfigMaps and Secrets a workflow reads from the cluster (env `valueFrom` and `envFrom`,
 * input parameters `valueFrom.configMapKeyRef`, `secret`/`configMap` volumes), given to the local
 * engine as Kubernetes manifests in files the user points to (`opflow run --objects FILE|DIR`).
 * Secret values are never written to the state tree, logs or messages: only names and keys are.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { parseYamlDocuments } from "../argo/parse-yaml.ts";
import { EngineError } from "../errors.ts";

/** Which kind of object. */
export type ObjectKind = "ConfigMap" | "Secret";

interface Stored {
  readonly data: ReadonlyMap<string, Buffer>;
}

/** ConfigMaps and Secrets by name. */
export class LocalObjects {
  private readonly objects = new Map<string, Stored>();

  /** Objects from parsed Kubernetes manifests (other kinds are ignored). */
  constructor(documents: readonly unknown[] = []) {
    for (const d of documents) this.add(d);
  }

  private add(doc: unknown): void {
    const o = doc as { kind?: unknown; metadata?: { name?: unknown }; data?: Record<string, unknown>; stringData?: Record<string, unknown>; binaryData?: Record<string, unknown> } | null;
    if (!o || (o.kind !== "ConfigMap" && o.kind !== "Secret") || typeof o.metadata?.name !== "string") return;
    const data = new Map<string, Buffer>();
    const name = o.metadata.name;
    for (const [k, v] of Object.entries(o.data ?? {})) {
      // A Secret's data is base64 (as the API holds it); a ConfigMap's is text.
      data.set(k, o.kind === "Secret" ? Buffer.from(String(v), "base64") : Buffer.from(String(v)));
    }
    for (const [k, v] of Object.entries(o.binaryData ?? {})) data.set(k, Buffer.from(String(v), "base64"));
    if (o.kind === "Secret") for (const [k, v] of Object.entries(o.stringData ?? {})) data.set(k, Buffer.from(String(v)));
    this.objects.set(`${o.kind}/${name}`, { data });
  }

  /** Whether the object exists. */
  has(kind: ObjectKind, name: string): boolean {
    return this.objects.has(`${kind}/${name}`);
  }

  /**
   * The bytes of `key` in object `name`, or undefined when `optional` and missing.
   *
   * @throws EngineError naming the object and key (never a value) when it is missing.
   */
  get(kind: ObjectKind, name: string, key: string, optional = false): Buffer | undefined {
    const o = this.objects.get(`${kind}/${name}`);
    const value = o?.data.get(key);
    if (value !== undefined || optional) return value;
    if (!o) throw new EngineError(`${kind} "${name}" is not in the local store (give the file that defines it with opflow run --objects FILE|DIR, or objects in runWorkflow)`);
    throw new EngineError(`${kind} "${name}" has no key "${key}"`);
  }

  /** Every key and value of an object (for `envFrom` and volumes); undefined when missing and `optional`. */
  entries(kind: ObjectKind, name: string, optional = false): ReadonlyMap<string, Buffer> | undefined {
    const o = this.objects.get(`${kind}/${name}`);
    if (o || optional) return o?.data;
    throw new EngineError(`${kind} "${name}" is not in the local store (give the file that defines it with opflow run --objects FILE|DIR, or objects in runWorkflow)`);
  }
}

/**
 * Reads ConfigMaps and Secrets from YAML/JSON files, or every such file of a folder.
 *
 * @example
 * ```ts
 * const objects = await loadLocalObjects(["secrets.yaml"]);
 * await runWorkflow(manifest, { objects });
 * ```
 */
export async function loadLocalObjects(paths: readonly string[]): Promise<LocalObjects> {
  const documents: unknown[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await fs.stat(p);
    } catch {
      throw new EngineError(`objects: ${p}: no such file or folder`);
    }
    const files = info.isDirectory() ? (await fs.readdir(p)).filter((f) => /\.(ya?ml|json)$/i.test(f)).sort().map((f) => path.join(p, f)) : [p];
    for (const f of files) documents.push(...parseYamlDocuments(await fs.readFile(f, "utf8"), f));
  }
  return new LocalObjects(documents);
}

/**
 * A parameter's `valueFrom.configMapKeyRef` read from `objects`; undefined when there is none,
 * or when the ConfigMap or key is missing and a `default` (or `optional`) lets Argo go on
 * (workflow/common/util.go substituteAndGetConfigMapValue).
 *
 * @throws EngineError naming the ConfigMap and key when it is missing and nothing takes over.
 */
export function configMapParameter(valueFrom: { configMapKeyRef?: unknown; default?: string } | undefined, objects: LocalObjects | undefined, where: string): string | undefined {
  const ref = valueFrom?.configMapKeyRef as { name?: string; key?: string; optional?: boolean } | undefined;
  if (!ref) return undefined;
  const lenient = ref.optional === true || valueFrom?.default !== undefined;
  if (!objects) {
    if (lenient) return undefined;
    throw new EngineError(`${where}: valueFrom.configMapKeyRef ${ref.name}/${ref.key}: no local store of ConfigMaps was given (opflow run --objects FILE|DIR, or objects in runWorkflow)`);
  }
  try {
    return objects.get("ConfigMap", ref.name ?? "", ref.key ?? "", lenient)?.toString();
  } catch (err) {
    throw new EngineError(`${where}: valueFrom.configMapKeyRef: ${(err as Error).message}`);
  }
}
