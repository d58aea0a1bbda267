#!/usr/bin/env node
// `npm run build` (also run by `prepare`, so by `npm install` in a checkout and by `npm pack`):
// compiles src/ to dist/ (JavaScript + .d.ts) with tsc, copies the JSON data files beside it and
// makes the command executable.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const require = createRequire(import.meta.url);
const tsc = path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc");

fs.rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (r.status !== 0) {
  console.error("build: tsc failed; dist/ is incomplete");
  process.exit(r.status ?? 1);
}
// Data files the modules read at run time (e.g. argo/schema/*.json): tsc emits only code.
for (const file of fs.readdirSync(path.join(root, "src"), { recursive: true, encoding: "utf8" })) {
  if (!file.endsWith(".json")) continue;
  fs.mkdirSync(path.dirname(path.join(dist, file)), { recursive: true });
  fs.copyFileSync(path.join(root, "src", file), path.join(dist, file));
}
fs.chmodSync(path.join(dist, "cli", "bin.js"), 0o755);
