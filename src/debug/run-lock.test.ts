import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EngineError } from "../errors.ts";
import { LOCK_FILE, RunLockedError, acquireRunLock, currentHolder, holderAlive, liveRunLockHolder, type RunLockHolder } from "./run-lock.ts";

let dir: string;
beforeEach(async () => {
  dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "opflow-lock-")), "run-a");
});
afterEach(async () => {
  await fs.rm(path.dirname(dir), { recursive: true, force: true });
});

/** The pid of a process that has just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

async function writeLock(holder: Partial<RunLockHolder>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const full = { ...currentHolder(), ...holder };
  await fs.writeFile(path.join(dir, LOCK_FILE), JSON.stringify(full));
}

describe("run lock", () => {
  it("names this process, host and start time in the lock file, and removes it on release", async () => {
    const lock = await acquireRunLock(dir);
    const written = JSON.parse(await fs.readFile(path.join(dir, LOCK_FILE), "utf8")) as RunLockHolder;
    expect(written.pid).toBe(process.pid);
    expect(written.host).toBe(os.hostname());
    expect(written.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    if (process.platform === "linux") expect(written.startTime).toMatch(/^\d+$/);
    expect(lock.tookOverFrom).toBeUndefined();
    await lock.release();
    await expect(fs.access(path.join(dir, LOCK_FILE))).rejects.toThrow();
    // No temporary files left behind.
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it("refuses a second engine at once, naming the pid and host of the first", async () => {
    const lock = await acquireRunLock(dir);
    const err = await acquireRunLock(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunLockedError);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as Error).message).toContain(`run "run-a" is being run by another engine (pid ${process.pid} on host ${os.hostname()}`);
    expect(await liveRunLockHolder(dir)).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(await liveRunLockHolder(dir)).toBeUndefined();
    await (await acquireRunLock(dir)).release();
  });

  it("takes over the lock of an engine that is gone", async () => {
    const pid = deadPid();
    await writeLock({ pid, startTime: undefined, nonce: "dead0001" });
    const lock = await acquireRunLock(dir);
    expect(lock.tookOverFrom).toMatchObject({ pid, nonce: "dead0001" });
    expect(JSON.parse(await fs.readFile(path.join(dir, LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid, nonce: lock.holder.nonce });
    await lock.release();
  });

  it("tells a recycled pid from the engine by its start time, and a reboot by the boot id", async () => {
    expect(holderAlive({ ...currentHolder() })).toBe(true);
    if (process.platform === "linux") {
      expect(holderAlive({ ...currentHolder(), startTime: "1" })).toBe(false);
      expect(holderAlive({ ...currentHolder(), bootId: "00000000-0000-0000-0000-000000000000" })).toBe(false);
    }
    // Another machine's engine cannot be checked from here: it counts as alive.
    expect(holderAlive({ ...currentHolder(), host: "elsewhere.example", pid: deadPid() })).toBe(true);
    await writeLock({ host: "elsewhere.example", pid: 4242 });
    await expect(acquireRunLock(dir)).rejects.toThrow(/pid 4242 on host elsewhere\.example.*if that engine is gone, remove engine\.lock/);
  });

  it("lets exactly one of several engines racing for a stale lock have it", async () => {
    await writeLock({ pid: deadPid(), startTime: undefined, nonce: "dead0002" });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireRunLock(dir)));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(RunLockedError);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireRunLock>>>).value.release();
    expect((await fs.readdir(dir)).filter((f) => f !== LOCK_FILE)).toEqual([]);
  });

  it("lets exactly one of several processes racing for a stale lock have it", async () => {
    await writeLock({ pid: deadPid(), startTime: undefined, nonce: "dead0003" });
    const script = `
      const { acquireRunLock } = await import(${JSON.stringify(path.resolve("src/debug/run-lock.ts"))});
      try { const l = await acquireRunLock(${JSON.stringify(dir)}); console.log("won"); setTimeout(() => l.release(), 1500); }
      catch (e) { console.log(e.name); }`;
    const runOne = (): Promise<string> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("exit", () => resolve(out.trim()));
      });
    const outs = await Promise.all([runOne(), runOne(), runOne()]);
    expect(outs.filter((o) => o === "won")).toHaveLength(1);
    expect(outs.filter((o) => o === "RunLockedError")).toHaveLength(2);
  }, 30_000);

  it("takes over when the engine that was taking a stale lock over died in the middle", async () => {
    const dead = deadPid();
    await writeLock({ pid: dead, startTime: undefined, nonce: "dead0004" });
    // A claim left by a second engine that died while taking the lock over.
    await fs.writeFile(path.join(dir, `${LOCK_FILE}.takeover-dead0004`), JSON.stringify({ ...currentHolder(), pid: dead, startTime: undefined, nonce: "dead0005" }));
    const lock = await acquireRunLock(dir);
    expect(lock.holder.pid).toBe(process.pid);
    await lock.release();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it("release leaves alone a lock that is no longer its own", async () => {
    const lock = await acquireRunLock(dir);
    await writeLock({ nonce: "someone-else" });
    await lock.release();
    expect(JSON.parse(await fs.readFile(path.join(dir, LOCK_FILE), "utf8"))).toMatchObject({ nonce: "someone-else" });
  });

  it("refuses a lock file it cannot read, naming it", async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, LOCK_FILE), "12345");
    await expect(acquireRunLock(dir)).rejects.toThrow(/run lock .*engine\.lock: expected pid \(number\), host, startedAt and nonce/);
    await fs.writeFile(path.join(dir, LOCK_FILE), "{not json");
    await expect(acquireRunLock(dir)).rejects.toThrow(/not a lock this engine wrote/);
  });
});
