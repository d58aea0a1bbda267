/**
 * A stand-in engine for local-process.test.ts: runs one long process through the launcher and
 * prints, one JSON line each, whether the launcher is up, the process group it started, and how
 * the process ended. SIGINT aborts the process, as the engine does on Ctrl-C.
 *
 * Run: `node bin/run-ts.mjs src/executors/_launcher-fixture.ts DIR`
 */
import path from "node:path";
import { runProcess, warmUpLauncher } from "./local-process.ts";

const dir = process.argv[2] ?? ".";
const stop = new AbortController();
process.on("SIGINT", () => stop.abort());
const say = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
say({ up: await warmUpLauncher() });
const result = await runProcess({
  argv: ["sh", "-c", "sleep 60 & wait"],
  cwd: dir,
  env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
  logFile: path.join(dir, "log.txt"),
  signal: stop.signal,
  graceMs: 500,
  onSpawn: (pid) => say({ pid }),
});
say({ result });
