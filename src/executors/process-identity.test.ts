import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bootId, formatIdentity, isSameProcess, parseIdentity, processIdentity, processStartTime, signalIfSame } from "./process-identity.ts";

describe("process identity", () => {
  it("tells a live process from one that got its pid: start time and boot id must match", () => {
    const me = processIdentity();
    expect(me.pid).toBe(process.pid);
    expect(me.startTime).toMatch(/^\d+$/);
    expect(me.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(isSameProcess(me)).toBe(true);
    expect(isSameProcess({ ...me, startTime: String(Number(me.startTime) + 1) })).toBe(false);
    expect(isSameProcess({ ...me, bootId: "00000000-0000-0000-0000-000000000000" })).toBe(false);
    expect(isSameProcess({ pid: process.pid })).toBe(false); // no identity recorded: not trusted
    expect(isSameProcess({ pid: 4194303, startTime: "1", bootId: bootId()! })).toBe(false);
    expect(isSameProcess({ pid: 1, startTime: processStartTime(1)!, bootId: bootId()! })).toBe(false); // never init
  });

  it("reads the start time after a command name with spaces and parentheses", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opflow-identity-"));
    const odd = path.join(dir, "x) (y z");
    symlinkSync(execFileSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).trim(), odd);
    const child = spawn(odd, ["5"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 100));
    const start = processStartTime(child.pid!);
    expect(start).toMatch(/^\d+$/);
    expect(Number(start)).toBeGreaterThanOrEqual(Number(processIdentity().startTime));
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("round-trips through one pid-file line and reads a bare pid", () => {
    const me = processIdentity();
    expect(parseIdentity(formatIdentity(me))).toEqual(me);
    expect(parseIdentity("123\n")).toEqual({ pid: 123 });
    expect(parseIdentity("")).toBeUndefined();
    expect(parseIdentity("-5 1 b")).toBeUndefined();
  });

  it("signals only a confirmed process", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 100));
    const id = processIdentity(child.pid!);
    expect(signalIfSame({ ...id, startTime: "1" }, "SIGTERM")).toBe(false);
    const ended = new Promise((r) => child.on("exit", (_c, sig) => r(sig)));
    expect(signalIfSame(id, "SIGTERM")).toBe(true);
    expect(await ended).toBe("SIGTERM");
  });
});
