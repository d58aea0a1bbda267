/**
 * Compiler benchmark (issue 2). Compiles and serialises:
 *
 * - (a) a 1,000-task and a 10,000-task DAG chain                 target: 10,000 tasks < 0.5 s
 * - (b) a withParam fan-out over 10 and over 10,000 items         target: same manifest size
 *
 * Prints compile ms, serialise ms, peak RSS and manifest bytes, then checks every manifest with
 * ../shared/argo/check.mjs (skipped, and said so, where ../shared is absent). Each case runs
 * in a fresh child process so that its peak RSS is its own.
 *
 *   node bin/run-ts.mjs bench/compile.ts [chain-1000|chain-10000|fan-10|fan-10000 …]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { CHECK_SCRIPT, haveArgoCheck } from "../test/argo-check.ts";
import { ContainerTemplate, DAG, Step, Steps, Task, Workflow, param } from "../src/index.ts";
import { toYaml } from "../src/argo/yaml.ts";

const CASES = ["chain-1000", "chain-10000", "fan-10", "fan-10000"] as const;
type Case = (typeof CASES)[number];

function chain(n: number): Workflow {
  const work = new ContainerTemplate({ name: "work", image: "busybox", command: ["true"] });
  const dag = new DAG({ name: "chain" });
  let prev = dag.add(new Task("t0", work));
  for (let i = 1; i < n; i++) prev = dag.add(new Task(`t${i}`, work, { dependencies: [prev] }));
  return new Workflow({ generateName: `chain-${n}-`, entrypoint: dag });
}

function fanOut(n: number): Workflow {
  const gen = new ContainerTemplate({
    name: "gen",
    image: "busybox",
    inputs: { n: param(z.number().int()) },
    outputs: { items: param(z.array(z.number())) },
    command: ["sh", "-c", 'seq -s, 1 "$0" | sed "s/^/[/;s/$/]/" > /tmp/outputs/parameters/items'],
    args: (io) => [io.parameters.n],
  });
  const square = new ContainerTemplate({
    name: "square",
    image: "busybox",
    inputs: { x: param(z.number()) },
    command: (io) => ["sh", "-c", 'echo $(($0 * $0))', io.parameters.x],
  });
  const main = new Steps({ name: "fan-out", inputs: { n: param(z.number().int()) } });
  const list = main.add(new Step("gen", gen, { parameters: { n: main.io.parameters.n } }));
  main.add(new Step("square", square, { withParam: list.outputs.parameters.items, parameters: (item) => ({ x: item }) }));
  return new Workflow({ generateName: "fan-out-", entrypoint: main, parameters: { n } });
}

function runCase(c: Case, out: string): void {
  const n = Number(c.split("-")[1]);
  const tb = performance.now();
  const wf = c.startsWith("chain") ? chain(n) : fanOut(n);
  const t0 = performance.now();
  const manifest = wf.compile({ warn: () => {} });
  const t1 = performance.now();
  const yaml = toYaml(manifest);
  const t2 = performance.now();
  fs.writeFileSync(out, yaml);
  const result = {
    case: c,
    buildMs: t0 - tb,
    compileMs: t1 - t0,
    serialiseMs: t2 - t1,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    jsonBytes: Buffer.byteLength(JSON.stringify(manifest)),
    yamlBytes: Buffer.byteLength(yaml),
    templates: manifest.spec.templates?.length ?? 0,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function main(): void {
  const argv = process.argv.slice(2);
  const caseArg = argv.indexOf("--case");
  if (caseArg >= 0) {
    runCase(argv[caseArg + 1] as Case, argv[caseArg + 2] as string);
    return;
  }
  const wanted = (argv.length ? argv : CASES) as Case[];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-bench-compile-"));
  const self = fileURLToPath(import.meta.url);
  const runner = path.resolve(path.dirname(self), "../bin/run-ts.mjs");
  console.log("bench/compile: build + compile + serialise (each case in its own process)");
  console.log("case          build ms  compile ms  serialise ms  peak RSS MB  JSON bytes  YAML bytes  templates");
  const files: string[] = [];
  const results: Record<string, { buildMs: number; compileMs: number; serialiseMs: number; jsonBytes: number }> = {};
  try {
    for (const c of wanted) {
      if (!CASES.includes(c)) throw new Error(`unknown case ${c}; cases: ${CASES.join(", ")}`);
      const file = path.join(dir, `${c}.yaml`);
      const r = spawnSync(process.execPath, [runner, self, "--case", c, file], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`case ${c} failed:\n${r.stderr}`);
      const res = JSON.parse(r.stdout.trim().split("\n").pop() as string);
      results[c] = res;
      files.push(file);
      console.log(
        `${c.padEnd(13)} ${res.buildMs.toFixed(1).padStart(8)}  ${res.compileMs.toFixed(1).padStart(10)}  ${res.serialiseMs.toFixed(1).padStart(12)}  ${res.peakRssMB.toFixed(1).padStart(11)}  ${String(res.jsonBytes).padStart(10)}  ${String(res.yamlBytes).padStart(10)}  ${String(res.templates).padStart(9)}`,
      );
    }
    const big = results["chain-10000"];
    if (big) console.log(`target (a): 10,000-task chain (built by user code in ${big.buildMs.toFixed(0)} ms) compiled and serialised to YAML in ${(big.compileMs + big.serialiseMs).toFixed(0)} ms (target < 500 ms): ${big.compileMs + big.serialiseMs < 500 ? "met" : "NOT met"}`);
    const f10 = results["fan-10"];
    const f10k = results["fan-10000"];
    if (f10 && f10k) {
      console.log(`target (b): fan-out manifest ${f10.jsonBytes} B for 10 items, ${f10k.jsonBytes} B for 10,000 items (differ by ${f10k.jsonBytes - f10.jsonBytes} B, the digits of the count)`);
    }
    if (haveArgoCheck) {
      const r = spawnSync(process.execPath, [CHECK_SCRIPT, ...files], { encoding: "utf8" });
      console.log(`check.mjs: ${r.stdout.trim().split("\n").pop()}`);
      if (r.status !== 0) {
        console.log(r.stdout);
        process.exitCode = 1;
      }
    } else {
      console.log("check.mjs: skipped (../shared/argo is absent)");
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
