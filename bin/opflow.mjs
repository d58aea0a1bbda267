#!/usr/bin/env node
// The `opflow` command run from this checkout's TypeScript sources (for development and the
// tests): `@opflow/core` resolves to src/ and tsx loads it. The installed command is
// dist/cli/bin.js, compiled by `npm run build`.
import { fileURLToPath } from "node:url";
import { ensureSourceMode } from "./_source-mode.mjs";
import { announceRun } from "../src/cli/announce.mjs";

await ensureSourceMode(fileURLToPath(import.meta.url));
announceRun(process.argv.slice(2));
const { register } = await import("tsx/esm/api");
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
