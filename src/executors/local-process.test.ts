import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { namespacesAvailable, runProcess, runProcessHere, warmUpLauncher, type ProcessResult, type ProcessSpec } from "./local-process.ts";

const made: string[] = [];
async function tmp(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-proc-"));
  made.push(dir);
  return dir;
}
afterAll(() => Promise.all(made.map((d) => fs.rm(d, { recursive: true, force: true }))));

const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };

/** Whether any process of group `pgid` is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const starters: [string, (spec: ProcessSpec) => Promise<ProcessResult>][] = [
  ["through the launcher", runProcess],
  ["from the engine's own process", runProcessHere],
];

describe.each(starters)("runProcess %s", (_, run) => {
  it("captures stdout, logs stdout and stderr, and reports the exit code", async () => {
    await warmUpLauncher();
    const dir = await tmp();
    const r = await run({ argv: ["sh", "-c", "echo out; echo err >&2; exit 4"], cwd: dir, env, logFile: path.join(dir, "log.txt") });
    expect(r).toMatchObject({ exitCode: 4, stdout: "out\n", timedOut: false, aborted: false });
    const log = await fs.readFile(path.join(dir, "log.txt"), "utf8");
    expect(log).toContain("out\n");
    expect(log).toContain("err\n");
  });

  it("runs in the given directory with exactly the given environment, and feeds stdin", async () => {
    const dir = await tmp();
    const r = await run({ argv: ["sh", "-c", 'pwd; echo "${ONLY:-}${HOME:-nohome}"; cat'], cwd: dir, env: { ...env, ONLY: "x" }, logFile: path.join(dir, "log.txt"), stdin: "fed\n" });
    expect(r.stdout).toBe(`${await fs.realpath(dir)}\nxnohome\nfed\n`);
  });

  it("reports a command that cannot start", async () => {
    const dir = await tmp();
    const r = await run({ argv: ["/no/such/cmd"], cwd: dir, env, logFile: path.join(dir, "log.txt") });
    expect(r.exitCode).toBe(127);
    expect(r.startError).toMatch(/could not start "\/no\/such\/cmd"/);
    expect(await fs.readFile(path.join(dir, "log.txt"), "utf8")).toMatch(/could not start/);
  });

  it("reports the exit status of a process killed by a signal as 128 + n", async () => {
    const dir = await tmp();
    const r = await run({ argv: ["sh", "-c", "kill -KILL $$"], cwd: dir, env, logFile: path.join(dir, "log.txt") });
    expect(r.exitCode).toBe(137);
  });

  it("kills the whole process group on timeout and on abort", async () => {
    const dir = await tmp();
    let pgid = 0;
    const t0 = Date.now();
    const r = await run({ argv: ["sh", "-c", "sleep 30 & sleep 30"], cwd: dir, env, logFile: path.join(dir, "log.txt"), timeoutMs: 300, graceMs: 200, onSpawn: (pid) => (pgid = pid) });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(pgid).toBeGreaterThan(1);
    await until("the timed-out group is gone", () => !groupAlive(pgid));
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const a = await run({ argv: ["sh", "-c", "trap '' TERM; sleep 30"], cwd: dir, env, logFile: path.join(dir, "log.txt"), signal: stop.signal, graceMs: 200 });
    expect(a.aborted).toBe(true);
  });

  it.runIf(namespacesAvailable())("bind-mounts directories in a private mount namespace", async () => {
    const dir = await tmp();
    const mine = path.join(dir, "mine");
    await fs.mkdir(mine);
    const name = `opflow-ns-${process.pid}-${Date.now()}`;
    const r = await run({ argv: ["sh", "-c", `echo hi > /tmp/${name}`], cwd: "/tmp", env, logFile: path.join(dir, "log.txt"), mounts: [{ source: mine, target: "/tmp" }] });
    expect(r.exitCode).toBe(0);
    expect(await fs.readFile(path.join(mine, name), "utf8")).toBe("hi\n");
    await expect(fs.access(`/tmp/${name}`)).rejects.toThrow();
  });
});

describe("the process launcher", () => {
  it("starts processes from its own process, not the engine's", async () => {
    expect(await warmUpLauncher()).toBe(true);
    const dir = await tmp();
    const r = await runProcess({ argv: ["sh", "-c", "echo $PPID"], cwd: dir, env, logFile: path.join(dir, "log.txt") });
    const parent = Number(r.stdout.trim());
    expect(parent).not.toBe(process.pid);
    expect(await fs.readFile(`/proc/${parent}/cmdline`, "utf8")).toContain("opflow-process-launcher");
  });

  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  /** Starts the stand-in engine in its own process group and reads its JSON lines. */
  function engine(dir: string): { child: ChildProcess; next: () => Promise<Record<string, unknown>> } {
    const child = spawn(process.execPath, [path.join(root, "bin/run-ts.mjs"), path.join(root, "test/fixtures/launcher.ts"), dir], { detached: true, stdio: ["ignore", "pipe", "inherit"] });
    const lines: Record<string, unknown>[] = [];
    let waiting: (() => void) | undefined;
    let buf = "";
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
        buf = buf.slice(i + 1);
        waiting?.();
      }
    });
    const next = async (): Promise<Record<string, unknown>> => {
      while (lines.length === 0) await new Promise<void>((r) => (waiting = r));
      return lines.shift() as Record<string, unknown>;
    };
    return { child, next };
  }

  it("ends the processes it started when the engine is killed with SIGKILL", async () => {
    const dir = await tmp();
    const { child, next } = engine(dir);
    expect(await next()).toEqual({ up: true });
    const { pid } = (await next()) as { pid: number };
    expect(groupAlive(pid)).toBe(true);
    process.kill(child.pid as number, "SIGKILL");
    await until("the step's process group is gone", () => !groupAlive(pid));
  });

  it("outlives Ctrl-C sent to the engine's process group, so the engine can stop its steps", async () => {
    const dir = await tmp();
    const { child, next } = engine(dir);
    expect(await next()).toEqual({ up: true });
    const { pid } = (await next()) as { pid: number };
    process.kill(-(child.pid as number), "SIGINT");
    const { result } = (await next()) as { result: ProcessResult };
    expect(result).toMatchObject({ aborted: true });
    await until("the step's process group is gone", () => !groupAlive(pid));
  });
});

// Last: it kills this test process's launcher.
describe("when the launcher dies", () => {
  it("kills and reports the step it was following, and starts later processes from the engine", async () => {
    expect(await warmUpLauncher()).toBe(true);
    const dir = await tmp();
    let pgid = 0;
    const running = runProcess({ argv: ["sh", "-c", "sleep 30"], cwd: dir, env, logFile: path.join(dir, "log.txt"), onSpawn: (pid) => (pgid = pid) });
    await until("the step started", () => pgid > 0);
    const launcher = Number((await fs.readFile(`/proc/${pgid}/stat`, "utf8")).split(") ")[1]?.split(" ")[1]);
    expect(launcher).not.toBe(process.pid);
    process.kill(launcher, "SIGKILL");
    const r = await running;
    expect(r.exitCode).toBe(1);
    expect(r.startError).toMatch(/the process launcher stopped \(killed by SIGKILL\) while this step's process ran; the process was killed/);
    await until("the step's group is gone", () => !groupAlive(pgid));
    const after = await runProcess({ argv: ["sh", "-c", "echo $PPID"], cwd: dir, env, logFile: path.join(dir, "log.txt") });
    expect(Number(after.stdout.trim())).toBe(process.pid);
    expect(await warmUpLauncher()).toBe(false);
  });
});
