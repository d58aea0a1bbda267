// Source mode: opflow run from its TypeScript sources in this checkout (tests, benchmarks,
// `node bin/opflow.mjs`), where `@opflow/core` must resolve to src/index.ts in every thread and
// child process. Node does that under `--conditions=opflow-source` (see package.json "exports");
// a process started without it is started again with it in NODE_OPTIONS, which children inherit.
import { spawn } from "node:child_process";

/** The NODE_OPTIONS that put a process and its children in source mode. */
export function sourceModeNodeOptions(current = process.env.NODE_OPTIONS ?? "") {
  return current.includes("--conditions=opflow-source") ? current : `${current} --conditions=opflow-source`.trim();
}

/**
 * Returns when this process is in source mode; otherwise runs `entry` again in source mode with
 * the same arguments, passes signals on, and exits with its code.
 */
export async function ensureSourceMode(entry) {
  if (import.meta.resolve("@opflow/core").endsWith("/src/index.ts")) return;
  const env = { ...process.env, NODE_OPTIONS: sourceModeNodeOptions() };
  const child = spawn(process.execPath, [...process.execArgv, entry, ...process.argv.slice(2)], { stdio: "inherit", env });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  const code = await new Promise((resolve) => child.on("exit", (c, s) => resolve(c ?? (s ? 128 + 15 : 1))));
  process.exit(code);
}
