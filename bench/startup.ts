/**
 * CLI startup benchmark (issue 11): whole-process times of the installed command — compiled
 * JavaScript, dist/cli/bin.js, as `npx opflow` runs it — for
 *
 * - `opflow help`                                 target: < 0.3 s
 * - `opflow render examples/hello.ts`, warm: its OP bundle in the bundle cache (what every
 *   render after the first is)                    target: < 0.8 s, peak RSS < 100 MB
 * - the same, cold: an empty bundle cache, so esbuild bundles the module (the first render,
 *   or the first after a change)                  reported
 * - `opflow run examples/hello.ts`                target: < 0.8 s
 * - `opflow run examples/hello.ts`, time to its first line on the terminal ("loading
 *   workflow…", measured at the first byte of stdout or stderr)    target: < 0.2 s; beside it,
 *   the floor: plain node writing one byte
 *
 * Each command runs once to warm the file cache, then RUNS times (OPFLOW_BENCH_RUNS, default 5);
 * the median is printed with the min and max. Wall time is measured here around each process;
 * CPU time and peak RSS come from GNU time (`/usr/bin/time`) where it is installed. The machine
 * is shared: quote medians, and read a wide min–max as noise.
 *
 *   npm run build && node bin/run-ts.mjs bench/startup.ts
 */
import { spawn, spawnSync } from "node:child_process";
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
  /** Seconds from spawning to the first byte on stdout or stderr. */
  firstByte?: number;
}

/** Each run of a case gets this environment (a fresh bundle cache for a cold render). */
type CaseEnv = () => NodeJS.ProcessEnv;

function once(args: readonly string[], caseEnv: CaseEnv): Sample {
  const stats = path.join(workdir, "time.txt");
  const argv = gnuTime ? [gnuTime, "-f", "%U %S %M", "-o", stats, process.execPath, bin, ...args] : [process.execPath, bin, ...args];
  const start = performance.now();
  const r = spawnSync(argv[0] as string, argv.slice(1), { cwd: root, env: caseEnv(), encoding: "utf8" });
  const wall = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`opflow ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  if (!gnuTime) return { wall };
  const [user, sys, kb] = fs.readFileSync(stats, "utf8").trim().split(/\s+/).slice(-3).map(Number);
  return { wall, cpu: (user ?? 0) + (sys ?? 0), rssMb: (kb ?? 0) / 1024 };
}

/** Spawns `opflow ...args` (no GNU time in between) and notes when its first byte arrives. */
function firstByte(args: readonly string[], caseEnv: CaseEnv, script: readonly string[] = [bin]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let first: number | undefined;
    let stderr = "";
    const child = spawn(process.execPath, [...script, ...args], { cwd: root, env: caseEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const seen = (chunk: Buffer): void => {
      first ??= (performance.now() - start) / 1000;
      void chunk;
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", (chunk: Buffer) => {
      seen(chunk);
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const wall = (performance.now() - start) / 1000;
      if (code !== 0) reject(new Error(`opflow ${args.join(" ")} exited ${code}: ${stderr}`));
      else resolve({ wall, firstByte: first ?? wall });
    });
  });
}

function summary(values: number[], digits: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  return `${median.toFixed(digits)} (${(sorted[0] as number).toFixed(digits)}–${(sorted.at(-1) as number).toFixed(digits)})`;
}

const cacheDirs: string[] = [];
/** A new, empty bundle cache folder. */
function freshCache(): string {
  const dir = fs.mkdtempSync(path.join(workdir, "cache-"));
  cacheDirs.push(dir);
  return dir;
}
const warmCache = freshCache();
const withCache = (dir: () => string): CaseEnv => () => ({ ...env, OPFLOW_CACHE_DIR: dir() });

interface Case {
  name: string;
  args: string[];
  env: CaseEnv;
  /** Targets: wall seconds (of the first byte for `firstByte` cases), peak RSS. */
  wall?: number;
  rssMb?: number;
  firstByte?: boolean;
  /** What node runs instead of the command (a baseline). */
  script?: string[];
}

const runDir = (): string => path.join(workdir, "runs");
const cases: Case[] = [
  { name: "help", args: ["help"], env: () => env, wall: 0.3 },
  { name: "render warm", args: ["render", "examples/hello.ts"], env: withCache(() => warmCache), wall: 0.8, rssMb: 100 },
  { name: "render cold", args: ["render", "examples/hello.ts"], env: withCache(freshCache) },
  { name: "run hello", args: ["run", "examples/hello.ts", "--quiet", "--workdir", runDir()], env: withCache(() => warmCache), wall: 0.8 },
  { name: "run 1st line", args: ["run", "examples/hello.ts", "--workdir", runDir()], env: withCache(() => warmCache), wall: 0.2, firstByte: true },
  // The floor under the line above on this machine now: node starting and writing one byte.
  { name: "node 1st byte", args: [], env: () => env, firstByte: true, script: ["-e", "process.stderr.write('.')"] },
];

console.log(`opflow startup, whole process (${runs} runs after one warm-up; median (min–max))`);
console.log(`${"command".padEnd(14)} ${"wall s".padEnd(22)} ${"cpu s".padEnd(22)} ${"peak RSS MB".padEnd(22)} target`);
let over = 0;
try {
  for (const c of cases) {
    let samples: Sample[];
    if (c.firstByte) {
      await firstByte(c.args, c.env, c.script);
      samples = [];
      for (let i = 0; i < runs; i++) samples.push(await firstByte(c.args, c.env, c.script));
    } else {
      once(c.args, c.env);
      samples = Array.from({ length: runs }, () => once(c.args, c.env));
    }
    const wall = summary(samples.map((s) => s.wall), 3);
    const first = c.firstByte ? summary(samples.map((s) => s.firstByte ?? 0), 3) : undefined;
    const cpu = gnuTime && !c.firstByte ? summary(samples.map((s) => s.cpu ?? 0), 3) : "n/a";
    const rss = gnuTime && !c.firstByte ? summary(samples.map((s) => s.rssMb ?? 0), 1) : "n/a";
    const measured = Number((first ?? wall).split(" ")[0]);
    const medianRss = gnuTime && !c.firstByte ? Number(rss.split(" ")[0]) : 0;
    const ok = (c.wall === undefined || measured < c.wall) && (c.rssMb === undefined || medianRss < c.rssMb);
    if (!ok) over++;
    const target = c.wall === undefined ? "(reported)" : `${c.firstByte ? "first line " : ""}< ${c.wall} s${c.rssMb ? `, < ${c.rssMb} MB` : ""} ${ok ? "ok" : "OVER"}`;
    const shown = first ? `${first} first line; ${wall.split(" ")[0]} whole` : wall;
    console.log(`${c.name.padEnd(14)} ${shown.padEnd(22)} ${cpu.padEnd(22)} ${rss.padEnd(22)} ${target}`);
  }
} finally {
  fs.rmSync(workdir, { recursive: true, force: true });
}
const targets = cases.filter((c) => c.wall !== undefined).length;
if (over) console.log(`${over} of ${targets} over target (on a loaded machine wall times stretch: compare the cpu column)`);
