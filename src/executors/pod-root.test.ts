import fs from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PodRoot, PodSpec } from "./executor.ts";
import { LocalProcessExecutor, namespacesAvailable } from "./local-process.ts";
import { POD_ROOT_SCRATCH, ownPaths, podRootPlan } from "./pod-root.ts";

const NAMESPACES = namespacesAvailable();
const made: string[] = [];
async function tmp(prefix: string, where = os.tmpdir()): Promise<string> {
  const dir = await fs.mkdtemp(path.join(where, prefix));
  made.push(dir);
  return dir;
}
afterAll(() => Promise.all(made.map((d) => fs.rm(d, { recursive: true, force: true }))));

/** Every entry under `dir` with its content (files) or kind. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    const st = await fs.lstat(p);
    out[path.relative(dir, p)] = e.isFile() ? `${await fs.readFile(p, "utf8")} @${st.mtimeMs}` : e.isSymbolicLink() ? "<link>" : "<dir>";
  }
  return out;
}

function root(dir: string, r: Partial<PodRoot>): PodRoot {
  return { source: path.join(dir, "fs"), inputs: [], outputs: [], others: [], ...r };
}

describe("the pod's own root file system (plan)", () => {
  it("lists only absolute paths outside /tmp and /mnt, normalized", () => {
    expect(ownPaths({ source: "/s", inputs: ["/data//in", "/tmp/x"], outputs: ["/output", "/mnt/y", "rel", "/"], others: ["/app/../app"] })).toEqual(["/app", "/data/in", "/output"]);
  });

  it("binds this machine's entries beside the declared paths, never the declared ones, and skeletons the folders on the way", async () => {
    const host = await tmp("opflow-root-host-", "/var/tmp");
    await fs.mkdir(path.join(host, "keep"));
    await fs.writeFile(path.join(host, "declared.txt"), "host's");
    await fs.writeFile(path.join(host, "beside.txt"), "beside");
    await fs.symlink("keep", path.join(host, "link"));
    const dir = await tmp("opflow-root-step-");
    const plan = podRootPlan(dir, root(dir, { outputs: [`${host}/declared.txt`] }), [{ source: dir, target: "/tmp" }]);
    const merged = path.join(dir, POD_ROOT_SCRATCH, "root");
    const lower = path.join(dir, POD_ROOT_SCRATCH, "lower");
    expect(plan.root).toBe(merged);
    const binds: string[] = [];
    for (let i = 0; i < plan.steps.length; i++) if (plan.steps[i] === "b") binds.push(`${plan.steps[i + 1]} -> ${plan.steps[i + 2]}`);
    expect(binds).toContain(`${host}/keep -> ${merged}${host}/keep`);
    expect(binds).toContain(`${host}/beside.txt -> ${merged}${host}/beside.txt`);
    expect(binds).toContain(`/usr -> ${merged}/usr`);
    expect(binds).toContain(`${dir} -> ${merged}/tmp`);
    expect(binds.some((b) => b.startsWith(`${host}/declared.txt `) || b.startsWith("/var ") || b.startsWith("/tmp "))).toBe(false);
    expect(await fs.readlink(path.join(lower, host, "link"))).toBe("keep");
    expect(existsSync(path.join(lower, host, "declared.txt"))).toBe(false);
    // The overlay's upper layer is the step's fs/, given relative to the step's folder.
    expect(plan.steps.slice(plan.steps.indexOf("o"), plan.steps.indexOf("o") + 6)).toEqual(["o", dir, `${POD_ROOT_SCRATCH}/lower`, "fs", `${POD_ROOT_SCRATCH}/work`, merged]);
  });

  it("refuses a declared path under a symbolic link of this machine, naming both", async () => {
    const host = await tmp("opflow-root-link-", "/var/tmp");
    await fs.mkdir(path.join(host, "real"));
    await fs.symlink(path.join(host, "real"), path.join(host, "via"));
    const dir = await tmp("opflow-root-step-");
    expect(() => podRootPlan(dir, root(dir, { outputs: [`${host}/via/out`] }), [], 'template "t"')).toThrow(`template "t": path ${host}/via/out: ${host}/via is a symbolic link on this machine`);
  });
});

describe.skipIf(!NAMESPACES)(`a local process with its own root file system${NAMESPACES ? "" : " (skipped: needs root and unshare)"}`, () => {
  let canary: string;
  const absent = `/opflow-canary-absent-${process.pid}-${Date.now().toString(36)}`;
  beforeAll(async () => {
    canary = await tmp("opflow-root-canary-", "/var/tmp");
    await fs.mkdir(path.join(canary, "dir"));
    await fs.writeFile(path.join(canary, "dir", "precious"), "keep me");
    await fs.writeFile(path.join(canary, "out.txt"), "host's out");
    await fs.writeFile(path.join(canary, "in.txt"), "host's in");
  });

  async function run(dir: string, command: string, r: Partial<PodRoot>, workingDir = "/tmp"): Promise<{ exitCode: number; stdout: string; log: string; startError?: string }> {
    await fs.mkdir(path.join(dir, "mnt"), { recursive: true });
    const spec: PodSpec = {
      name: "n",
      template: "t",
      command: ["sh", "-c", command],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
      workingDir,
      dir,
      parameters: {},
      mounts: [
        { source: dir, target: "/tmp" },
        { source: path.join(dir, "mnt"), target: "/mnt" },
      ],
      podRoot: root(dir, r),
      logFile: path.join(dir, "log.txt"),
      signal: new AbortController().signal,
    };
    const end = await new LocalProcessExecutor(true).run(spec);
    const log = existsSync(spec.logFile) ? readFileSync(spec.logFile, "utf8") : "";
    return { exitCode: end.exitCode, stdout: end.stdout, log, ...(end.startError ? { startError: end.startError } : {}) };
  }

  it("writes declared paths into the step's fs/, reads inputs laid out there, and leaves this machine's paths untouched", async () => {
    const before = await snapshot(canary);
    const dir = await tmp("opflow-root-step-");
    await fs.mkdir(path.join(dir, "fs", canary.slice(1)), { recursive: true });
    await fs.writeFile(path.join(dir, "fs", canary.slice(1), "in.txt"), "pod's in");
    const script = [
      "set -e",
      `cat ${canary}/in.txt; echo`,
      `echo pod > ${canary}/out.txt`,
      `mkdir -p ${absent}/deep && echo made > ${absent}/deep/x`,
      `cat ${canary}/dir/precious; echo`,
      "echo scratch > /tmp/scratch",
      "head -c 4 /etc/passwd; echo",
    ].join("\n");
    const r = await run(dir, script, { inputs: [`${canary}/in.txt`], outputs: [`${canary}/out.txt`, absent] });
    expect(r.startError).toBeUndefined();
    expect(r.exitCode, r.log).toBe(0);
    // The pod sees its own input, this machine's files beside it and its programs.
    expect(r.stdout).toBe(`pod's in\nkeep me\n${readFileSync("/etc/passwd", "utf8").slice(0, 4)}\n`);
    expect(readFileSync(path.join(dir, "fs", canary.slice(1), "out.txt"), "utf8")).toBe("pod\n");
    expect(readFileSync(path.join(dir, "fs", absent.slice(1), "deep", "x"), "utf8")).toBe("made\n");
    expect(readFileSync(path.join(dir, "scratch"), "utf8")).toBe("scratch\n");
    // The overlay's skeleton is gone with the process; fs/ stays.
    expect(existsSync(path.join(dir, POD_ROOT_SCRATCH))).toBe(false);
    // This machine: the canary as it was, the absent path still absent.
    expect(await snapshot(canary)).toEqual(before);
    expect(existsSync(absent)).toBe(false);
  });

  it("works in a declared working directory that this machine does not have, made in the step's fs/", async () => {
    const dir = await tmp("opflow-root-step-");
    await fs.mkdir(path.join(dir, "fs", absent.slice(1), "wd"), { recursive: true });
    const r = await run(dir, "pwd; echo here > result", { others: [`${absent}/wd`], outputs: [`${absent}/wd/result`] }, `${absent}/wd`);
    expect(r.exitCode, r.log).toBe(0);
    expect(r.stdout).toBe(`${absent}/wd\n`);
    expect(readFileSync(path.join(dir, "fs", absent.slice(1), "wd", "result"), "utf8")).toBe("here\n");
    expect(existsSync(absent)).toBe(false);
  });

  it("reports a declared path under a symbolic link of this machine as a start error", async () => {
    const host = await tmp("opflow-root-link-", "/var/tmp");
    await fs.mkdir(path.join(host, "real"));
    await fs.symlink(path.join(host, "real"), path.join(host, "via"));
    const dir = await tmp("opflow-root-step-");
    const r = await run(dir, "echo x > /nowhere", { outputs: [`${host}/via/out`] });
    expect(r.startError).toMatch(/is a symbolic link on this machine/);
    expect(await fs.readdir(path.join(host, "real"))).toEqual([]);
  });
});
