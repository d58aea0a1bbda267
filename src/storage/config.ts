import { readFileSync } from "node:fs";
import path from "node:path";
import { yamlModule } from "../yaml-module.ts";
import type { ArtifactRepositoryRef, KubeObject, S3Artifact, SecretKeySelector } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";
import type { StorageClient } from "./client.ts";
import { LocalStorageClient } from "./local.ts";
import type { StorageRetryOptions } from "./retry.ts";
import { S3StorageClient } from "./s3.ts";

/** A Kubernetes secret key reference (`{ name, key }`). */
export interface SecretRef {
  /** The secret's name. */
  readonly name: string;
  /** The key inside the secret. */
  readonly key: string;
}

/** An artifact repository in a local folder (the embedded default). */
export interface LocalRepositoryConfig {
  readonly type: "local";
  /** The folder holding the objects. */
  readonly root: string;
  /**
   * Prefix of every artifact key.
   * @default no prefix
   */
  readonly keyPrefix?: string;
}

/** An S3 / MinIO artifact repository (dflow's `s3_config` in spirit). */
export interface S3RepositoryConfig {
  readonly type: "s3";
  /** `host[:port]` or `http(s)://host[:port]`. */
  readonly endpoint: string;
  /** The bucket. */
  readonly bucket: string;
  /**
   * Prefix of every artifact key (keys are `<prefix>/<workflow>/<node>/<artifact>.tgz`).
   * @default no prefix
   */
  readonly keyPrefix?: string;
  /**
   * The bucket's region.
   * @default "us-east-1"
   */
  readonly region?: string;
  /**
   * Plain HTTP instead of TLS (when `endpoint` has no scheme).
   * @default false
   */
  readonly insecure?: boolean;
  /**
   * Access key used by this process (local engine, CLI); never written to manifests.
   * @default anonymous
   */
  readonly accessKey?: string;
  /**
   * Secret key used by this process; never written to manifests.
   * @default anonymous
   */
  readonly secretKey?: string;
  /**
   * Session token of temporary credentials; never written to manifests.
   * @default none
   */
  readonly sessionToken?: string;
  /**
   * Multipart part size in bytes (at least 5 MiB).
   * @default minio's choice (64 MiB)
   */
  readonly partSize?: number;
  /**
   * Kubernetes secret holding the access key, referenced by explicit `s3` locations in
   * manifests.
   * @default { name: "opflow-s3-credentials", key: "accesskey" }
   */
  readonly accessKeySecret?: SecretRef;
  /**
   * Kubernetes secret holding the secret key, referenced by explicit `s3` locations.
   * @default { name: "opflow-s3-credentials", key: "secretkey" }
   */
  readonly secretKeySecret?: SecretRef;
  /**
   * When set, compiled workflows point at this Argo artifact repository config map
   * (`spec.artifactRepositoryRef`) instead of carrying explicit `s3` locations.
   * @default explicit locations
   */
  readonly artifactRepositoryRef?: { readonly configMap?: string; readonly key?: string };
  /**
   * How transient S3 errors are retried.
   * @default 4 attempts with 200 ms doubling backoff
   */
  readonly retry?: StorageRetryOptions;
}

/** Where artifacts are stored. */
export type ArtifactRepositoryConfig = LocalRepositoryConfig | S3RepositoryConfig;

/** The secret that explicit `s3` locations reference when none is configured. */
export const DEFAULT_CREDENTIALS_SECRET = "opflow-s3-credentials";

/** Options of {@link loadArtifactRepositoryConfig}. */
export interface LoadConfigOptions {
  /**
   * Environment to read.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A JSON or YAML config file (fields of {@link ArtifactRepositoryConfig}).
   * @default $OPFLOW_STORAGE_CONFIG, else none
   */
  readonly file?: string;
  /**
   * Folder that relative paths are resolved against.
   * @default process.cwd()
   */
  readonly cwd?: string;
}

