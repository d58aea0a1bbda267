/**
 * `npm run bench [-- compile|engine|artifacts …]`: runs the benchmarks and prints their
 * figures. Each benchmark runs in its own process; with no argument all run in turn.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const runner = path.resolve(here, "../bin/run-ts.mjs");
const all = ["compile", "engine", "artifacts", "startup"];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = 0;
for (const name of wanted) {
  const file = path.join(here, `${name}.ts`);
  if (!fs.existsSync(file)) {
    console.error(`bench: no benchmark named ${JSON.stringify(name)}; available: ${all.filter((b) => fs.existsSync(path.join(here, `${b}.ts`))).join(", ")}`);
    failed++;
    continue;
  }
  console.log(`\n=== bench/${name}`);
  const r = spawnSync(process.execPath, [runner, file], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
