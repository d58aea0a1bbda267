/**
 * The hostile-input corpus (issue 14): small manifests that once escaped the run folder, hung
 * the engine, crashed it or killed an unrelated process. Each runs through the real command
 * (`opflow run FILE --json`) in a process of its own, bounded in time and heap, and must end
 * with a final phase, a clear message and a `--json` document; each case then checks what its
 * family is about.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeStatus, WorkflowStatus } from "../argo/model.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.join(here, "..", "..", "test", "fixtures", "hostile");
const opflowBin = path.join(here, "..", "..", "bin", "opflow.mjs");

/** Every case's bounds: wall time, and the engine's V8 heap. */
const CASE_TIME_MS = 60_000;
const CASE_HEAP_MB = 256;
/** A message longer than this is not "clear" (item 11: a 200 KB value made a 600 KB message). */
const MESSAGE_MAX = 2048;

interface RunDoc extends WorkflowStatus {
  readonly name: string;
  readonly dir?: string;
}

interface CaseRun {
  readonly doc: RunDoc;
  readonly code: number | null;
  readonly stderr: string;
  readonly ms: number;
  readonly workdir: string;
  readonly nodes: NodeStatus[];
}

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-hostile-"));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Runs `opflow run <case> --json` in a bounded child process. */
async function runCase(file: string, options: { env?: Record<string, string>; workdir?: string; args?: string[]; heapMb?: number; timeMs?: number } = {}): Promise<CaseRun> {
  const timeBound = options.timeMs ?? CASE_TIME_MS;
  const workdir = options.workdir ?? (await fs.mkdtemp(path.join(root, `${path.basename(file, ".yaml")}-`)));
  const started = Date.now();
  const child = spawn(process.execPath, [`--max-old-space-size=${options.heapMb ?? CASE_HEAP_MB}`, opflowBin, "run", path.join(corpus, file), "--workdir", workdir, "--json", ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeBound);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearTimeout(timer);
  const ms = Date.now() - started;
  expect(ms, `${file}: ran past its time bound; stderr: ${stderr.slice(0, 500)}`).toBeLessThan(timeBound);
  let doc: RunDoc;
  try {
    doc = JSON.parse(stdout) as RunDoc;
  } catch {
    throw new Error(`${file}: no --json document (exit ${code}); stdout: ${stdout.slice(0, 300)}; stderr: ${stderr.slice(0, 1000)}`);
  }
  return { doc, code, stderr, ms, workdir, nodes: Object.values(doc.nodes ?? {}) };
}

/** What every case must show: a final phase, a clear message when not Succeeded, no stack trace. */
function expectClearEnd(r: CaseRun, phase: string, message?: RegExp): void {
  expect(r.doc.phase, r.doc.message).toBe(phase);
  // 1: the run ended so; 2: the manifest was refused before it ran (Argo's validation).
  if (phase === "Succeeded") expect(r.code).toBe(0);
  else expect([1, 2]).toContain(r.code);
  if (phase !== "Succeeded") {
    expect(r.doc.message).toBeTruthy();
    expect((r.doc.message ?? "").length).toBeLessThan(MESSAGE_MAX);
  }
  if (message) expect(r.doc.message).toMatch(message);
  for (const n of r.nodes) expect((n.message ?? "").length, `node ${n.displayName}`).toBeLessThan(MESSAGE_MAX);
  expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
  expect(r.stderr.length).toBeLessThan(MESSAGE_MAX * 2);
}

const byName = (r: CaseRun, displayName: string): NodeStatus[] => r.nodes.filter((n) => n.displayName === displayName);

describe("hostile-input corpus (opflow run --json, bounded)", () => {
  it("covers the twelve families of issue 14", async () => {
    const files = (await fs.readdir(corpus)).filter((f) => f.endsWith(".yaml"));
    const families = new Set(files.map((f) => Number(f.slice(0, 2))));
    expect([...families].sort((a, b) => a - b)).toEqual(EXPECTED_FAMILIES);
  });

  it("01 artifact escapes: host paths outside /tmp and /mnt stay untouched, ../ is refused, no host file becomes an output", async () => {
    await withCanary(async (canary) => {
      const before = await snapshot(canary);
      const r = await runCase("01-artifact-escape.yaml");
      expectClearEnd(r, "Failed");
      expect(await snapshot(canary)).toEqual(before);
      expect(byName(r, "absolute-in")[0]).toMatchObject({ phase: "Succeeded", outputs: { result: "planted" } });
      expect(byName(r, "absolute-out")[0]?.message).toMatch(/secret\.txt does not exist/);
      expect(byName(r, "relative-in")[0]?.message).toMatch(/a relative path must stay in the working directory/);
      expect(spawnSync("grep", ["-rl", "CANARY-SECRET", r.workdir], { encoding: "utf8" }).stdout).toBe("");
    });
  });

  it("02 parameter names: names that are not Argo names never become paths", async () => {
    await withCanary(async (canary) => {
      const before = await snapshot(canary);
      const r = await runCase("02-parameter-names.yaml");
      expect(r.doc.phase).toMatch(/Failed|Error/);
      expectClearEnd(r, r.doc.phase as string);
      expect(await snapshot(canary)).toEqual(before);
      expect(JSON.stringify(r.doc)).toMatch(/must be letters, digits, '-' and '_'|name/);
    });
  });

  it("03 stale pids: a resumed run and stop|terminate leave a process that took a recorded pid alone", async () => {
    const workdir = await fs.mkdtemp(path.join(root, "03-"));
    const name = "hostile-stale-pids";
    const run = path.join(workdir, name);
    await fs.mkdir(run, { recursive: true });
    // Unrelated processes that got the pids a crashed engine recorded (another start time).
    const inJournal = bystander();
    const asEngine = bystander();
    await new Promise((r) => setTimeout(r, 100));
    const boot = (await fs.readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
    await fs.writeFile(path.join(run, "nodes.jsonl"), `${JSON.stringify({ pid: inJournal.pid, start: "1", boot, id: `${name}-1` })}\n`);
    await fs.writeFile(path.join(run, "manifest.yaml"), await fs.readFile(path.join(corpus, "03-stale-pids.yaml")));
    await fs.writeFile(path.join(run, "status"), "Running");
    await fs.writeFile(path.join(run, "engine.control"), "SIGUSR2");
    await fs.writeFile(path.join(run, "engine.pid"), `${asEngine.pid} 1 ${boot}\n`);
    const stop = spawnSync(process.execPath, [opflowBin, "stop", name, "--mode", "debug", "--workdir", workdir], { encoding: "utf8", timeout: CASE_TIME_MS });
    expect(stop.stderr + stop.stdout).not.toMatch(/\n\s+at /);
    const r = await runCase("03-stale-pids.yaml", { workdir, args: ["--name", name] });
    expectClearEnd(r, "Succeeded");
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(inJournal.pid!)).toBe(true);
    expect(alive(asEngine.pid!)).toBe(true);
  });

  it("04 regex: backtracking patterns evaluate in linear time (=~, matches, sprig.regexMatch)", async () => {
    const r = await runCase("04-regex-backtracking.yaml");
    expectClearEnd(r, "Succeeded");
    expect(byName(r, "when-govaluate")[0]?.phase).toBe("Skipped");
    expect(byName(r, "expr-matches")[0]?.outputs?.result).toBe("no match");
    expect(byName(r, "sprig")[0]?.outputs?.result).toBe("no match");
  });

  it("05 expansion: a withSequence of a billion items is refused at once", async () => {
    const r = await runCase("05-expansion-bombs.yaml");
    expectClearEnd(r, "Failed", /withSequence count "1000000000" makes 1000000000 items, more than the local engine's 50000 for one expansion/);
    expect(r.ms).toBeLessThan(30_000);
  });

  it("05 recursion: a template that always calls itself twice ends at once with Argo's recursion-depth message, in the default heap", async () => {
    const r = await runCase("05-self-recursion.yaml");
    expectClearEnd(r, "Error", /^Maximum recursion depth exceeded\. .*template "forever" calls itself without a condition \(forever → forever\)/);
    expect(r.nodes.length).toBeLessThan(10);
  });

  it("06 deadlines: 30-day deadlines and a 720h timeout do not fire at once", async () => {
    const r = await runCase("06-long-deadlines.yaml");
    expectClearEnd(r, "Succeeded");
    expect(byName(r, "work")[0]?.outputs?.result).toBe("done");
  });

  it("07 huge argument: a 200 KB argument fails its step with the reason; the engine carries on", async () => {
    const r = await runCase("07-huge-argument.yaml");
    expectClearEnd(r, "Failed");
    expect(byName(r, "consume")[0]).toMatchObject({ phase: "Error" });
    expect(byName(r, "consume")[0]?.message).toMatch(/argument 4 is 200000 bytes \(E2BIG/);
    expect(byName(r, "bystander")[0]?.phase).toBe("Succeeded");
  });

  it("08 names: a 90-character CJK key, emoji and bidi items make folders of at most 255 bytes, without bidi controls", async () => {
    const r = await runCase("08-long-names.yaml");
    expectClearEnd(r, "Succeeded");
    const folders = await fs.readdir(r.doc.dir as string);
    expect(folders.length).toBeGreaterThanOrEqual(5);
    for (const f of folders) {
      expect(Buffer.byteLength(f)).toBeLessThanOrEqual(255);
      expect(f).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/);
    }
  });

  it.skipIf(!canMountTmpfs())("09 disk full: the run ends Error naming the path, with a --json document, and resumes once there is room", async () => {
    const workdir = await fs.mkdtemp(path.join(root, "09-"));
    spawnSync("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", workdir]);
    try {
      const full = await runCase("09-disk-full.yaml", { workdir, args: ["--name", "hostile-disk-full"] });
      expectClearEnd(full, "Error", /ENOSPC/);
      expect(full.doc.message).toContain(workdir);
      expect((await fs.readFile(path.join(full.doc.dir as string, "status"), "utf8")).trim()).toBe("Error");
      spawnSync("mount", ["-o", "remount,size=64m", workdir]);
      const resumed = await runCase("09-disk-full.yaml", { workdir, args: ["--name", "hostile-disk-full"] });
      expectClearEnd(resumed, "Succeeded");
      expect(byName(resumed, "after")[0]?.outputs?.result).toBe("after");
    } finally {
      spawnSync("umount", ["-l", workdir]);
    }
  });

  it("11 huge values: messages stay short and a value is not multiplied into them", async () => {
    const r = await runCase("11-huge-values.yaml");
    expectClearEnd(r, "Failed");
    expect(r.doc.message).toMatch(/withParam value could not be parsed as a JSON list: x+… \(\d+ more characters\)$/);
    expect(byName(r, "big-value")[0]?.outputs?.result).toBe("5000000");
    // The value is on the consumer's inputs once (Argo's shape), not in any message.
    const doc = JSON.stringify(r.doc);
    expect(doc.length).toBeLessThan(5_000_000 * 1.2);
  });

  it("12 parallelism: below 1 is an error at workflow level as at template level", async () => {
    const r = await runCase("12-negative-parallelism.yaml");
    // The engine's message, or Argo's validation's where the manifest is refused before it runs.
    expectClearEnd(r, "Error", /parallelism/);
  });

  it("10 secrets: a step's environment holds no credential of the engine's", async () => {
    const secrets = { OPFLOW_S3_SECRET_KEY: "SECRET-s3", ARGO_TOKEN: "SECRET-argo", AWS_SECRET_ACCESS_KEY: "SECRET-aws", KUBECONFIG: "/SECRET/kubeconfig" };
    const r = await runCase("10-secrets-env.yaml", { env: secrets });
    expectClearEnd(r, "Succeeded");
    const env = r.nodes[0]?.outputs?.result ?? "";
    expect(env).toContain("FROM_TEMPLATE=yes");
    expect(JSON.stringify(r.doc)).not.toContain("SECRET");
    const log = await fs.readFile(path.join(r.doc.dir as string, "_root", "log.txt"), "utf8").catch(async () => {
      const [only] = (await fs.readdir(r.doc.dir as string, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith("."));
      return fs.readFile(path.join(r.doc.dir as string, only!.name, "log.txt"), "utf8");
    });
    expect(log).not.toContain("SECRET");
  });
});

/** The families with a case in the corpus so far (issue 14's items). */
const EXPECTED_FAMILIES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

/** Whether this process may mount a small tmpfs (root, mount allowed): the full-disk case needs one. */
export function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync("sh", ["-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d; r=$?; rmdir $d; exit $r"]).status === 0;
}

/** The canary folder the escape cases aim at (their manifests name it). */
const CANARY = "/var/tmp/opflow-hostile-canary";

/** Runs `f` with the canary folder in place (a folder, a precious file, a secret), then removes it. */
async function withCanary(f: (canary: string) => Promise<void>): Promise<void> {
  await fs.rm(CANARY, { recursive: true, force: true });
  await fs.mkdir(path.join(CANARY, "victim-dir"), { recursive: true });
  await fs.writeFile(path.join(CANARY, "victim-dir", "precious"), "keep me");
  await fs.writeFile(path.join(CANARY, "secret.txt"), "CANARY-SECRET");
  try {
    await f(CANARY);
  } finally {
    await fs.rm(CANARY, { recursive: true, force: true });
  }
}

/** Every file under `dir` with its content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    out[path.relative(dir, p)] = e.isFile() ? await fs.readFile(p, "utf8") : "<dir>";
  }
  return out;
}

const bystanders: ChildProcess[] = [];
afterAll(() => {
  for (const c of bystanders) if (c.pid !== undefined && alive(c.pid)) process.kill(c.pid, "SIGKILL");
});

/** An unrelated process in a process group of its own, which SIGKILL or SIGUSR2 would end. */
function bystander(): ChildProcess {
  const child = spawn("sleep", ["120"], { detached: true, stdio: "ignore" });
  child.unref();
  bystanders.push(child);
  return child;
}

function alive(pid: number): boolean {
  try {
    const stat = spawnSync("cat", [`/proc/${pid}/stat`], { encoding: "utf8" }).stdout;
    return stat !== "" && !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}