/**
 * Reads the artifact repository configuration once, at the edge (CLI, engine start): a config
 * file (`file` or `$OPFLOW_STORAGE_CONFIG`), then environment variables that override it:
 *
 * | variable | field |
 * | --- | --- |
 * | `OPFLOW_S3_ENDPOINT` | `endpoint` (switches to S3) |
 * | `OPFLOW_S3_BUCKET` | `bucket` |
 * | `OPFLOW_S3_KEY_PREFIX` | `keyPrefix` |
 * | `OPFLOW_S3_REGION` (or `AWS_REGION`) | `region` |
 * | `OPFLOW_S3_INSECURE` (`true`/`1`) | `insecure` |
 * | `OPFLOW_S3_ACCESS_KEY` (or `AWS_ACCESS_KEY_ID`) | `accessKey` |
 * | `OPFLOW_S3_SECRET_KEY` (or `AWS_SECRET_ACCESS_KEY`) | `secretKey` |
 * | `AWS_SESSION_TOKEN` | `sessionToken` |
 * | `OPFLOW_STORAGE_DIR` | local `root` |
 *
 * Without any of them: a local repository in `opflow-runs/.storage` — the store of the local
 * engine's runs in the default workdir, so that `opflow upload`, `opflow download` and
 * `opflow run` share one store.
 *
 * @example
 * ```ts
 * const config = loadArtifactRepositoryConfig();
 * const storage = createStorageClient(config);
 * ```
 */
export function loadArtifactRepositoryConfig(options: LoadConfigOptions = {}): ArtifactRepositoryConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? nonEmpty(env.OPFLOW_STORAGE_CONFIG);
  let base: Record<string, unknown> = {};
  let source = "environment";
  if (file !== undefined) {
    const full = path.resolve(cwd, file);
    source = `file ${JSON.stringify(full)}`;
    let text: string;
    try {
      text = readFileSync(full, "utf8");
    } catch (err) {
      throw new ValidationError(`Artifact repository config: cannot read ${source}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = yamlModule().parse(text);
    } catch (err) {
      // Never the parser's own message: it quotes the offending line, which may hold a secret key.
      throw new ValidationError(`Artifact repository config (${source}): not valid YAML or JSON: ${yamlErrorWithoutText(err)}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new ValidationError(`Artifact repository config (${source}): expected a mapping of fields, got ${kindOf(parsed)}`);
    }
    base = { ...(parsed as Record<string, unknown>) };
    if (base.type === "local" && typeof base.root === "string") base.root = path.resolve(path.dirname(full), base.root);
  }
  const fromEnv: Record<string, unknown> = {};
  const set = (field: string, ...names: string[]): void => {
    for (const name of names) {
      const value = nonEmpty(env[name]);
      if (value !== undefined) {
        fromEnv[field] = value;
        return;
      }
    }
  };
  set("endpoint", "OPFLOW_S3_ENDPOINT");
  set("bucket", "OPFLOW_S3_BUCKET");
  set("keyPrefix", "OPFLOW_S3_KEY_PREFIX");
  set("region", "OPFLOW_S3_REGION", "AWS_REGION");
  set("accessKey", "OPFLOW_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID");
  set("secretKey", "OPFLOW_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY");
  set("sessionToken", "AWS_SESSION_TOKEN");
  const insecure = nonEmpty(env.OPFLOW_S3_INSECURE);
  if (insecure !== undefined) fromEnv.insecure = /^(1|true|yes|on)$/i.test(insecure);
  const storageDir = nonEmpty(env.OPFLOW_STORAGE_DIR);
  if (fromEnv.endpoint !== undefined) fromEnv.type = "s3";
  else if (storageDir !== undefined) {
    fromEnv.type = "local";
    fromEnv.root = path.resolve(cwd, storageDir);
  }
  if (file !== undefined && Object.keys(fromEnv).length > 0) source = `${source} and environment`;
  const merged: Record<string, unknown> = { ...base, ...fromEnv };
  if (merged.type === undefined) {
    // S3 credentials alone (AWS_* variables are common) do not switch away from the file's or the default type.
    merged.type = merged.endpoint !== undefined ? "s3" : "local";
  }
  // The local engine's store in its default workdir (debug/workdir.ts engineStorageRoot; a test keeps them equal).
  if (merged.type === "local" && merged.root === undefined) merged.root = path.resolve(cwd, "opflow-runs", ".storage");
  if (merged.type === "local") {
    for (const field of ["accessKey", "secretKey", "sessionToken", "region"]) delete merged[field];
  }
  return parseArtifactRepositoryConfig(merged, source);
}

