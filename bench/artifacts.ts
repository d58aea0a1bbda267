/**
 * Artifact transfer benchmark: upload and download of one big file and of many small files,
 * on local storage and on S3 (s3rver on loopback, or the server in OPFLOW_S3_* when set).
 *
 *   node bin/run-ts.mjs bench/artifacts.ts
 *
 * Sizes come from the environment so CI can run a smaller version:
 *   OPFLOW_BENCH_BIG_MB       size of the big file in MB (1 MB = 10^6 bytes)   default 1000 (1 GB)
 *   OPFLOW_BENCH_SMALL_FILES  number of small files                            default 10000
 *   OPFLOW_BENCH_SMALL_BYTES  size of each small file in bytes                 default 1024
 *   OPFLOW_BENCH_BACKENDS     comma-separated: local, s3                       default local,s3
 *   OPFLOW_BENCH_S3_COPY_LIMIT  S3StorageClient copyLimit in bytes: objects above it skip the
 *                             temporary key + server-side copy (0: every upload goes direct)   default 5 GiB
 * Temporary files are removed at the end, also on failure.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { startS3Server, type S3TestServer } from "../test/s3-server.ts";
import { downloadArtifact, uploadArtifact } from "../src/artifacts/transfer.ts";
import type { ArchiveFormat } from "../src/artifacts/archive.ts";
import type { StorageClient } from "../src/storage/client.ts";
import { LocalStorageClient } from "../src/storage/local.ts";
import { S3StorageClient } from "../src/storage/s3.ts";
import { createStorageClient, loadArtifactRepositoryConfig } from "../src/storage/config.ts";

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

const bigBytes = Math.round(envNumber("OPFLOW_BENCH_BIG_MB", 1000) * 1e6);
const smallFiles = Math.round(envNumber("OPFLOW_BENCH_SMALL_FILES", 10_000));
const smallBytes = Math.round(envNumber("OPFLOW_BENCH_SMALL_BYTES", 1024));
const backends = (process.env.OPFLOW_BENCH_BACKENDS ?? "local,s3").split(",").map((s) => s.trim()).filter(Boolean);

interface Row {
  backend: string;
  case: string;
  direction: "upload" | "download";
  seconds: number;
  bytes: number;
  files: number;
}
const rows: Row[] = [];

async function time<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await run();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

function report(row: Row): void {
  rows.push(row);
  const mbs = row.bytes / 1e6 / row.seconds;
  const fps = row.files / row.seconds;
  console.log(
    `${row.backend.padEnd(6)} ${row.case.padEnd(22)} ${row.direction.padEnd(8)} ${row.seconds.toFixed(2).padStart(8)} s ` +
      `${mbs.toFixed(1).padStart(9)} MB/s` + (row.files > 1 ? ` ${fps.toFixed(0).padStart(8)} files/s` : ""),
  );
}

async function writeBigFile(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  const chunk = 4 * 1024 * 1024;
  for (let written = 0; written < bytes; written += chunk) {
    if (!out.write(randomBytes(Math.min(chunk, bytes - written)))) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

async function writeSmallFiles(dir: string, count: number, bytes: number): Promise<void> {
  const perFolder = 1000;
  for (let i = 0; i < count; i++) {
    const folder = path.join(dir, `d${Math.floor(i / perFolder)}`);
    if (i % perFolder === 0) await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, `f${i}.dat`), randomBytes(bytes));
  }
}

async function runCase(
  backend: string,
  storage: StorageClient,
  name: string,
  source: string,
  archive: ArchiveFormat,
  bytes: number,
  files: number,
  work: string,
): Promise<void> {
  const key = `bench/${backend}/${name}`;
  const [ref, up] = await time(() => uploadArtifact(storage, source, { key: archive === "tar" ? `${key}.tgz` : key, archive, concurrency: 8 }));
  report({ backend, case: name, direction: "upload", seconds: up, bytes, files });
  const dest = path.join(work, `down-${backend}-${name}`);
  const [, down] = await time(() => downloadArtifact(storage, ref, dest, { concurrency: 8 }));
  report({ backend, case: name, direction: "download", seconds: down, bytes, files });
  await rm(dest, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), "opflow-bench-"));
  let server: S3TestServer | undefined;
  try {
    console.log(
      `artifact bench: big file ${(bigBytes / 1e6).toFixed(0)} MB, ${smallFiles} small files of ${smallBytes} B, backends ${backends.join(", ")}`,
    );
    const big = path.join(work, "big.bin");
    const small = path.join(work, "small");
    if (bigBytes > 0) await writeBigFile(big, bigBytes);
    if (smallFiles > 0) await writeSmallFiles(small, smallFiles, smallBytes);
    for (const backend of backends) {
      let storage: StorageClient;
      if (backend === "local") storage = new LocalStorageClient({ root: path.join(work, "store") });
      else if (backend === "s3") {
        if (process.env.OPFLOW_S3_ENDPOINT) storage = createStorageClient(loadArtifactRepositoryConfig());
        else {
          server = await startS3Server({ buckets: ["bench"], directory: path.join(work, "s3rver") });
          storage = new S3StorageClient({
            endpoint: server.endpoint,
            bucket: "bench",
            accessKey: server.clientOptions.accessKey,
            secretKey: server.clientOptions.secretKey,
            ...(process.env.OPFLOW_BENCH_S3_COPY_LIMIT && { copyLimit: envNumber("OPFLOW_BENCH_S3_COPY_LIMIT", 0) }),
          });
        }
      } else throw new Error(`OPFLOW_BENCH_BACKENDS: unknown backend ${JSON.stringify(backend)} (local, s3)`);
      if (bigBytes > 0) await runCase(backend, storage, "big-file", big, "none", bigBytes, 1, work);
      if (smallFiles > 0) {
        await runCase(backend, storage, "small-files-tar", small, "tar", smallFiles * smallBytes, smallFiles, work);
        await runCase(backend, storage, "small-files-none", small, "none", smallFiles * smallBytes, smallFiles, work);
      }
      if (server) {
        await server.stop();
        server = undefined;
      }
      await rm(path.join(work, "store"), { recursive: true, force: true });
      await rm(path.join(work, "s3rver"), { recursive: true, force: true });
    }
    if (process.env.OPFLOW_BENCH_JSON) await writeFile(process.env.OPFLOW_BENCH_JSON, JSON.stringify(rows, null, 2));
  } finally {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
