/**
 * Benchmarks of the local engine (issue 3). Prints wall time, per-step overhead and peak RSS for:
 *
 * - (a) a 1,000-way fan-out of a trivial in-process binding      target < 2 s
 * - (b) a 200-step sequential chain of a trivial binding          target < 1 s
 * - (c) 200 trivial shell steps vs spawning 200 `sh -c true`      target within 2x
 * - (d) a 10,000-way fan-out of a trivial binding                 target < 10 s and 300 MB
 * - (e) 8 CPU-bound OP steps (primes below 1,500,000; test/fixtures/worker-ops.ts) on the
 *       engine's thread, then in worker threads (`thread: "worker"`): what worker threads pay
 *
 * Run: `node bin/run-ts.mjs bench/engine.ts [a|b|c|d|e …]`. Each case runs in a fresh child process
 * so that its peak RSS is its own; (c) runs `OPFLOW_BENCH_REPEAT` times (3) and reports the
 * median ratio, each run timing the raw spawns just before and just after the engine's run.
 * Manifests are written by hand as Argo objects.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Template, Workflow } from "../src/argo/model.ts";
import type { LocalBinding } from "../src/contract.ts";
import { runWorkflow } from "../src/debug/run.ts";
import { OPTemplate } from "../src/template/op-template.ts";
import { workerThreadCount } from "../src/op/worker-pool.ts";
import { countPrimes } from "../test/fixtures/worker-ops.ts";

type Case = "a" | "b" | "c" | "d" | "e";

const trivial: LocalBinding = async (task) => {
  await fs.writeFile(path.join(task.root, "outputs/parameters/out"), task.parameters["x"] ?? "");
  return { exitCode: 0 };
};

const leaf: Template = {
  name: "leaf",
  inputs: { parameters: [{ name: "x" }] },
  outputs: { parameters: [{ name: "out", valueFrom: { path: "/tmp/outputs/parameters/out" } }] },
  container: { image: "node:20-slim", command: ["opflow-op"] },
};

function workflow(name: string, templates: Template[]): Workflow {
  return { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name }, spec: { entrypoint: "main", templates } };
}

function fanOut(n: number): Workflow {
  return workflow(`fan-${n}`, [
    { name: "main", steps: [[{ name: "f", template: "leaf", arguments: { parameters: [{ name: "x", value: "{{item}}" }] }, withSequence: { count: String(n) } }]] },
    leaf,
  ]);
}

function chain(n: number): Workflow {
  const steps = Array.from({ length: n }, (_, i) => [
    { name: `s${i}`, template: "leaf", arguments: { parameters: [{ name: "x", value: i === 0 ? "0" : `{{steps.s${i - 1}.outputs.parameters.out}}` }] } },
  ]);
  return workflow(`chain-${n}`, [{ name: "main", steps }, leaf]);
}

function cpuFan(n: number, name: string): Workflow {
  const leaf: Template = { name: "cpu", inputs: { parameters: [{ name: "n" }] }, container: { image: "node:20-slim", command: ["opflow-op"] } };
  return workflow(name, [
    { name: "main", steps: [[{ name: "p", template: "cpu", arguments: { parameters: [{ name: "n", value: "1500000" }] }, withSequence: { count: String(n) } }]] },
    leaf,
  ]);
}

/** Case (e): the same CPU-bound fan-out with the OP on the engine's thread, then in worker threads. */
async function runCpuCase(workdir: string): Promise<void> {
  const times: number[] = [];
  // The engine's thread; worker threads started by the run (cold); worker threads already up.
  for (const [i, thread] of (["engine", "worker", "worker"] as const).entries()) {
    const bindings = new Map([["cpu", OPTemplate.fromOp(countPrimes, { thread }).localBinding()]]);
    const t0 = performance.now();
    const r = await runWorkflow(cpuFan(8, `cpu-${i}`), { workdir, bindings });
    times.push(performance.now() - t0);
    if (r.status.phase !== "Succeeded") throw new Error(`case e (${thread}): workflow ${r.status.phase}: ${r.status.message ?? ""}`);
  }
  const [engine = 0, cold = 0, warm = 0] = times;
  console.log(
    `(e)      8 CPU-bound steps  engine's thread ${engine.toFixed(0)} ms  ${workerThreadCount()} worker threads: ${cold.toFixed(0)} ms starting them, ${warm.toFixed(0)} ms once up  speed-up ${(engine / cold).toFixed(2)}x / ${(engine / warm).toFixed(2)}x`,
  );
}

function shellFan(n: number): Workflow {
  return workflow(`shell-${n}`, [
    { name: "main", steps: [[{ name: "t", template: "t", withSequence: { count: String(n) } }]] },
    { name: "t", container: { image: "busybox", command: ["sh", "-c", "true"] } },
  ]);
}