const S3_FIELDS = new Set([
  "type", "endpoint", "bucket", "keyPrefix", "region", "insecure", "accessKey", "secretKey", "sessionToken",
  "partSize", "accessKeySecret", "secretKeySecret", "artifactRepositoryRef", "retry",
]);
const LOCAL_FIELDS = new Set(["type", "root", "keyPrefix"]);

/**
 * Validates a plain object as an {@link ArtifactRepositoryConfig}; errors name the source, the
 * field and the rule.
 *
 * @example
 * ```ts
 * parseArtifactRepositoryConfig({ type: "s3", endpoint: "minio:9000", bucket: "art", insecure: true });
 * ```
 */
export function parseArtifactRepositoryConfig(value: unknown, source = "value"): ArtifactRepositoryConfig {
  const where = `Artifact repository config (${source})`;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError(`${where}: expected a mapping of fields, got ${kindOf(value)}`);
  }
  const v = value as Record<string, unknown>;
  const str = (field: string, required: boolean): string | undefined => {
    const x = v[field];
    if (x === undefined && !required) return undefined;
    if (typeof x !== "string" || x === "") {
      const got = CREDENTIAL_FIELDS.has(field) ? kindOf(x) : describe(x);
      throw new ValidationError(`${where}: '${field}' must be a non-empty string, got ${got}`);
    }
    return x;
  };
  const secret = (field: string): SecretRef | undefined => {
    const x = v[field];
    if (x === undefined) return undefined;
    const ok = x !== null && typeof x === "object" && typeof (x as SecretRef).name === "string" && typeof (x as SecretRef).key === "string";
    if (!ok) throw new ValidationError(`${where}: '${field}' must be { name: string, key: string } (a Kubernetes secret key), got ${describe(x)}`);
    return { name: (x as SecretRef).name, key: (x as SecretRef).key };
  };
  const unknownField = (allowed: Set<string>): void => {
    for (const key of Object.keys(v)) {
      if (!allowed.has(key)) throw new ValidationError(`${where}: unknown field '${key}' for type ${JSON.stringify(v.type)}`);
    }
  };
  if (v.type === "local") {
    unknownField(LOCAL_FIELDS);
    const out: { type: "local"; root: string; keyPrefix?: string } = { type: "local", root: str("root", true) as string };
    const keyPrefix = str("keyPrefix", false);
    if (keyPrefix !== undefined) out.keyPrefix = checkPrefix(keyPrefix, where);
    return out;
  }
  if (v.type !== "s3") throw new ValidationError(`${where}: 'type' must be "local" or "s3", got ${describe(v.type)}`);
  unknownField(S3_FIELDS);
  const out: { -readonly [K in keyof S3RepositoryConfig]: S3RepositoryConfig[K] } = {
    type: "s3",
    endpoint: str("endpoint", true) as string,
    bucket: str("bucket", true) as string,
  };
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(out.bucket)) {
    throw new ValidationError(`${where}: 'bucket' must be 3-63 lowercase letters, digits, dots or hyphens, got ${JSON.stringify(out.bucket)}`);
  }
  const keyPrefix = str("keyPrefix", false);
  if (keyPrefix !== undefined) out.keyPrefix = checkPrefix(keyPrefix, where);
  for (const field of ["region", "accessKey", "secretKey", "sessionToken"] as const) {
    const x = str(field, false);
    if (x !== undefined) out[field] = x;
  }
  if ((out.accessKey === undefined) !== (out.secretKey === undefined)) {
    throw new ValidationError(`${where}: 'accessKey' and 'secretKey' must be given together`);
  }
  if (v.insecure !== undefined) {
    if (typeof v.insecure !== "boolean") throw new ValidationError(`${where}: 'insecure' must be a boolean, got ${describe(v.insecure)}`);
    out.insecure = v.insecure;
  }
  if (v.partSize !== undefined) {
    if (typeof v.partSize !== "number" || !Number.isInteger(v.partSize) || v.partSize < 5 * 1024 * 1024) {
      throw new ValidationError(`${where}: 'partSize' must be an integer of at least 5 MiB (5242880), got ${describe(v.partSize)}`);
    }
    out.partSize = v.partSize;
  }
  const accessKeySecret = secret("accessKeySecret");
  if (accessKeySecret) out.accessKeySecret = accessKeySecret;
  const secretKeySecret = secret("secretKeySecret");
  if (secretKeySecret) out.secretKeySecret = secretKeySecret;
  if (v.artifactRepositoryRef !== undefined) {
    const ref = v.artifactRepositoryRef as Record<string, unknown> | null;
    const ok =
      ref !== null &&
      typeof ref === "object" &&
      Object.keys(ref).every((k) => (k === "configMap" || k === "key") && typeof ref[k] === "string");
    if (!ok) throw new ValidationError(`${where}: 'artifactRepositoryRef' must be { configMap?: string, key?: string }, got ${describe(ref)}`);
    out.artifactRepositoryRef = { ...(ref as { configMap?: string; key?: string }) };
  }
  if (v.retry !== undefined) {
    const r = v.retry as Record<string, unknown> | null;
    const ok = r !== null && typeof r === "object" && Object.entries(r).every(([k, x]) => ["attempts", "baseDelayMs", "maxDelayMs"].includes(k) && typeof x === "number" && x >= 0);
    if (!ok) throw new ValidationError(`${where}: 'retry' must be { attempts?, baseDelayMs?, maxDelayMs? } of non-negative numbers, got ${describe(r)}`);
    out.retry = { ...(r as StorageRetryOptions) };
  }
  return out;
}

