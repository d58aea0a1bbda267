#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, scripts) from this checkout's sources: tsx's
// loader registered and `@opflow/core` resolved to src/ (source mode, see _source-mode.mjs).
import { pathToFileURL, fileURLToPath } from "node:url";
import path from "node:path";
import { ensureSourceMode } from "./_source-mode.mjs";

await ensureSourceMode(fileURLToPath(import.meta.url));
const { register } = await import("tsx/esm/api");
register();
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error("usage: run-ts.mjs FILE.ts [args...]");
  process.exit(2);
}
process.argv = [process.argv[0], entry, ...rest];
await import(pathToFileURL(path.resolve(entry)).href);
