import { StorageError } from "../errors.ts";

/** How transient storage failures are retried. */
export interface StorageRetryOptions {
  /**
   * Total number of attempts, the first included.
   * @default 4
   */
  readonly attempts?: number;
  /**
   * Delay before the second attempt, in milliseconds; doubled at each further attempt (with
   * up to 50 % random jitter added).
   * @default 200
   */
  readonly baseDelayMs?: number;
  /**
   * Upper bound of one delay, in milliseconds.
   * @default 5000
   */
  readonly maxDelayMs?: number;
}

/** Where a storage operation was aimed, for error messages. */
export interface StorageTarget {
  /** The operation, e.g. `upload`. */
  readonly operation: string;
  /** `host:port` or a local root folder. */
  readonly endpoint: string;
  /** The bucket, when there is one. */
  readonly bucket?: string;
  /** The object key. */
  readonly key?: string;
}

/** Network error codes (Node `err.code`) that are worth another attempt. */
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** S3 error codes that are worth another attempt. */
const TRANSIENT_S3_CODES = new Set([
  "InternalError",
  "ServiceUnavailable",
  "SlowDown",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "OperationAborted",
  "XMinioServerNotInitialized",
]);

/** HTTP statuses that are worth another attempt. */
const TRANSIENT_HTTP_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Whether an error thrown by a storage call is transient (a dropped connection, a busy or
 * restarting server) rather than permanent (wrong credentials, no such bucket or key).
 *
 * @example
 * ```ts
 * isTransientStorageError(Object.assign(new Error("reset"), { code: "ECONNRESET" })); // true
 * isTransientStorageError(Object.assign(new Error("denied"), { code: "AccessDenied" })); // false
 * ```
 */
export function isTransientStorageError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof StorageError) return false;
  if (err.name === "AbortError") return false;
  const fields = err as Error & { code?: unknown; statusCode?: unknown; cause?: unknown };
  const code = typeof fields.code === "string" ? fields.code : undefined;
  if (code && (TRANSIENT_NETWORK_CODES.has(code) || TRANSIENT_S3_CODES.has(code))) return true;
  const status = typeof fields.statusCode === "number" ? fields.statusCode : undefined;
  if (status !== undefined && TRANSIENT_HTTP_STATUSES.has(status)) return true;
  if (/socket hang up|Retryable HTTP status|premature close|aborted/i.test(err.message)) return true;
  if (fields.cause !== undefined && fields.cause !== err) return isTransientStorageError(fields.cause);
  return false;
}

/** Formats a target as `upload of endpoint/bucket/key`. */
function describeTarget(target: StorageTarget): string {
  const where = [target.endpoint, target.bucket, target.key].filter((p) => p !== undefined && p !== "");
  return `${target.operation} of ${where.join("/")}`;
}

/** A short human reason for a low-level error: its S3 or Node code and message. */
function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as Error & { code?: unknown }).code;
  const prefix = typeof code === "string" && !err.message.includes(code) ? `${code}: ` : "";
  return `${prefix}${err.message}`;
}

/**
 * Wraps a low-level error into a {@link StorageError} naming endpoint, bucket and key.
 * A `StorageError` passes through unchanged.
 *
 * @example
 * ```ts
 * toStorageError(err, { operation: "download", endpoint: "minio:9000", bucket: "art", key: "wf/a.tgz" });
 * // StorageError: Storage: download of minio:9000/art/wf/a.tgz failed: NoSuchKey: … (no object has this key)
 * ```
 */
export function toStorageError(err: unknown, target: StorageTarget, attempts = 1): StorageError {
  if (err instanceof StorageError) return err;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  const hint = hintFor(err);
  return new StorageError(
    `Storage: ${describeTarget(target)} failed${tries}: ${describeCause(err)}${hint}`,
    { cause: err },
  );
}

function hintFor(err: unknown): string {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  switch (code) {
    case "SignatureDoesNotMatch":
      return " (the secret key is wrong)";
    case "InvalidAccessKeyId":
      return " (the access key is unknown to the server)";
    case "AccessDenied":
      return " (the credentials are not allowed this operation)";
    case "NoSuchBucket":
      return " (the bucket does not exist)";
    case "NoSuchKey":
    case "NotFound":
      return " (no object has this key)";
    case "ECONNREFUSED":
      return " (nothing listens at the endpoint)";
    default:
      return "";
  }
}

/**
 * Runs `operation`, retrying transient failures with exponential backoff; a permanent
 * failure, or the last transient one, becomes a {@link StorageError} naming the target.
 * `operation` must be safe to run again from scratch (re-open its streams on each call).
 *
 * @example
 * ```ts
 * const stat = await withRetry(() => client.statObject("bucket", "a/b.tgz"), {
 *   operation: "stat", endpoint: "127.0.0.1:9000", bucket: "bucket", key: "a/b.tgz",
 * });
 * ```
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  target: StorageTarget,
  options: StorageRetryOptions = {},
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      if (attempt >= attempts || !isTransientStorageError(err)) throw toStorageError(err, target, attempt);
      const delay = Math.min(max, base * 2 ** (attempt - 1));
      await sleep(delay + Math.random() * delay * 0.5);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