/**
 * The storage client for a repository config.
 *
 * @example
 * ```ts
 * const storage = createStorageClient({ type: "local", root: "/tmp/artifacts" });
 * ```
 */
export function createStorageClient(config: ArtifactRepositoryConfig): StorageClient {
  if (config.type === "local") return new LocalStorageClient({ root: config.root });
  return new S3StorageClient({
    endpoint: config.endpoint,
    bucket: config.bucket,
    ...(config.region !== undefined && { region: config.region }),
    ...(config.insecure !== undefined && { insecure: config.insecure }),
    ...(config.accessKey !== undefined && { accessKey: config.accessKey }),
    ...(config.secretKey !== undefined && { secretKey: config.secretKey }),
    ...(config.sessionToken !== undefined && { sessionToken: config.sessionToken }),
    ...(config.partSize !== undefined && { partSize: config.partSize }),
    ...(config.retry !== undefined && { retry: config.retry }),
  });
}

/**
 * The explicit Argo `s3` location of `key` in an S3 repository, for an artifact or a
 * template's `archiveLocation`. Credentials appear only as Kubernetes secret references
 * (`accessKeySecret` / `secretKeySecret`), never inline. `key` is the full key (prefix
 * included, e.g. from `artifactKey`); omit it for an `archiveLocation`.
 *
 * @example
 * ```ts
 * s3ArtifactLocation(config, "runs/wf/n1/model.tgz");
 * // { endpoint: "minio:9000", bucket: "art", insecure: true, key: "runs/wf/n1/model.tgz",
 * //   accessKeySecret: { name: "opflow-s3-credentials", key: "accesskey" }, secretKeySecret: {…} }
 * ```
 */
export function s3ArtifactLocation(config: S3RepositoryConfig, key?: string): S3Artifact {
  const endpoint = manifestEndpoint(config);
  const out: S3Artifact = { endpoint: endpoint.endpoint, bucket: config.bucket };
  if (endpoint.insecure) out.insecure = true;
  if (config.region !== undefined) out.region = config.region;
  if (key !== undefined) out.key = key;
  out.accessKeySecret = secretSelector(config.accessKeySecret ?? { name: DEFAULT_CREDENTIALS_SECRET, key: "accesskey" });
  out.secretKeySecret = secretSelector(config.secretKeySecret ?? { name: DEFAULT_CREDENTIALS_SECRET, key: "secretkey" });
  return out;
}

/** Where a compiled workflow finds its artifact repository: exactly one field is set. */
export interface ArtifactRepositoryManifest {
  /** For `spec.artifactRepositoryRef`: Argo reads the repository from a config map. */
  readonly artifactRepositoryRef?: ArtifactRepositoryRef;
  /** For a template's `archiveLocation`: an explicit `s3` location (secret references only). */
  readonly archiveLocation?: { readonly s3: S3Artifact };
}

