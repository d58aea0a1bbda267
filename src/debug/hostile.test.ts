/**
 * The local engine against hostile or unlucky input (issue 14): each test is a small manifest
 * that once escaped the run folder, hung, crashed the engine or killed an unrelated process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { bootId, formatIdentity, parseIdentity, processIdentity, processStartTime } from "../executors/process-identity.ts";
import { LocalArgoClient } from "./local-argo-client.ts";
import { CONTROL_FILE, CONTROL_SIGNAL } from "./state-tree.ts";
import { manifest, node, phases, sh, workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

describe("deadlines of 24.8 days and more (setTimeout's 2^31 ms limit)", () => {
  it("do not fire at once: activeDeadlineSeconds 2592000 on workflow and template, timeout 720h on a template", async () => {
    const wf = manifest(
      "long-deadlines",
      [
        { name: "main", steps: [[{ name: "a", template: "work" }], [{ name: "b", template: "nap" }]] },
        sh("work", "sleep 0.3; echo done", { activeDeadlineSeconds: 2592000, timeout: "720h" }),
        { name: "nap", suspend: { duration: "1s" } },
      ],
      { activeDeadlineSeconds: 2592000 },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(phases(status)).toMatchObject({ a: "Succeeded", b: "Succeeded" });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "a").outputs?.result).toBe("done");
  });
});

describe("stale pids (a recorded pid that names an unrelated process by now)", () => {
  /** An unrelated process in its own process group: a `sleep` that SIGUSR2 or SIGKILL would end. */
  function bystander(): ChildProcess {
    const child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    child.unref();
    spawned.push(child);
    return child;
  }
  const alive = (pid: number): boolean => processStartTime(pid) !== undefined;
  const spawned: ChildProcess[] = [];
  afterAll(() => {
    for (const c of spawned) if (c.pid && alive(c.pid)) process.kill(c.pid, "SIGKILL");
  });

  it("a resumed run kills the process group of an unfinished step only when it is still that process", async () => {
    const stale = bystander();
    const legacy = bystander();
    const ours = bystander();
    await new Promise((r) => setTimeout(r, 100));
    const dir = await workdir();
    const name = "stale-resume";
    await fs.mkdir(path.join(dir, name), { recursive: true });
    const journal = [
      { pid: stale.pid, start: "1", boot: bootId(), id: "stale-resume-1" }, // the pid, reused since
      { pid: legacy.pid, id: "stale-resume-2" }, // an older engine's record: no identity
      { pid: ours.pid, start: processStartTime(ours.pid!), boot: bootId(), id: "stale-resume-3" }, // still the step
    ];
    await fs.writeFile(path.join(dir, name, "nodes.jsonl"), journal.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const { status } = await runWorkflow(manifest(name, [sh("main", "true")]), { workdir: dir, name });
    expect(status.phase).toBe("Succeeded");
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(stale.pid!)).toBe(true);
    expect(alive(legacy.pid!)).toBe(true);
    expect(alive(ours.pid!)).toBe(false);
  });

  it("opflow stop|terminate --mode debug signals the recorded engine only when it is still that engine", async () => {
    const dir = await workdir();
    const name = "stale-engine";
    const run = path.join(dir, name);
    await fs.mkdir(run, { recursive: true });
    await fs.writeFile(path.join(run, "manifest.yaml"), YAML.stringify(manifest(name, [sh("main", "true")])));
    await fs.writeFile(path.join(run, "status"), "Running");
    await fs.writeFile(path.join(run, CONTROL_FILE), CONTROL_SIGNAL);
    const client = new LocalArgoClient({ workdir: dir });

    const stranger = bystander(); // got the dead engine's pid
    await new Promise((r) => setTimeout(r, 100));
    await fs.writeFile(path.join(run, "engine.pid"), formatIdentity({ pid: stranger.pid!, startTime: "1", bootId: bootId()! }));
    await expect(client.stop(name)).rejects.toThrow(/not running/);
    await expect(client.terminate(name)).rejects.toThrow(/not running/);
    expect(alive(stranger.pid!)).toBe(true);

    // The same files naming a live process by its true identity: it is signalled (SIGUSR2 ends a sleep).
    await fs.writeFile(path.join(run, "engine.pid"), formatIdentity(processIdentity(stranger.pid!)));
    await client.stop(name);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(stranger.pid!)).toBe(false);
  });

  it("records the engine and each step process with start time and boot id", async () => {
    const dir = await workdir();
    const name = "identity-recorded";
    const wf = manifest(name, [sh("main", "cat ../../engine.pid")]);
    const { status, dir: runDir } = await runWorkflow(wf, { workdir: dir, name });
    const seen = node(status, name).outputs?.result ?? "";
    expect(parseIdentity(seen)).toEqual(processIdentity());
    const journal = (await fs.readFile(path.join(runDir, "nodes.jsonl"), "utf8")).split("\n").filter((l) => l.includes('"pid"'));
    expect(journal).toHaveLength(1);
    expect(JSON.parse(journal[0]!)).toMatchObject({ pid: expect.any(Number), start: expect.stringMatching(/^\d+$/), boot: bootId() });
  });
});
