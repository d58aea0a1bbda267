import { randomBytes } from "node:crypto";
import { ValidationError } from "../errors.ts";

/** Byte progress of one transfer, reported as data moves. */
export type ProgressCallback = (transferredBytes: number, totalBytes: number) => void;

/**
 * Options of one upload or download (added after the first version of the interface; every
 * field is optional, so older implementations still conform).
 */
export interface TransferOptions {
  /**
   * Called as bytes move, with the running total and the object's size.
   * @default no progress reports
   */
  readonly onProgress?: ProgressCallback;
  /**
   * Expected MD5 (hex) of the content; a mismatch fails the transfer with a `StorageError`
   * and leaves nothing at the destination.
   * @default the store's own checksum only
   */
  readonly expectedMd5?: string;
}

/** What an upload stored (returned by implementations that know it). */
export interface StoredObject {
  /** The object's key. */
  readonly key: string;
  /** Its size in bytes. */
  readonly size: number;
  /** The MD5 (hex) of its content. */
  readonly md5: string;
}

/**
 * The interface every artifact store implements: a flat namespace of keys holding bytes
 * (S3 semantics). Keys use `/` as separator and never start with `/`.
 *
 * Implementations in opflow: `LocalStorageClient` (`src/storage/local.ts`, a local folder,
 * the embedded default) and `S3StorageClient` (`src/storage/s3.ts`, S3 or MinIO through the
 * `minio` client).
 */
export interface StorageClient {
  /** Human-readable location used in messages, e.g. `s3://host:9000/bucket` or `file:///root`. */
  readonly location: string;
  /**
   * Uploads one local file to `key`, atomically: readers never see a partial object (the
   * content goes to a temporary key first, then is copied or renamed). Implementations may
   * return what they stored (size and MD5) so callers need not ask again.
   */
  upload(localPath: string, key: string, options?: TransferOptions): Promise<StoredObject | void>;
  /**
   * Downloads `key` to the local file `localPath` (parent folders are created). The file
   * appears only once complete and checked.
   */
  download(key: string, localPath: string, options?: TransferOptions): Promise<void>;
  /** Keys under `prefix` (recursive), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Copies an object server-side. */
  copy(srcKey: string, dstKey: string): Promise<void>;
  /** The object's MD5 (hex), or undefined when the store does not know it. */
  md5(key: string): Promise<string | undefined>;
  /** Whether `key` exists. */
  exists(key: string): Promise<boolean>;
  /** Removes `key`; no error when it is absent. */
  remove(key: string): Promise<void>;
}

const TEMPORARY_MARK = ".opflow-tmp-";
const TEMPORARY_KEY = /\.opflow-tmp-[0-9a-f]{16}$/;

/**
 * Checks that `key` is a valid storage key: not empty, no leading `/`, no empty, `.` or `..`
 * segment, no backslash or NUL, not a temporary key. Returns it unchanged.
 *
 * @example
 * ```ts
 * validateStorageKey("wf/step-1/out.tgz"); // "wf/step-1/out.tgz"
 * validateStorageKey("../etc/passwd");      // throws ValidationError
 * ```
 */
export function validateStorageKey(key: string, what = "key"): string {
  const fail = (rule: string): never => {
    throw new ValidationError(`Storage ${what} ${JSON.stringify(key)}: ${rule}`);
  };
  if (typeof key !== "string" || key.length === 0) fail("must be a non-empty string");
  if (key.length > 1024) fail("must be at most 1024 characters");
  if (key.startsWith("/")) fail("must not start with '/'");
  if (/[\\\0]/.test(key)) fail("must not contain a backslash or NUL");
  for (const segment of key.split("/")) {
    if (segment === "" && key.endsWith("/")) fail("must not end with '/'");
    if (segment === "") fail("must not contain an empty segment ('//')");
    if (segment === "." || segment === "..") fail(`must not contain a '${segment}' segment`);
  }
  if (isTemporaryKey(key)) fail(`must not end like a temporary key ('${TEMPORARY_MARK}…')`);
  return key;
}

/** A fresh temporary key beside `key`, where an upload is written before being published. */
export function temporaryKey(key: string): string {
  return `${key}${TEMPORARY_MARK}${randomBytes(8).toString("hex")}`;
}

/** Whether `key` is a temporary key made by {@link temporaryKey} (hidden from listings). */
export function isTemporaryKey(key: string): boolean {
  return TEMPORARY_KEY.test(key);
}