/**
 * The manifest side of a repository config: `artifactRepositoryRef` for `spec` when the
 * config names one, else an `archiveLocation` with an explicit `s3` location for templates.
 * A local repository has no manifest form (the local engine reads it directly).
 *
 * @example
 * ```ts
 * const side = artifactRepositoryManifest(config);
 * if (side.artifactRepositoryRef) workflow.spec.artifactRepositoryRef = side.artifactRepositoryRef;
 * else template.archiveLocation = side.archiveLocation;
 * ```
 */
export function artifactRepositoryManifest(config: ArtifactRepositoryConfig): ArtifactRepositoryManifest {
  if (config.type !== "s3") {
    throw new ValidationError(`Artifact repository: a local repository (${config.root}) cannot be referenced from an Argo manifest; configure type "s3"`);
  }
  if (config.artifactRepositoryRef !== undefined) return { artifactRepositoryRef: { ...config.artifactRepositoryRef } };
  return { archiveLocation: { s3: s3ArtifactLocation(config) } };
}

/**
 * A Kubernetes ConfigMap declaring this repository for Argo (`artifactRepositoryRef`), with the
 * `keyFormat` that matches opflow's key layout; credentials as secret references only.
 *
 * @example
 * ```ts
 * const cm = artifactRepositoryConfigMap(config, { name: "artifact-repositories", key: "opflow" });
 * ```
 */
export function artifactRepositoryConfigMap(
  config: S3RepositoryConfig,
  options: { readonly name?: string; readonly key?: string; readonly namespace?: string } = {},
): KubeObject {
  const name = options.name ?? config.artifactRepositoryRef?.configMap ?? "artifact-repositories";
  const key = options.key ?? config.artifactRepositoryRef?.key ?? "opflow";
  const s3 = s3ArtifactLocation(config);
  const prefix = (config.keyPrefix ?? "").replace(/^\/+|\/+$/g, "");
  const keyFormat = prefix === "" ? "{{workflow.name}}/{{pod.name}}" : `${prefix}/{{workflow.name}}/{{pod.name}}`;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      ...(options.namespace !== undefined && { namespace: options.namespace }),
      annotations: { "workflows.argoproj.io/default-artifact-repository": key },
    },
    data: { [key]: yamlModule().stringify({ s3: { ...s3, keyFormat } }) },
  };
}

function manifestEndpoint(config: S3RepositoryConfig): { endpoint: string; insecure: boolean } {
  const m = /^(https?):\/\/([^/]+)\/?$/i.exec(config.endpoint);
  if (m) return { endpoint: m[2] as string, insecure: (m[1] as string).toLowerCase() === "http" };
  return { endpoint: config.endpoint, insecure: config.insecure ?? false };
}

function secretSelector(ref: SecretRef): SecretKeySelector {
  return { name: ref.name, key: ref.key };
}

function checkPrefix(prefix: string, where: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, "");
  if (trimmed.split("/").some((s) => s === "" || s === "." || s === "..") && trimmed !== "") {
    throw new ValidationError(`${where}: 'keyPrefix' ${JSON.stringify(prefix)} must not contain empty, '.' or '..' segments`);
  }
  return trimmed;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** Fields whose values are never quoted in a message. */
const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set(["accessKey", "secretKey", "sessionToken"]);

/** What a value is, without its content (for values that may be secrets). */
function kindOf(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/** A YAML parser error as its rule and position, without the quoted source text. */
function yamlErrorWithoutText(err: unknown): string {
  const e = err as { code?: unknown; linePos?: readonly { line: number; col: number }[]; message?: unknown };
  const rule = String(e.message ?? "")
    .split("\n")[0]!
    .replace(/ at line \d+, column \d+:?$/, "")
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, "…");
  const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
  return `${rule}${typeof e.code === "string" ? ` (${e.code})` : ""}${at}`;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `${JSON.stringify(value)} (string)`;
  if (typeof value === "object") return "an object";
  return `${String(value)} (${typeof value})`;
}