/** Raw cost of spawning `n` × `sh -c true`, `concurrency` at a time. */
async function spawnRaw(n: number, concurrency: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      await new Promise<void>((resolve, reject) => {
        const c = spawn("sh", ["-c", "true"], { stdio: "ignore" });
        c.on("error", reject);
        c.on("close", () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - t0;
}

/**
 * The file-system floor of a step: the same folders and small files the engine writes for one
 * in-process step (5 mkdir, 4 small files, 2 renames), done by a bare loop `n` times. The
 * engine cannot be faster than the disk; on a shared machine this moves a lot between runs.
 */
function fsFloor(n: number, base: string): number {
  mkdirSync(base);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const d = path.join(base, `[0].f(${i}:${i})`);
    for (const sub of ["", "/outputs", "/outputs/parameters", "/inputs", "/inputs/parameters"]) mkdirSync(d + sub);
    writeFileSync(`${d}/inputs/parameters/x`, String(i));
    writeFileSync(`${d}/outputs/parameters/out`, String(i));
    writeFileSync(`${d}/type`, "Pod");
    writeFileSync(`${d}/phase.tmp`, "Succeeded");
    renameSync(`${d}/phase.tmp`, `${d}/phase`);
    writeFileSync(`${d}/x.tmp`, "{}");
    renameSync(`${d}/x.tmp`, `${d}/x`);
  }
  return performance.now() - t0;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

async function runCase(c: Case, workdir: string): Promise<void> {
  if (c === "e") return runCpuCase(workdir);
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  const bindings = new Map([["leaf", trivial]]);
  try {
    let wf: Workflow;
    let steps: number;
    let target: string;
    switch (c) {
      case "a":
        wf = fanOut(1000);
        steps = 1000;
        target = "< 2 s";
        break;
      case "b":
        wf = chain(200);
        steps = 200;
        target = "< 1 s";
        break;
      case "c":
        wf = shellFan(200);
        steps = 200;
        target = "within 2x of spawning";
        break;
      case "d":
        wf = fanOut(10_000);
        steps = 10_000;
        target = "< 10 s, < 300 MB";
        break;
      default:
        throw new Error(`bench/engine: no case ${JSON.stringify(c)}; cases are a, b, c, d, e`);
    }
    // The machine may be shared: measure the raw cost of spawning around the engine's run.
    const rawBefore = c === "c" ? await spawnRaw(200, 8) : 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const r = await runWorkflow(wf, { workdir, bindings, processes: 8, inProcess: Number(process.env["OPFLOW_BENCH_INPROCESS"] ?? 256) });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    if (r.status.phase !== "Succeeded") throw new Error(`case ${c}: workflow ${r.status.phase}: ${r.status.message ?? ""}`);
    let extra = "";
    if (c !== "c" && process.env["OPFLOW_BENCH_FLOOR_MS"]) {
      const floor = (Number(process.env["OPFLOW_BENCH_FLOOR_MS"]) / 1000) * steps;
      extra = `  (${(ms / floor).toFixed(2)}x the file-system floor for ${steps} steps)`;
    }
    if (c === "c") {
      const raw = (rawBefore + (await spawnRaw(200, 8))) / 2;
      extra = `  raw spawn of 200 sh -c true (8 at a time, mean of before/after): ${raw.toFixed(0)} ms  ratio ${(ms / raw).toFixed(2)}x`;
      const out = process.env["OPFLOW_BENCH_RESULT"];
      if (out) writeFileSync(out, JSON.stringify({ ratio: ms / raw }));
    }
    console.log(
      `(${c}) ${String(steps).padStart(6)} steps  wall ${ms.toFixed(0).padStart(6)} ms  per step ${(ms / steps).toFixed(3)} ms  cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (user ${(cpu.user / 1000).toFixed(0)})  peak RSS ${mb(peak)}  [target ${target}]${extra}`,
    );
  } finally {
    clearInterval(sampler);
  }
}

const args = process.argv.slice(2);
const child = process.env["OPFLOW_BENCH_CASE"] as Case | undefined;
if (child) {
  await runCase(child, path.join(process.env["OPFLOW_BENCH_DIR"] ?? os.tmpdir(), `case-${child}`));
} else {
  const cases = (args.length > 0 ? args : ["a", "b", "c", "d", "e"]) as Case[];
  const here = fileURLToPath(import.meta.url);
  const runner = path.resolve(path.dirname(here), "../bin/run-ts.mjs");
  console.log(`opflow local engine bench — node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(2)}`);
  // Every case writes under one folder, removed only at the end: on a file system without a
  // journal (ext4 here), creating files right after many were deleted costs up to ten times
  // more, so cleaning up between cases would charge one case for the one before.
  const base = mkdtempSync(path.join(os.tmpdir(), "opflow-bench-engine-"));
  const floorMs = fsFloor(1000, path.join(base, "fs-floor"));
  console.log(`file-system floor: 1000 bare step layouts (the files one in-process step needs) take ${floorMs.toFixed(0)} ms here now`);
  // Case (c) compares two timings on a machine that may be shared: it runs REPEAT times (each a
  // fresh process, so each a cold start of the engine and its launcher) and reports the median.
  const repeat = Math.max(1, Number(process.env["OPFLOW_BENCH_REPEAT"] ?? 3));
  for (const c of cases) {
    const ratios: number[] = [];
    for (let i = 0; i < (c === "c" ? repeat : 1); i++) {
      const result = path.join(base, `result-${c}-${i}.json`);
      const env = { ...process.env, OPFLOW_BENCH_CASE: c, OPFLOW_BENCH_FLOOR_MS: String(floorMs), OPFLOW_BENCH_DIR: path.join(base, `run-${i}`), OPFLOW_BENCH_RESULT: result };
      const r = spawnSync(process.execPath, [runner, here], { env, stdio: "inherit" });
      if (r.status !== 0) process.exitCode = 1;
      else if (c === "c") ratios.push((JSON.parse(readFileSync(result, "utf8")) as { ratio: number }).ratio);
    }
    if (ratios.length > 1) {
      ratios.sort((x, y) => x - y);
      const median = ratios[Math.floor(ratios.length / 2)] as number;
      console.log(`(c) median of ${ratios.length} runs: ${median.toFixed(2)}x the raw cost of spawning (runs: ${ratios.map((x) => x.toFixed(2)).join(", ")})  [target within 2x]`);
    }
  }
  rmSync(base, { recursive: true, force: true });
}
