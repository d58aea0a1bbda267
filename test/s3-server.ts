/**
 * A real S3 server on loopback for tests: `@20minutes/s3rver` (checks SigV4 signatures) with
 * the one missing call minio-js needs (`GET /<bucket>?uploads`, ListMultipartUploads) answered
 * by a small middleware with an empty result. Start it in `beforeAll`, stop it in `afterAll`.
 *
 * @example
 * ```ts
 * let s3: S3TestServer;
 * beforeAll(async () => { s3 = await startS3Server({ buckets: ["artifacts"] }); });
 * afterAll(async () => { await s3.stop(); });
 * const client = new Minio.Client(s3.clientOptions);
 * ```
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

/** Access key s3rver accepts. */
export const S3_TEST_ACCESS_KEY = "S3RVER";
/** Secret key s3rver accepts. */
export const S3_TEST_SECRET_KEY = "S3RVER";

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /**
   * Buckets created before the server starts.
   * @default ["opflow-test"]
   */
  readonly buckets?: readonly string[];
  /**
   * TCP port on 127.0.0.1.
   * @default a random free port
   */
  readonly port?: number;
  /**
   * Folder holding the objects; reuse one to restart a server with its data.
   * @default a fresh temporary folder, removed by `stop()`
   */
  readonly directory?: string;
}

/** A request as seen by {@link S3TestServer.onRequest} observers. */
export interface S3Request {
  readonly method: string;
  /** Path and query, e.g. `/bucket/key?partNumber=2&uploadId=…`. */
  readonly url: string;
  /** The raw Node request (to inspect headers). */
  readonly raw: IncomingMessage;
}

/** A running test server. */
export interface S3TestServer {
  /** `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The folder holding the objects. */
  readonly directory: string;
  /** Options for `new Minio.Client(...)` with the accepted credentials. */
  readonly clientOptions: {
    endPoint: string;
    port: number;
    useSSL: false;
    accessKey: string;
    secretKey: string;
    region: string;
  };
  /** Registers an observer called on every request before s3rver handles it; returns an unsubscribe function. */
  onRequest(observer: (request: S3Request) => void): () => void;
  /**
   * Stops the server, cutting open connections (as a crash would). Removes the folder unless
   * `keepData` is true or the folder was given in the options.
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

interface KoaContext {
  method: string;
  path: string;
  url: string;
  query: Record<string, unknown>;
  req: IncomingMessage;
  status: number;
  type: string;
  body: unknown;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance {
  middleware: KoaMiddleware[];
  logger: { close(): unknown };
  httpServer?: Server;
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);

/** Starts s3rver on 127.0.0.1 with the ListMultipartUploads shim. */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3TestServer> {
  const S3rver = require("@20minutes/s3rver") as S3rverConstructor;
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(path.join(tmpdir(), "opflow-s3rver-")));
  const buckets = options.buckets ?? ["opflow-test"];
  const server = new S3rver({
    address: "127.0.0.1",
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
    allowMismatchedSignatures: false,
    resetOnClose: false,
  });
  const observers = new Set<(request: S3Request) => void>();
  server.middleware.unshift(async (ctx, next) => {
    for (const observer of observers) observer({ method: ctx.method, url: ctx.url, raw: ctx.req });
    const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
    if (ctx.method === "GET" && bucket !== undefined && "uploads" in ctx.query) {
      ctx.status = 200;
      ctx.type = "application/xml";
      ctx.body =
        `<?xml version="1.0" encoding="UTF-8"?>\n` +
        `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
        `<Bucket>${bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
        `<NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>` +
        `<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`;
      return;
    }
    await next();
  });
  const address = await server.run();
  const port = address.port;
  let stopped = false;
  return {
    host: "127.0.0.1",
    port,
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    clientOptions: {
      endPoint: "127.0.0.1",
      port,
      useSSL: false,
      accessKey: S3_TEST_ACCESS_KEY,
      secretKey: S3_TEST_SECRET_KEY,
      region: "us-east-1",
    },
    onRequest(observer) {
      observers.add(observer);
      return () => observers.delete(observer);
    },
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      // s3rver closes its logger on close; requests still in flight would then warn.
      server.logger.close = () => undefined;
      const http = server.httpServer;
      const closing = server.close();
      http?.closeAllConnections();
      await closing;
      if (ownDirectory && !stopOptions.keepData) await rm(directory, { recursive: true, force: true });
    },
  };
}
