import { ValidationError } from "../errors.ts";
import type { ArchiveFormat } from "./archive.ts";

/**
 * Argo's default `keyFormat` of an artifact repository: one folder per workflow, one per pod
 * (the local engine uses the node id where Argo has the pod name).
 */
export const ARGO_DEFAULT_KEY_FORMAT = "{{workflow.name}}/{{pod.name}}";

/** The parts of an artifact's key. */
export interface ArtifactKeyParts {
  /**
   * The repository's key prefix (no leading or trailing `/`).
   * @default no prefix
   */
  readonly prefix?: string;
  /** The workflow's name. */
  readonly workflow: string;
  /** The node id (Argo: the pod name). */
  readonly node: string;
  /** The artifact's name. */
  readonly artifact: string;
  /**
   * The archive format: `tar` keys end with `.tgz` (`<artifact>.tgz`, as Argo); `none` keys
   * end with `fileName` (Argo uses the base name of the artifact's path).
   * @default "tar"
   */
  readonly archive?: ArchiveFormat;
  /**
   * The last segment of a `none` key.
   * @default the artifact's name
   */
  readonly fileName?: string;
}

/**
 * The storage key of a node's artifact, the same in the local engine and in compiled
 * manifests: `<prefix>/<workflow>/<node>/<artifact>.tgz` (Argo's default layout), or
 * `<prefix>/<workflow>/<node>/<fileName>` for `archive: "none"`.
 *
 * @example
 * ```ts
 * artifactKey({ prefix: "runs", workflow: "wf-x7k2", node: "wf-x7k2-1234", artifact: "model" });
 * // "runs/wf-x7k2/wf-x7k2-1234/model.tgz"
 * ```
 */
export function artifactKey(parts: ArtifactKeyParts): string {
  const archive = parts.archive ?? "tar";
  checkSegment(parts.workflow, "workflow");
  checkSegment(parts.node, "node");
  checkSegment(parts.artifact, "artifact");
  const last = archive === "tar" ? `${parts.artifact}.tgz` : parts.fileName ?? parts.artifact;
  checkSegment(last, "fileName");
  return joinKey(parts.prefix ?? "", parts.workflow, parts.node, last);
}

/**
 * The `keyFormat` to configure in an Argo artifact repository so that Argo writes the keys
 * {@link artifactKey} computes: Argo's default under the prefix.
 *
 * @example
 * ```ts
 * argoKeyFormat("runs"); // "runs/{{workflow.name}}/{{pod.name}}"
 * ```
 */
export function argoKeyFormat(prefix = ""): string {
  return joinKey(prefix, ARGO_DEFAULT_KEY_FORMAT);
}

/**
 * Joins key parts with `/`, dropping empty parts and outer slashes of each.
 *
 * @example
 * ```ts
 * joinKey("runs/", "", "/wf", "a.tgz"); // "runs/wf/a.tgz"
 * ```
 */
export function joinKey(...parts: readonly string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ""))
    .filter((p) => p !== "")
    .join("/");
}

/**
 * Checks and normalises a repository key prefix: no `..`/`.`/empty segments, no leading or
 * trailing `/` in the result ("" for none).
 *
 * @example
 * ```ts
 * normaliseKeyPrefix("/team/runs/"); // "team/runs"
 * ```
 */
export function normaliseKeyPrefix(prefix: string | undefined, what = "keyPrefix"): string {
  if (prefix === undefined) return "";
  if (typeof prefix !== "string") throw new ValidationError(`Artifact repository: '${what}' must be a string, got ${typeof prefix}`);
  const trimmed = prefix.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return "";
  for (const segment of trimmed.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new ValidationError(`Artifact repository: '${what}' ${JSON.stringify(prefix)} must not contain empty, '.' or '..' segments`);
    }
  }
  return trimmed;
}

function checkSegment(value: string, field: string): void {
  if (typeof value !== "string" || value === "" || value === "." || value === ".." || /[/\\\0]/.test(value)) {
    throw new ValidationError(`Artifact key: '${field}' must be one non-empty path segment without '/', got ${JSON.stringify(value)}`);
  }
}
