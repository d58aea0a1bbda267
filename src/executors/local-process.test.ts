import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { namespacesAvailable, runProcess } from "./local-process.ts";

const made: string[] = [];
async function tmp(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-proc-"));
  made.push(dir);
  return dir;
}
afterAll(() => Promise.all(made.map((d) => fs.rm(d, { recursive: true, force: true }))));

const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };

describe("runProcess", () => {
  it("captures stdout, logs stdout and stderr, and reports the exit code", async () => {
    const dir = await tmp();
    const r = await runProcess({ argv: ["sh", "-c", "echo out; echo err >&2; exit 4"], cwd: dir, env, logFile: path.join(dir, "log.txt") });
    expect(r).toMatchObject({ exitCode: 4, stdout: "out\n", timedOut: false, aborted: false });
    const log = await fs.readFile(path.join(dir, "log.txt"), "utf8");
    expect(log).toContain("out\n");
    expect(log).toContain("err\n");
  });

  it("runs in the given directory with exactly the given environment", async () => {
    const dir = await tmp();
    const r = await runProcess({ argv: ["sh", "-c", 'pwd; echo "${ONLY:-}${HOME:-nohome}"'], cwd: dir, env: { ...env, ONLY: "x" }, logFile: path.join(dir, "log.txt") });
    expect(r.stdout).toBe(`${await fs.realpath(dir)}\nxnohome\n`);
  });

  it("reports a command that cannot start", async () => {
    const dir = await tmp();
    const r = await runProcess({ argv: ["/no/such/cmd"], cwd: dir, env, logFile: path.join(dir, "log.txt") });
    expect(r.exitCode).toBe(127);
    expect(r.startError).toMatch(/could not start "\/no\/such\/cmd"/);
  });

  it("kills the whole process group on timeout and on abort", async () => {
    const dir = await tmp();
    const t0 = Date.now();
    const r = await runProcess({ argv: ["sh", "-c", "sleep 30 & sleep 30"], cwd: dir, env, logFile: path.join(dir, "log.txt"), timeoutMs: 300, graceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const a = await runProcess({ argv: ["sh", "-c", "trap '' TERM; sleep 30"], cwd: dir, env, logFile: path.join(dir, "log.txt"), signal: stop.signal, graceMs: 200 });
    expect(a.aborted).toBe(true);
  });

  it.runIf(namespacesAvailable())("bind-mounts directories in a private mount namespace", async () => {
    const dir = await tmp();
    const mine = path.join(dir, "mine");
    await fs.mkdir(mine);
    const name = `opflow-ns-${process.pid}-${Date.now()}`;
    const r = await runProcess({ argv: ["sh", "-c", `echo hi > /tmp/${name}`], cwd: "/tmp", env, logFile: path.join(dir, "log.txt"), mounts: [{ source: mine, target: "/tmp" }] });
    expect(r.exitCode).toBe(0);
    expect(await fs.readFile(path.join(mine, name), "utf8")).toBe("hi\n");
    await expect(fs.access(`/tmp/${name}`)).rejects.toThrow();
  });
});
