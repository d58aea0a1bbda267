import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import type { Template } from "../argo/model.ts";
import { opflow } from "../../test/cli-capture.ts";
import { manifest, node, phases, sh, workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";
import { StateTree } from "./state-tree.ts";
import { readRunStatus } from "./run-folder.ts";

afterAll(removeWorkdirs);

/**
 * The shape of Argo's own stop/terminate test: a DAG task that sleeps, with a task-level exit
 * handler, a task that depends on it, and a workflow exit handler.
 */
function sleepy(name: string): ReturnType<typeof manifest> {
  const templates: Template[] = [
    {
      name: "main",
      dag: {
        tasks: [
          { name: "A", template: "sleep", onExit: "exit-template" },
          { name: "B", template: "ok", depends: "A" },
        ],
      },
    },
    sh("sleep", "touch started; sleep 60"),
    sh("ok", "true"),
    sh("exit", `echo "workflow exit {{workflow.status}}"`),
    sh("exit-template", "echo task exit"),
  ];
  return manifest(name, templates, { onExit: "exit" });
}

/** Waits until the step in folder `step` of the run touched `started` in its working directory. */
async function whenStarted(dir: string, run: string, step: string): Promise<void> {
  const marker = path.join(dir, run, step, "workdir", "started");
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await fs.access(marker).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the sleeping step never started");
}

describe("stopping a run", () => {
  it("terminate: kills the running step, starts nothing more, runs no exit handler", async () => {
    const dir = await workdir();
    const terminate = new AbortController();
    const run = runWorkflow(sleepy("terminated"), { workdir: dir, signal: terminate.signal });
    await whenStarted(dir, "terminated", "A");
    const t0 = Date.now();
    terminate.abort("Stopped with strategy 'Terminate'");
    const { status } = await run;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(status).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Terminate'" });
    expect(node(status, "A")).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Terminate'" });
    expect(Object.keys(phases(status))).not.toContain("B");
    // A's exit handler is not run (Argo, too, fails the node it would have started).
    const exits = Object.values(status.nodes ?? {}).filter((n) => n.displayName.includes("onExit"));
    for (const n of exits) expect(n).toMatchObject({ displayName: "A.onExit", phase: "Failed", message: "Stopped with strategy 'Terminate'" });
    for (const n of exits) expect(n.outputs?.exitCode).toBeUndefined();
    expect(exits.map((n) => n.displayName)).not.toContain("terminated.onExit");
  });

  it("stop: kills the running step and starts nothing more, but the exit handlers run", async () => {
    const dir = await workdir();
    const stop = new AbortController();
    const run = runWorkflow(sleepy("stopped"), { workdir: dir, stopSignal: stop.signal });
    await whenStarted(dir, "stopped", "A");
    stop.abort("Stopped with strategy 'Stop'");
    const { status } = await run;
    expect(status).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Stop'" });
    expect(node(status, "A")).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Stop'" });
    expect(Object.keys(phases(status))).not.toContain("B");
    expect(node(status, "A.onExit")).toMatchObject({ phase: "Succeeded" });
    expect(node(status, "A.onExit").outputs?.result).toBe("task exit");
    const exit = node(status, "stopped.onExit");
    expect(exit).toMatchObject({ phase: "Succeeded" });
    expect(exit.outputs?.result).toBe("workflow exit Failed");
  });

  it("terminate after stop ends the exit handlers too", async () => {
    const dir = await workdir();
    const wf = sleepy("stop-then-terminate");
    // The workflow's exit handler itself sleeps.
    wf.spec.templates = (wf.spec.templates ?? []).map((t) => (t.name === "exit" ? sh("exit", "touch started; sleep 60") : t));
    const stop = new AbortController();
    const terminate = new AbortController();
    const run = runWorkflow(wf, { workdir: dir, stopSignal: stop.signal, signal: terminate.signal });
    await whenStarted(dir, "stop-then-terminate", "A");
    stop.abort("Stopped with strategy 'Stop'");
    await whenStarted(dir, "stop-then-terminate", "onExit");
    const t0 = Date.now();
    terminate.abort("Stopped with strategy 'Terminate'");
    const { status } = await run;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(status.phase).toBe("Failed");
    expect(node(status, "stop-then-terminate.onExit").phase).toBe("Failed");
  });
});

describe("stopping a run of another engine (opflow stop|terminate NAME --mode debug)", () => {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

  /** Starts `opflow run` on the sleepy manifest in another process. */
  async function otherEngine(dir: string, name: string): Promise<ChildProcess> {
    const file = path.join(dir, `${name}.yaml`);
    await fs.writeFile(file, YAML.stringify(sleepy(name)));
    const engine = spawn(process.execPath, [path.join(repo, "bin/opflow.mjs"), "run", file, "--name", name, "--workdir", dir, "--quiet"], { cwd: dir, stdio: "ignore" });
    await whenStarted(dir, name, "A");
    return engine;
  }
  const exited = (p: ChildProcess): Promise<number | null> => new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once("exit", (code) => r(code))));

  it.each([
    ["stop", "Stopped with strategy 'Stop'", "Succeeded"],
    ["terminate", "Stopped with strategy 'Terminate'", undefined],
  ])("%s: the other engine ends the run as it would its own", async (action, message, exitHandler) => {
    const dir = await workdir();
    const name = `other-${action}`;
    const engine = await otherEngine(dir, name);
    const r = await opflow(action, name, "--mode", "debug", "--workdir", dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`workflow ${name} ${action === "stop" ? "stopped" : "terminated"}`);
    expect(await exited(engine)).toBe(1);
    const { status } = await readRunStatus(path.join(dir, name));
    expect(status).toMatchObject({ phase: "Failed", message });
    expect(node(status, "A")).toMatchObject({ phase: "Failed", message });
    expect(Object.values(status.nodes ?? {}).find((n) => n.displayName === `${name}.onExit`)?.phase).toBe(exitHandler);
    await expect(fs.access(path.join(dir, name, "engine.control"))).rejects.toThrow();
  });

  it("refuses a run whose engine takes no requests, and says why", async () => {
    const dir = await workdir();
    const stop = new AbortController();
    const run = runWorkflow(sleepy("deaf"), { workdir: dir, signal: stop.signal });
    await whenStarted(dir, "deaf", "A");
    // This very process runs it, but another client of it does not know the run: as from elsewhere.
    const r = await opflow("terminate", "deaf", "--mode", "debug", "--workdir", dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/running in another engine \(pid \d+\) that takes no requests/);
    stop.abort();
    expect((await run).status.phase).toBe("Failed");
  });
});
