#!/usr/bin/env node
/**
 * The installed `opflow` command (package.json "bin", compiled to dist/cli/bin.js). It runs from
 * compiled JavaScript; tsx is registered only to load a user's TypeScript module.
 */
import { announceRun } from "./announce.mjs";

// First the line that says something is happening (issue: a blank terminal), then the rest
// of the command: main and what it imports load after it.
announceRun(process.argv.slice(2));
try {
  const { main } = await import("./main.ts");
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // zod is a peer dependency: say so when a package manager did not install it.
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(error instanceof Error ? error.message : "");
  const code = (error as { code?: unknown }).code;
  if ((code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") || missing?.[1] !== "zod") throw error;
  console.error("opflow: zod is not installed. It is a peer dependency of @opflow/core: npm install zod@^4");
  process.exitCode = 1;
}
