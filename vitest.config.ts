import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sourceModeNodeOptions } from "./bin/_source-mode.mjs";

// Source mode (see bin/_source-mode.mjs): `@opflow/core` is src/index.ts for the test files and
// for every thread and process they start (worker threads, `node bin/opflow.mjs`, …).
process.env["NODE_OPTIONS"] = sourceModeNodeOptions(process.env["NODE_OPTIONS"]);
// OP bundles made by tests are cached outside the checkout (src/bundle/bundle-cache.ts); the
// cache is safe to share between runs and processes. Tests that need a cold cache set their own.
process.env["OPFLOW_CACHE_DIR"] ??= path.join(os.tmpdir(), "opflow-test-cache");

export default defineConfig({
  resolve: {
    alias: { "@opflow/core": fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
  },
  test: {
    include: ["src/**/*.test.ts", "examples/**/*.test.ts", "scripts/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
