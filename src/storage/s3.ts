import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import path from "node:path";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as Minio from "minio";
import { ValidationError } from "../errors.ts";
import {
  isTemporaryKey,
  temporaryKey,
  validateStorageKey,
  type StorageClient,
  type StoredObject,
  type TransferOptions,
} from "./client.ts";
import { toStorageError, withRetry, type StorageRetryOptions, type StorageTarget } from "./retry.ts";

/** User-metadata field holding the MD5 of an object's content (S3 etags are not MD5s for multipart objects). */
export const MD5_METADATA = "opflow-md5";

/** Options of an {@link S3StorageClient}. */
export interface S3StorageOptions {
  /**
   * The server: `host`, `host:port`, or a URL `http://host:port` / `https://host` (the
   * scheme then decides TLS).
   */
  readonly endpoint: string;
  /** The bucket holding the objects. */
  readonly bucket: string;
  /**
   * The bucket's region.
   * @default "us-east-1"
   */
  readonly region?: string;
  /**
   * Access key id.
   * @default anonymous requests
   */
  readonly accessKey?: string;
  /**
   * Secret access key.
   * @default anonymous requests
   */
  readonly secretKey?: string;
  /**
   * Session token of temporary credentials.
   * @default none
   */
  readonly sessionToken?: string;
  /**
   * Plain HTTP instead of HTTPS (ignored when `endpoint` is a URL).
   * @default false
   */
  readonly insecure?: boolean;
  /**
   * Multipart part size in bytes (at least 5 MiB); objects larger than one part are uploaded
   * in parts.
   * @default minio's choice: 64 MiB, more for objects over 640 GB
   */
  readonly partSize?: number;
  /**
   * Path-style requests (`host/bucket/key`) rather than virtual-host style.
   * @default true for IP addresses and `localhost`, minio's choice otherwise
   */
  readonly pathStyle?: boolean;
  /**
   * Largest object published by a server-side copy from a temporary key (S3's `CopyObject`
   * limit). Larger files are uploaded straight to their key in parts: S3 shows a multipart
   * object only once complete, so this is atomic too; their MD5 is computed in a first pass.
   * @default 5 GiB
   */
  readonly copyLimit?: number;
  /**
   * How transient failures are retried.
   * @default 4 attempts, 200 ms doubling backoff
   */
  readonly retry?: StorageRetryOptions;
}

interface ParsedEndpoint {
  readonly host: string;
  readonly port: number | undefined;
  readonly useSSL: boolean;
}

/**
 * Splits an endpoint string into host, port and TLS.
 *
 * @example
 * ```ts
 * parseEndpoint("http://127.0.0.1:9000"); // { host: "127.0.0.1", port: 9000, useSSL: false }
 * parseEndpoint("minio:9000", true);      // { host: "minio", port: 9000, useSSL: false }
 * ```
 */
