/**
 * Benchmarks of OP bundles and the container executor (issue 10). Prints:
 *
 * - (a) bundle time of every example module: cold (a fresh process and an empty bundle cache:
 *       esbuild's service starts, nothing cached), again in that process (esbuild runs again),
 *       unchanged in that process (the process's memo checks its inputs), and cached (a new
 *       process that finds the bundle in the bundle cache on disk: what `opflow render` pays
 *       for an unchanged module)                                            target < 0.5 s cold
 * - (b) the size of hello's bundle, raw and gzipped                          aim < 300 KB
 * - (c) what a container costs per step against a local process: a chain of N `sh -c true`
 *       steps (`OPFLOW_BENCH_STEPS`, 5) run by the engine with the local-process executor, then
 *       with the container executor (podman, the local busybox image)
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
import type { Workflow as ArgoWorkflow } from "../src/argo/model.ts";
import { runWorkflow } from "../src/debug/run.ts";
import { ContainerExecutor, parseImageMap } from "../src/executors/container.ts";
import { BUSYBOX_IMAGE, ensureImage, podmanSkipReason } from "../src/executors/_test-images.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const runner = path.join(repo, "bin", "run-ts.mjs");
const self = fileURLToPath(import.meta.url);

interface OneResult {
  cold: number;
  warm: number;
  cached: number;
  size: number;
  gzip: number;
  hash: string;
}

async function one(module: string, disk: boolean): Promise<void> {
  if (disk) {
    // A new process, the cache already filled: one lookup, no esbuild.
    const t = performance.now();
    const b = await bundleModule(module);
    process.stdout.write(JSON.stringify({ cold: performance.now() - t, warm: 0, cached: 0, size: b.contents.length, gzip: 0, hash: b.hash }));
    return;
  }
  const t0 = performance.now();
  const b = await bundleModule(module);
  const cold = performance.now() - t0;
  const t1 = performance.now();
  await bundleModule(module, { cache: false });
  const warm = performance.now() - t1;
  const t2 = performance.now();
  await bundleModule(module);
  const cached = performance.now() - t2;
  process.stdout.write(JSON.stringify({ cold, warm, cached, size: b.contents.length, gzip: gzipSync(b.contents).length, hash: b.hash } satisfies OneResult));
}

function child(module: string, cacheDir: string, disk: boolean): OneResult {
  const r = spawnSync(process.execPath, [runner, self, disk ? "--disk" : "--one", module], { encoding: "utf8", cwd: repo, env: { ...process.env, OPFLOW_CACHE_DIR: cacheDir } });
  if (r.status !== 0) throw new Error(`bundling ${module} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as OneResult;
}

const ms = (x: number): string => `${x.toFixed(0)} ms`;
const kb = (x: number): string => `${(x / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  if (process.argv[2] === "--one" || process.argv[2] === "--disk") return one(process.argv[3] as string, process.argv[2] === "--disk");
  const wanted = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ["a", "b", "c"]);
  const examples = fs.readdirSync(path.join(repo, "examples")).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).sort();
  if (wanted.has("a") || wanted.has("b")) {
    console.log("(a) bundle time per example module (cold: fresh process, empty cache; target < 0.5 s)");
    let worst = 0;
    for (const f of examples) {
      const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-bench-bundle-cache-"));
      try {
        const r = child(path.join("examples", f), cacheDir, false);
        const d = child(path.join("examples", f), cacheDir, true);
        if (d.hash !== r.hash) throw new Error(`${f}: the cached bundle is ${d.hash}, made ${r.hash}`);
        worst = Math.max(worst, r.cold);
        console.log(
          `    ${f.padEnd(16)} cold ${ms(r.cold).padStart(8)}   again ${ms(r.warm).padStart(8)}   unchanged ${ms(r.cached).padStart(6)}   cached, new process ${ms(d.cold).padStart(6)}   ${kb(r.size).padStart(9)}  ${r.hash}`,
        );
        if (f === "hello.ts" && wanted.has("b")) {
          console.log(`(b) hello's bundle: ${kb(r.size)} (${r.size} bytes), ${kb(r.gzip)} gzipped; aim < 300 KB: ${r.size < 300 * 1024 ? "met" : "NOT met"}`);
        }
      } finally {
        fs.rmSync(cacheDir, { recursive: true, force: true });
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
      // n sequential steps of `sh -c true`, run by the engine with each executor.
      const chain: ArgoWorkflow = {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Workflow",
        metadata: { name: "chain" },
        spec: {
          entrypoint: "main",
          templates: [
            { name: "main", steps: Array.from({ length: n }, (_, i) => [{ name: `s${i}`, template: "true" }]) },
            { name: "true", container: { image: "busybox", command: ["sh", "-c", "true"] } },
          ],
        },
      };
      const time = async (label: string, executor?: ContainerExecutor): Promise<number> => {
        const t0 = performance.now();
        const r = await runWorkflow(chain, { workdir: path.join(dir, label), ...(executor ? { executor } : {}) });
        if (r.status.phase !== "Succeeded") throw new Error(`${label}: ${r.status.phase} ${r.status.message ?? ""}`);
        return (performance.now() - t0) / n;
      };
      const local = await time("local");
      const container = await time("container", new ContainerExecutor({ images: parseImageMap([`busybox=${BUSYBOX_IMAGE}`]) }));
      console.log(`(c) per step (${n} sequential steps through the engine): local process ${ms(local)}, podman container ${ms(container)}: a container costs ${ms(container - local)} more per step`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

await main();
