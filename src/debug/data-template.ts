/**
 * Data templates (`data:`), as Argo's executor runs them (workflow/data/data.go,
 * workflow/executor/data.go; docs/data-sourcing-and-transformation.md): the source lists the
 * keys of an artifact location — `artifactPaths`, the only source Argo has — then each
 * `transformation` step's `expression` (expr-lang, the list in `data`) replaces the data; the
 * node's `outputs.result` is the final value as JSON.
 *
 * The local engine lists its own artifact store (the local folder, or the S3 store it was
 * given): an `s3` location's `key` is the prefix listed, recursively, as S3's `ListObjects`
 * with Argo's `ListDirectory` rules (`key/` when a key is given; "folder" objects ending in `/`
 * left out). The bucket names nothing more: the run has one store.
 */
import path from "node:path";
import { EngineError } from "../errors.ts";
import { evaluateExpression } from "./_expr.ts";

/** The `data` field of a template (after substitution). */
export interface DataSpec {
  readonly source?: { readonly artifactPaths?: Readonly<Record<string, unknown>> } & Readonly<Record<string, unknown>>;
  readonly transformation?: readonly { readonly expression?: string }[];
}

/** The artifact location kinds of Argo's `Artifact`, to name what a source uses. */
const LOCATION_KINDS = ["s3", "raw", "http", "git", "gcs", "oss", "hdfs", "azure", "artifactory", "plugin"] as const;

/** Lists the keys under a prefix of the run's artifact store. */
export interface KeyLister {
  /** Where the store is, for messages. */
  readonly location: string;
  list(prefix: string): Promise<string[]>;
}

/**
 * The prefix Argo's S3 driver lists for `key` (s3.go `ListDirectory`): everything for no key,
 * else the cleaned key and a slash.
 *
 * @example
 * listPrefix("");          // ""
 * listPrefix("logs/./a/"); // "logs/a/"
 */
export function listPrefix(key: string | undefined): string {
  if (key === undefined || key === "") return "";
  const clean = path.posix.normalize(key).replace(/\/+$/, "");
  return clean === "." ? "" : `${clean}/`;
}

/**
 * Runs a data template: sources its list, applies its transformations, returns `outputs.result`.
 *
 * @throws EngineError when the source is missing or not one the local engine can list (the
 *   message names the field and what it got), or when a transformation fails (naming its index
 *   and expression).
 * @example
 * ```ts
 * await runData({ source: { artifactPaths: { s3: { key: "logs" } } }, transformation: [{ expression: 'filter(data, {# endsWith ".log"})' }] }, store, 'template "list"');
 * // '["logs/a.log","logs/b/c.log"]'
 * ```
 */
export async function runData(spec: DataSpec | undefined, store: KeyLister, where: string): Promise<string> {
  const source = spec?.source;
  const paths = source?.artifactPaths;
  if (!source || !paths) {
    const got = source ? Object.keys(source) : [];
    throw new EngineError(`${where}: data.source: no valid source is used for data template (artifactPaths is the only source)${got.length ? `, got ${JSON.stringify(got)}` : ""}`);
  }
  const kinds = LOCATION_KINDS.filter((k) => paths[k] !== undefined);
  if (!kinds.includes("s3")) {
    throw new EngineError(
      `${where}: data.source.artifactPaths: the local engine lists only s3 locations (its artifact store, ${store.location}), got ${kinds.length ? kinds.join(", ") : "no location"}`,
    );
  }
  const s3 = paths["s3"] as { key?: unknown } | null;
  const key = s3?.key;
  if (key !== undefined && typeof key !== "string") throw new EngineError(`${where}: data.source.artifactPaths.s3.key must be a string, got ${JSON.stringify(key)}`);
  const keys = (await store.list(listPrefix(key))).filter((k) => !k.endsWith("/")).sort();
  // Go's encoding of an empty (nil) list of files is null, until an expression makes a list.
  let data: unknown = keys.length > 0 ? keys : null;
  const steps = spec.transformation ?? [];
  for (let i = 0; i < steps.length; i++) {
    const expression = steps[i]?.expression;
    if (expression === undefined || expression === "") continue;
    try {
      data = evaluateExpression(expression, { data: data ?? [] });
    } catch (err) {
      throw new EngineError(`${where}: data.transformation[${i}] '${expression}': unable to process data transformation: ${(err as Error).message}`);
    }
  }
  return JSON.stringify(data ?? null);
}
