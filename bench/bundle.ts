/**
 * Benchmarks of OP bundles and the container executor (issue 10). Prints:
 *
 * - (a) bundle time of every example module, cold (a fresh process: esbuild's service starts,
 *       nothing cached), again in that process (esbuild runs again), and unchanged (the
 *       process's bundle cache checks the inputs' hashes)                       target < 0.5 s cold
 * - (b) the size of hello's bundle, raw and gzipped                          aim < 300 KB
 * - (c) what a container costs per step against a local process: `true` run N times by
 *       podman (the local busybox image) and as a local process, sequentially (`OPFLOW_BENCH_STEPS`, 5)
 *
 * Run: `node bin/run-ts.mjs bench/bundle.ts [a|b|c …]`. (c) is skipped, saying why, when podman
 * cannot run containers here.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { bundleModule } from "../src/bundle/bundle.ts";
import { runContainer } from "../src/executors/container.ts";
import { runProcess } from "../src/executors/local-process.ts";
import { BUSYBOX_IMAGE, ensureImage, podmanSkipReason } from "../src/executors/_test-images.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const runner = path.join(repo, "bin", "run-ts.mjs");
const self = fileURLToPath(import.meta.url);

async function one(module: string): Promise<void> {
  const t0 = performance.now();
  const b = await bundleModule(module);
  const cold = performance.now() - t0;
  const t1 = performance.now();
  await bundleModule(module, { cache: false });
  const warm = performance.now() - t1;
  const t2 = performance.now();
  await bundleModule(module);
  const cached = performance.now() - t2;
  process.stdout.write(JSON.stringify({ cold, warm, cached, size: b.contents.length, gzip: gzipSync(b.contents).length, hash: b.hash }));
}

function child(module: string): { cold: number; warm: number; cached: number; size: number; gzip: number; hash: string } {
  const r = spawnSync(process.execPath, [runner, self, "--one", module], { encoding: "utf8", cwd: repo });
  if (r.status !== 0) throw new Error(`bundling ${module} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { cold: number; warm: number; cached: number; size: number; gzip: number; hash: string };
}

const ms = (x: number): string => `${x.toFixed(0)} ms`;
const kb = (x: number): string => `${(x / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  if (process.argv[2] === "--one") return one(process.argv[3] as string);
  const wanted = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ["a", "b", "c"]);
  const examples = fs.readdirSync(path.join(repo, "examples")).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).sort();
  if (wanted.has("a") || wanted.has("b")) {
    console.log("(a) bundle time per example module (cold: fresh process; target < 0.5 s)");
    let worst = 0;
    for (const f of examples) {
      const r = child(path.join("examples", f));
      worst = Math.max(worst, r.cold);
      console.log(`    ${f.padEnd(16)} cold ${ms(r.cold).padStart(8)}   again ${ms(r.warm).padStart(8)}   unchanged (cached) ${ms(r.cached).padStart(6)}   ${kb(r.size).padStart(9)}  ${r.hash}`);
      if (f === "hello.ts" && wanted.has("b")) {
        console.log(`(b) hello's bundle: ${kb(r.size)} (${r.size} bytes), ${kb(r.gzip)} gzipped; aim < 300 KB: ${r.size < 300 * 1024 ? "met" : "NOT met"}`);
      }
    }
    console.log(`    slowest cold bundle: ${ms(worst)} (target < 500 ms: ${worst < 500 ? "met" : "NOT met"}; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.availableParallelism()} cores)`);
  }
  if (wanted.has("c")) {
    const skip = podmanSkipReason();
    if (skip) {
      console.log(`(c) skipped: ${skip}`);
      return;
    }
    ensureImage(BUSYBOX_IMAGE);
    const n = Number(process.env["OPFLOW_BENCH_STEPS"] ?? 5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-bench-container-"));
    try {
      const log = path.join(dir, "log.txt");
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await runProcess({ argv: ["true"], cwd: dir, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, logFile: log });
      const local = (performance.now() - t0) / n;
      const t1 = performance.now();
      for (let i = 0; i < n; i++) {
        const r = await runContainer({ image: BUSYBOX_IMAGE, command: ["true"], mounts: [{ source: dir, target: "/tmp" }], logFile: log });
        if (r.exitCode !== 0) throw new Error(`container failed: ${r.startError ?? r.exitCode}`);
      }
      const container = (performance.now() - t1) / n;
      console.log(`(c) per step: local process ${ms(local)}, podman container ${ms(container)}: a container costs ${ms(container - local)} more per step`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

await main();