export function parseEndpoint(endpoint: string, insecure = false): ParsedEndpoint {
  if (typeof endpoint !== "string" || endpoint.trim() === "") {
    throw new ValidationError(`S3 storage: 'endpoint' must be a non-empty host[:port] or URL, got ${JSON.stringify(endpoint)}`);
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint);
  let url: URL;
  try {
    url = new URL(withScheme ? endpoint : `${insecure ? "http" : "https"}://${endpoint}`);
  } catch {
    throw new ValidationError(`S3 storage: 'endpoint' ${JSON.stringify(endpoint)} is not a valid host[:port] or URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ValidationError(`S3 storage: 'endpoint' ${JSON.stringify(endpoint)} must use http or https, got ${url.protocol}`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "") {
    throw new ValidationError(`S3 storage: 'endpoint' ${JSON.stringify(endpoint)} must not have a path or query (put the bucket in 'bucket')`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: url.port === "" ? undefined : Number(url.port), useSSL: url.protocol === "https:" };
}

/**
 * A {@link StorageClient} over S3 or MinIO, through the `minio` client.
 *
 * - Uploads go to a temporary key beside the target and are then copied server-side to it
 *   (with the content's MD5 in the `opflow-md5` user metadata) and the temporary key removed:
 *   an interrupted upload never leaves a partial object at the target key. The etag returned
 *   by the server is checked against the MD5 computed while reading (per part for multipart).
 * - Downloads go to a temporary file, are checked against the object's MD5, then renamed.
 * - Transient errors (dropped connections, 5xx, SlowDown) are retried with backoff; the rest
 *   become a `StorageError` naming endpoint, bucket and key.
 * - Files over `copyLimit` (5 GiB, S3's `CopyObject` limit) are uploaded straight to their key
 *   in parts instead: S3 shows a multipart object only once it is completed, so they are
 *   atomic as well. `copy()` is a single `CopyObject`, so it is limited to 5 GiB objects.
 *
 * @example
 * ```ts
 * const storage = new S3StorageClient({
 *   endpoint: "http://127.0.0.1:9000", bucket: "artifacts",
 *   accessKey: process.env.AWS_ACCESS_KEY_ID, secretKey: process.env.AWS_SECRET_ACCESS_KEY,
 * });
 * await storage.ensureBucket();
 * await storage.upload("model.bin", "wf/train/model.bin");
 * ```
 */
export class S3StorageClient implements StorageClient {
  readonly location: string;
  /** The bucket. */
  readonly bucket: string;
  /** `host:port` of the server, as used in messages. */
  readonly endpoint: string;
  private readonly clientOptions: Minio.ClientOptions;
  /** The minio library and client, loaded on first use (`minio` costs ~80 MB and a second to load). */
  private loaded: Promise<{ lib: typeof Minio; client: Minio.Client }> | undefined;
  private readonly retry: StorageRetryOptions;
  private readonly region: string;
  private readonly copyLimit: number;

  constructor(options: S3StorageOptions) {
    if (!options || typeof options.bucket !== "string" || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new ValidationError(
        `S3 storage: 'bucket' must be 3-63 lowercase letters, digits, dots or hyphens, got ${JSON.stringify(options?.bucket)}`,
      );
    }
    if (options.partSize !== undefined && (!Number.isInteger(options.partSize) || options.partSize < 5 * 1024 * 1024)) {
      throw new ValidationError(`S3 storage: 'partSize' must be an integer of at least 5 MiB (5242880), got ${options.partSize}`);
    }
    if ((options.accessKey === undefined) !== (options.secretKey === undefined)) {
      throw new ValidationError(`S3 storage: 'accessKey' and 'secretKey' must be given together`);
    }
    const parsed = parseEndpoint(options.endpoint, options.insecure ?? false);
    const ipOrLocal = /^(\d+\.\d+\.\d+\.\d+|localhost|.*:.*)$/.test(parsed.host);
    this.bucket = options.bucket;
    this.region = options.region ?? "us-east-1";
    this.endpoint = parsed.port === undefined ? parsed.host : `${parsed.host}:${parsed.port}`;
    this.location = `s3://${this.endpoint}/${this.bucket}`;
    this.retry = options.retry ?? {};
    this.copyLimit = options.copyLimit ?? 5 * 1024 ** 3;
    const clientOptions: Minio.ClientOptions = {
      endPoint: parsed.host,
      useSSL: parsed.useSSL,
      region: this.region,
      retryOptions: { disableRetry: true },
      pathStyle: options.pathStyle ?? (ipOrLocal ? true : undefined),
    };
    if (parsed.port !== undefined) clientOptions.port = parsed.port;
    if (options.accessKey !== undefined) clientOptions.accessKey = options.accessKey;
    if (options.secretKey !== undefined) clientOptions.secretKey = options.secretKey;
    if (options.sessionToken !== undefined) clientOptions.sessionToken = options.sessionToken;
    if (options.partSize !== undefined) clientOptions.partSize = options.partSize;
    this.clientOptions = clientOptions;
  }

  /** The underlying minio client (for operations outside {@link StorageClient}); `minio` is loaded on first use. */
  async minioClient(): Promise<Minio.Client> {
    return (await this.minio()).client;
  }

  private minio(): Promise<{ lib: typeof Minio; client: Minio.Client }> {
    this.loaded ??= import("minio").then((lib) => ({ lib, client: new lib.Client(this.clientOptions) }));
    return this.loaded;
  }

  /** Creates the bucket when it does not exist yet. */
  async ensureBucket(): Promise<void> {
    const target = this.target("create bucket");
    const exists = await withRetry(async () => (await this.minioClient()).bucketExists(this.bucket), target, this.retry);
    if (!exists) await withRetry(async () => (await this.minioClient()).makeBucket(this.bucket, this.region), target, this.retry);
  }

  async upload(localPath: string, key: string, options: TransferOptions = {}): Promise<StoredObject> {
    validateStorageKey(key);
    const target = this.target("upload", key);
    const size = await withRetry(async () => {
      const info = await stat(localPath);
      if (!info.isFile()) throw new Error(`${localPath} is not a regular file`);
      return info.size;
    }, target, { attempts: 1 });
    const partSize = (await this.minioClient()).calculatePartSize(size);
    if (size > this.copyLimit) return this.uploadDirect(localPath, key, size, partSize, options);
    const temporaries: string[] = [];
    try {
      const { md5, tmp } = await withRetry(async () => {
        const tmp = temporaryKey(key);
        temporaries.push(tmp);
        const meter = new DigestMeter(partSize, size, options.onProgress);
        const source = createReadStream(localPath);
        const body = source.pipe(meter);
        source.on("error", (err) => meter.destroy(err));
        try {
          const result = await (await this.minioClient()).putObject(this.bucket, tmp, body, size, {
            "Content-Type": "application/octet-stream",
          });
          const md5 = meter.md5();
          checkEtag(result.etag, meter, size > partSize);
          return { md5, tmp };
        } finally {
          source.destroy();
        }
      }, target, this.retry);
      if (options.expectedMd5 !== undefined && options.expectedMd5.toLowerCase() !== md5) {
        throw Object.assign(new Error(`MD5 mismatch: expected ${options.expectedMd5}, the file has ${md5}`), { code: "BadDigest" });
      }
      await withRetry(() => this.copyWithMd5(tmp, key, md5), target, this.retry);
      return { key, size, md5 };
    } catch (err) {
      throw toStorageError(await this.abortUploads(err, temporaries), target);
    } finally {
      if (temporaries.length > 0) await this.removeQuietly(temporaries);
    }
  }

  /** Uploads a file too large for a server-side copy straight to its key, in parts. */
  private async uploadDirect(localPath: string, key: string, size: number, partSize: number, options: TransferOptions): Promise<StoredObject> {
    const target = this.target("upload", key);
    const md5 = await withRetry(async () => {
      const hash = createHash("md5");
      await pipeline(createReadStream(localPath), hash);
      return hash.digest("hex");
    }, target, { attempts: 1 });
    if (options.expectedMd5 !== undefined && options.expectedMd5.toLowerCase() !== md5) {
      throw toStorageError(Object.assign(new Error(`MD5 mismatch: expected ${options.expectedMd5}, the file has ${md5}`), { code: "BadDigest" }), target);
    }
    await withRetry(async () => {
      const meter = new DigestMeter(partSize, size, options.onProgress);
      const source = createReadStream(localPath);
      source.on("error", (err) => meter.destroy(err));
      try {
        const result = await (await this.minioClient()).putObject(this.bucket, key, source.pipe(meter), size, {
          "Content-Type": "application/octet-stream",
          [MD5_METADATA]: md5,
        });
        checkEtag(result.etag, meter, size > partSize);
        if (meter.md5() !== md5) {
          await this.removeQuietly([key]);
          throw Object.assign(new Error(`${localPath} changed while it was uploaded (MD5 ${md5}, then ${meter.md5()})`), { code: "BadDigest" });
        }
      } catch (err) {
        await this.abortUploads(err, [key]);
        throw err;
      } finally {
        source.destroy();
      }
    }, target, this.retry);
    return { key, size, md5 };
  }

  async download(key: string, localPath: string, options: TransferOptions = {}): Promise<void> {
    validateStorageKey(key);
    const target = this.target("download", key);
    const file = path.resolve(localPath);
    await withRetry(async () => {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = temporaryKey(file);
      try {
        // One GET: size, etag and metadata come from the response headers.
        const stream = (await (await this.minioClient()).getObject(this.bucket, key)) as Readable & { headers?: IncomingHttpHeaders };
        const headers = stream.headers ?? {};
        const size = Number(headers["content-length"] ?? Number.NaN);
        const meta = headers[`x-amz-meta-${MD5_METADATA}`];
        const etag = typeof headers.etag === "string" ? headers.etag : "";
        const expected = options.expectedMd5?.toLowerCase() ?? md5Of({ [MD5_METADATA]: meta }, etag);
        const meter = new DigestMeter(Number.MAX_SAFE_INTEGER, Number.isFinite(size) ? size : 0, options.onProgress);
        await pipeline(stream, meter, createWriteStream(tmp));
        if (Number.isFinite(size) && meter.bytes !== size) {
          throw Object.assign(new Error(`short read: got ${meter.bytes} of ${size} bytes`), { code: "ECONNRESET" });
        }
        const md5 = meter.md5();
        if (expected !== undefined && md5 !== expected) {
          throw Object.assign(new Error(`MD5 mismatch: expected ${expected}, downloaded data has ${md5}`), { code: "BadDigest" });
        }
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }, target, this.retry);
  }

  async list(prefix: string): Promise<string[]> {
    const target = this.target("list", prefix);
    const keys = await withRetry(
      async () => {
        const client = await this.minioClient();
        return new Promise<string[]>((resolve, reject) => {
          const out: string[] = [];
          const stream = client.listObjectsV2(this.bucket, prefix, true);
          stream.on("data", (item) => {
            if (item.name !== undefined) out.push(item.name);
          });
          stream.on("error", reject);
          stream.on("end", () => resolve(out));
        });
      },
      target,
      this.retry,
    );
    return keys.filter((k) => k.startsWith(prefix) && !isTemporaryKey(k)).sort();
  }

  async copy(srcKey: string, dstKey: string): Promise<void> {
    validateStorageKey(srcKey);
    validateStorageKey(dstKey);
    const target = this.target("copy", `${srcKey} -> ${dstKey}`);
    await withRetry(async () => {
      const { lib, client } = await this.minio();
      const source = new lib.CopySourceOptions({ Bucket: this.bucket, Object: srcKey });
      const destination = new lib.CopyDestinationOptions({ Bucket: this.bucket, Object: dstKey });
      await client.copyObject(source, destination);
    }, target, this.retry);
  }

  async md5(key: string): Promise<string | undefined> {
    validateStorageKey(key);
    const info = await withRetry(async () => (await this.minioClient()).statObject(this.bucket, key), this.target("md5", key), this.retry);
    return md5Of(info.metaData, info.etag);
  }

  async exists(key: string): Promise<boolean> {
    validateStorageKey(key);
    return withRetry(async () => {
      try {
        await (await this.minioClient()).statObject(this.bucket, key);
        return true;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === "NotFound" || code === "NoSuchKey") return false;
        throw err;
      }
    }, this.target("exists", key), this.retry);
  }

  async remove(key: string): Promise<void> {
    validateStorageKey(key);
    await withRetry(async () => (await this.minioClient()).removeObject(this.bucket, key), this.target("remove", key), this.retry);
  }

  private target(operation: string, key?: string): StorageTarget {
    return key === undefined
      ? { operation, endpoint: this.endpoint, bucket: this.bucket }
      : { operation, endpoint: this.endpoint, bucket: this.bucket, key };
  }

  private async copyWithMd5(srcKey: string, dstKey: string, md5: string): Promise<void> {
    const { lib, client } = await this.minio();
    const source = new lib.CopySourceOptions({ Bucket: this.bucket, Object: srcKey });
    const destination = new lib.CopyDestinationOptions({
      Bucket: this.bucket,
      Object: dstKey,
      MetadataDirective: "REPLACE",
      UserMetadata: { [MD5_METADATA]: md5 },
      Headers: { "Content-Type": "application/octet-stream" },
    });
    await client.copyObject(source, destination);
  }

  private async abortUploads(err: unknown, temporaries: readonly string[]): Promise<unknown> {
    for (const tmp of temporaries) {
      try {
        await (await this.minioClient()).removeIncompleteUpload(this.bucket, tmp);
      } catch {
        // the server may be gone; a leftover temporary key is never read as the target
      }
    }
    return err;
  }

  private async removeQuietly(keys: readonly string[]): Promise<void> {
    await Promise.all(
      keys.map(async (k) => {
        try {
          await (await this.minioClient()).removeObject(this.bucket, k);
        } catch {
          // best effort: temporary keys are hidden from listings
        }
      }),
    );
  }
}

/**
 * Checks the etag the server returned for an upload: a single PUT's etag is the content MD5, a
 * multipart one is MD5(part MD5s)-N (some servers give the content MD5 for both). An empty
 * etag cannot be checked.
 */
function checkEtag(returned: string, meter: DigestMeter, multipart: boolean): void {
  const etag = returned.replace(/"/g, "").toLowerCase();
  const md5 = meter.md5();
  const expected = multipart ? meter.multipartEtag() : md5;
  if (etag !== "" && etag !== md5 && etag !== expected) {
    throw Object.assign(new Error(`etag mismatch: server stored ${etag}, sent data has ${expected}`), { code: "BadDigest" });
  }
}

/** The content MD5 of an object: the `opflow-md5` metadata, else a single-part etag. */
function md5Of(metaData: Record<string, unknown>, etag: string): string | undefined {
  const meta = metaData[MD5_METADATA];
  if (typeof meta === "string" && /^[0-9a-f]{32}$/i.test(meta)) return meta.toLowerCase();
  const clean = etag.replace(/"/g, "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(clean) ? clean : undefined;
}

/** A pass-through stream computing the MD5 of all data and of each part, and reporting progress. */
class DigestMeter extends Transform {
  bytes = 0;
  private readonly whole: Hash = createHash("md5");
  private readonly parts: Buffer[] = [];
  private part: Hash = createHash("md5");
  private partBytes = 0;
  private digest: string | undefined;

  constructor(
    private readonly partSize: number,
    private readonly total: number,
    private readonly onProgress: TransferOptions["onProgress"],
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.whole.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.partSize - this.partBytes);
      this.part.update(chunk.subarray(offset, offset + take));
      this.partBytes += take;
      offset += take;
      if (this.partBytes === this.partSize) this.closePart();
    }
    this.bytes += chunk.length;
    this.onProgress?.(this.bytes, this.total);
    callback(null, chunk);
  }

  private closePart(): void {
    this.parts.push(this.part.digest());
    this.part = createHash("md5");
    this.partBytes = 0;
  }

  /** MD5 (hex) of everything that passed. */
  md5(): string {
    this.digest ??= this.whole.digest("hex");
    return this.digest;
  }

  /** The S3 etag of a multipart upload of this data: MD5 of the part MD5s, `-`, part count. */
  multipartEtag(): string {
    if (this.partBytes > 0) this.closePart();
    const all = createHash("md5").update(Buffer.concat(this.parts)).digest("hex");
    return `${all}-${this.parts.length}`;
  }
}
