/**
 * The interface every artifact store implements: a flat namespace of keys holding bytes
 * (S3 semantics). Keys use `/` as separator and never start with `/`.
 */
export interface StorageClient {
  /** Human-readable location used in messages, e.g. `s3://host:9000/bucket` or `file:///root`. */
  readonly location: string;
  /** Uploads one local file to `key`, atomically: readers never see a partial object. */
  upload(localPath: string, key: string): Promise<void>;
  /** Downloads `key` to the local file `localPath` (parent folders are created). */
  download(key: string, localPath: string): Promise<void>;
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
