/**
 * CLI startup benchmark (issue 11): whole-process times of the installed command — compiled
 * JavaScript, dist/cli/bin.js, as `npx opflow` runs it — for
 *
 * - `opflow help`                                 target: < 0.3 s
 * - `opflow render examples/hello.ts`             target: < 0.8 s, peak RSS < 100 MB
 * - `opflow run examples/hello.ts`                target: < 0.8 s
 *
 * Each command runs once to warm the file cache, then RUNS times (OPFLOW_BENCH_RUNS, default 5);
 * the median is printed with the min and max. Wall time is measured here around each process;
 * CPU time and peak RSS come from GNU time (`/usr/bin/time`) where it is installed. The machine
 * is shared: quote medians, and read a wide min–max as noise.
 *
 *   npm run build && node bin/run-ts.mjs bench/startup.ts
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "dist/cli/bin.js");
const runs = Math.max(1, Number(process.env["OPFLOW_BENCH_RUNS"] ?? 5) || 5);
const gnuTime = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

if (!fs.existsSync(bin)) {
  console.error(`bench/startup: ${path.relative(root, bin)} is missing: run \`npm run build\` first`);
  process.exit(1);
}

// The installed command must not run in this checkout's source mode (see bin/_source-mode.mjs).
const env = { ...process.env, NODE_OPTIONS: (process.env["NODE_OPTIONS"] ?? "").replace(/--conditions=opflow-source/g, "").trim() };
const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-bench-startup-"));

interface Sample {
  wall: number;
  cpu?: number;
  rssMb?: number;
}

function once(args: readonly string[]): Sample {
  const stats = path.join(workdir, "time.txt");
  const argv = gnuTime ? [gnuTime, "-f", "%U %S %M", "-o", stats, process.execPath, bin, ...args] : [process.execPath, bin, ...args];
  const start = performance.now();
  const r = spawnSync(argv[0] as string, argv.slice(1), { cwd: root, env, encoding: "utf8" });
  const wall = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`opflow ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  if (!gnuTime) return { wall };
  const [user, sys, kb] = fs.readFileSync(stats, "utf8").trim().split(/\s+/).slice(-3).map(Number);
  return { wall, cpu: (user ?? 0) + (sys ?? 0), rssMb: (kb ?? 0) / 1024 };
}

function summary(values: number[], digits: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  return `${median.toFixed(digits)} (${(sorted[0] as number).toFixed(digits)}–${(sorted.at(-1) as number).toFixed(digits)})`;
}

const cases: { name: string; args: string[]; wall: number; rssMb?: number }[] = [
  { name: "help", args: ["help"], wall: 0.3 },
  { name: "render hello", args: ["render", "examples/hello.ts"], wall: 0.8, rssMb: 100 },
  { name: "run hello", args: ["run", "examples/hello.ts", "--quiet", "--workdir", path.join(workdir, "runs")], wall: 0.8 },
];

console.log(`opflow startup, whole process (${runs} runs after one warm-up; median (min–max))`);
console.log(`${"command".padEnd(14)} ${"wall s".padEnd(22)} ${"cpu s".padEnd(22)} ${"peak RSS MB".padEnd(22)} target`);
let over = 0;
try {
  for (const c of cases) {
    once(c.args);
    const samples = Array.from({ length: runs }, () => once(c.args));
    const wall = summary(samples.map((s) => s.wall), 3);
    const cpu = gnuTime ? summary(samples.map((s) => s.cpu ?? 0), 3) : "n/a";
    const rss = gnuTime ? summary(samples.map((s) => s.rssMb ?? 0), 1) : "n/a";
    const medianWall = Number(wall.split(" ")[0]);
    const medianRss = gnuTime ? Number(rss.split(" ")[0]) : 0;
    const ok = medianWall < c.wall && (c.rssMb === undefined || medianRss < c.rssMb);
    if (!ok) over++;
    const target = `< ${c.wall} s${c.rssMb ? `, < ${c.rssMb} MB` : ""} ${ok ? "ok" : "OVER"}`;
    console.log(`${c.name.padEnd(14)} ${wall.padEnd(22)} ${cpu.padEnd(22)} ${rss.padEnd(22)} ${target}`);
  }
} finally {
  fs.rmSync(workdir, { recursive: true, force: true });
}
if (over) console.log(`${over} of ${cases.length} over target (on a loaded machine wall times stretch: compare the cpu column)`);
