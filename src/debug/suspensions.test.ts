/**
 * Suspend templates without a duration wait for a person, as on Argo (operator.go
 * `executeSuspend`, `addRawOutputFields`; workflow/util/util.go `ResumeWorkflow`,
 * `updateSuspendedNode`, `OverrideOutputParametersWithDefault`; examples
 * suspend-template-outputs.yaml and intermediate-parameters.yaml).
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import type { Template, Workflow, WorkflowStatus } from "../argo/model.ts";
import { opflow } from "../../test/cli-capture.ts";
import { manifest, node, outParam, sh, workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { LocalArgoClient } from "./local-argo-client.ts";
import { NodeRequestChannel } from "./node-requests.ts";
import { readRunStatus } from "./run-folder.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** build → approve (waits, supplies `message`) → release (echoes it). */
function approval(name: string, extra: Partial<Template> = {}): Workflow {
  return manifest(name, [
    { name: "main", steps: [[{ name: "build", template: "build" }], [{ name: "approve", template: "approve" }], [{ name: "release", template: "print", arguments: { parameters: [{ name: "message", value: "{{steps.approve.outputs.parameters.message}}" }] } }]] },
    sh("build", "echo built"),
    { name: "approve", suspend: {}, outputs: { parameters: [{ name: "message", valueFrom: { supplied: {} } }] }, ...extra },
    sh("print", 'echo "{{inputs.parameters.message}}"', { inputs: { parameters: [{ name: "message" }] }, outputs: { parameters: [{ name: "said", valueFrom: { path: "/tmp/said" } }] } }),
  ]);
}

/** Makes `print` also write what it said into an output. */
function withSaid(wf: Workflow): Workflow {
  const t = wf.spec.templates?.find((x) => x.name === "print");
  if (t?.container) t.container.args = ['echo "{{inputs.parameters.message}}" | tee /tmp/said'];
  return wf;
}

/** Waits until the run's status (live or on disk) has a Suspend node Running. */
async function whenWaiting(read: () => WorkflowStatus | undefined | Promise<WorkflowStatus | undefined>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const s = await read();
    if (Object.values(s?.nodes ?? {}).some((n) => n.type === "Suspend" && n.phase === "Running")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no suspend node came to wait");
}

describe("suspend templates waiting for a person (same process)", () => {
  it("stays Running, takes supplied outputs, and resumes into the step that reads them", async () => {
    const dir = await workdir();
    const nodeRequests = new NodeRequestChannel();
    let live: WorkflowStatus | undefined;
    const run = runWorkflow(withSaid(approval("wait-outputs")), { workdir: dir, nodeRequests, onUpdate: (s) => (live = s), updateIntervalMs: 20 });
    await whenWaiting(() => live);
    const waiting = node(live as WorkflowStatus, "approve");
    expect(waiting).toMatchObject({ type: "Suspend", phase: "Running" });
    expect(waiting.message).toBeUndefined();
    expect(waiting.outputs?.parameters).toEqual([{ name: "message", valueFrom: { supplied: {} } }]);
    // Set, then resume: the node waits until the resume.
    expect(nodeRequests.send({ action: "set", options: { nodeFieldSelector: "displayName=approve", outputParameters: { message: "Hello, world!" } } })).toEqual({ nodes: ["wait-outputs[1].approve"] });
    await new Promise((r) => setTimeout(r, 200));
    expect(node(live as WorkflowStatus, "approve").phase).toBe("Running");
    // A second set of the same output: Argo's message.
    expect(() => nodeRequests.send({ action: "set", options: { nodeFieldSelector: "displayName=approve", outputParameters: { message: "again" } } })).toThrow(
      /cannot set output parameter 'message' because it does not use valueFrom.supplied or it was already set/,
    );
    nodeRequests.send({ action: "resume" });
    const { status, dir: runDir } = await run;
    expect(status.phase, status.message).toBe("Succeeded");
    expect(outParam(node(status, "approve"), "message")).toBe("Hello, world!");
    expect(outParam(node(status, "release"), "said")).toBe("Hello, world!");
    expect(await fs.readFile(path.join(runDir, "[1].approve", "outputs", "parameters", "message"), "utf8").catch(() => "")).toBe("Hello, world!");
    expect(() => nodeRequests.send({ action: "resume" })).toThrow(/the run is not running/);
  });

  it("refuses a resume while a supplied output has no value and no default (Argo's message); the node keeps waiting", async () => {
    const dir = await workdir();
    const nodeRequests = new NodeRequestChannel();
    const stop = new AbortController();
    let live: WorkflowStatus | undefined;
    const run = runWorkflow(approval("wait-unset"), { workdir: dir, nodeRequests, signal: stop.signal, onUpdate: (s) => (live = s), updateIntervalMs: 20 });
    await whenWaiting(() => live);
    expect(() => nodeRequests.send({ action: "resume" })).toThrow(/raw output parameter 'message' has not been set and does not have a default value/);
    expect(node(live as WorkflowStatus, "approve").phase).toBe("Running");
    // A selector that matches nothing: a clear error, nothing changes.
    expect(() => nodeRequests.send({ action: "resume", nodeFieldSelector: "displayName=nobody" })).toThrow(/node field selector "displayName=nobody": no suspend node waiting to be resumed matches it/);
    expect(() => nodeRequests.send({ action: "set", options: { nodeFieldSelector: "displayName=approve", outputParameters: { colour: "red" } } })).toThrow(/node is not expecting output parameter 'colour' \(it expects 'message'\)/);
    stop.abort("Stopped with strategy 'Terminate'");
    const { status } = await run;
    expect(status.phase).toBe("Failed");
    expect(node(status, "approve")).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Terminate'" });
  });

  it("resumed by selector with an output unset, the node Succeeds and the step reading it errors, as on Argo", async () => {
    const dir = await workdir();
    const nodeRequests = new NodeRequestChannel();
    let live: WorkflowStatus | undefined;
    const run = runWorkflow(approval("wait-selector"), { workdir: dir, nodeRequests, onUpdate: (s) => (live = s), updateIntervalMs: 20 });
    await whenWaiting(() => live);
    nodeRequests.send({ action: "resume", nodeFieldSelector: "displayName=approve" });
    const { status } = await run;
    expect(node(status, "approve").phase).toBe("Succeeded");
    expect(status.phase).toMatch(/Failed|Error/);
    expect(JSON.stringify(status)).toMatch(/steps\.approve\.outputs\.parameters\.message/);
  });

  it("node set --phase Failed ends the node Failed, and the workflow with it", async () => {
    const dir = await workdir();
    const nodeRequests = new NodeRequestChannel();
    let live: WorkflowStatus | undefined;
    const run = runWorkflow(approval("wait-reject"), { workdir: dir, nodeRequests, onUpdate: (s) => (live = s), updateIntervalMs: 20 });
    await whenWaiting(() => live);
    nodeRequests.send({ action: "set", options: { nodeFieldSelector: "templateName=approve", phase: "Failed", message: "rejected by QA" } });
    const { status } = await run;
    expect(node(status, "approve")).toMatchObject({ phase: "Failed", message: "rejected by QA" });
    expect(status.phase).toBe("Failed");
    expect(Object.values(status.nodes ?? {}).some((n) => n.displayName === "release")).toBe(false);
  });

  it("a duration that runs out gives unset supplied outputs their default (the input's of the same name), else ends the node Error", async () => {
    const dir = await workdir();
    const withDefault = approval("timed-default", {
      suspend: { duration: "1" },
      inputs: { parameters: [{ name: "message", default: "NO", enum: ["YES", "NO"] }] },
    });
    const a = await runWorkflow(withSaid(withDefault), { workdir: dir });
    expect(a.status.phase, a.status.message).toBe("Succeeded");
    expect(outParam(node(a.status, "release"), "said")).toBe("NO");
    const b = await runWorkflow(approval("timed-unset", { suspend: { duration: "1" } }), { workdir: dir });
    expect(node(b.status, "approve")).toMatchObject({ phase: "Error", message: `node "approve": raw output parameter 'message' has not been set and does not have a default value` });
  });
});

describe("suspend templates resumed from another process", () => {
  async function engine(dir: string, name: string, wf: Workflow): Promise<{ exited: Promise<number | null>; kill(): void }> {
    const file = path.join(dir, `${name}.yaml`);
    await fs.writeFile(file, YAML.stringify(wf));
    const child = spawn(process.execPath, [path.join(repo, "bin/opflow.mjs"), "run", file, "--name", name, "--workdir", dir, "--quiet"], { cwd: dir, stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    return { exited, kill: () => child.kill("SIGKILL") };
  }

  it("opflow node set and opflow resume reach the engine of `opflow run`; the release step reads the supplied output", { timeout: 60_000 }, async () => {
    const dir = await workdir();
    const e = await engine(dir, "cross", withSaid(approval("cross")));
    await whenWaiting(async () => (await readRunStatus(path.join(dir, "cross"))).status);
    const miss = await opflow("node", "set", "cross", "-p", "message=hi", "--node-field-selector", "displayName=nobody", "--mode", "debug", "--workdir", dir);
    expect(miss.code).not.toBe(0);
    expect(miss.stderr).toMatch(/no suspend node waiting to be resumed matches it/);
    expect(miss.stderr).not.toMatch(/\n\s+at /);
    const unset = await opflow("resume", "cross", "--mode", "debug", "--workdir", dir);
    expect(unset.code).not.toBe(0);
    expect(unset.stderr).toMatch(/raw output parameter 'message' has not been set and does not have a default value/);
    const set = await opflow("node", "set", "cross", "--output-parameter", 'message="Hello, world!"', "--node-field-selector", "displayName=approve", "--mode", "debug", "--workdir", dir);
    expect(set).toMatchObject({ code: 0, stdout: "workflow cross: values set\n" });
    const resumed = await opflow("resume", "cross", "--mode", "debug", "--workdir", dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^workflow cross resumed/);
    expect(await e.exited).toBe(0);
    const client = new LocalArgoClient({ workdir: dir });
    const wf = await client.get("cross");
    expect(wf.status?.phase).toBe("Succeeded");
    expect(outParam(node(wf.status as WorkflowStatus, "release"), "said")).toBe("Hello, world!");
  });

  it("a run whose engine died while suspended is re-entered by resume: finished steps are not run again", { timeout: 60_000 }, async () => {
    const dir = await workdir();
    const e = await engine(dir, "orphan", withSaid(approval("orphan")));
    await whenWaiting(async () => (await readRunStatus(path.join(dir, "orphan"))).status);
    const built = node((await readRunStatus(path.join(dir, "orphan"))).status, "build");
    e.kill();
    await e.exited;
    const client = new LocalArgoClient({ workdir: dir });
    expect((await client.get("orphan")).status?.phase).toBe("Failed"); // the engine is gone
    // Set while no engine runs: recorded for the resumed run.
    await client.setNodes("orphan", { nodeFieldSelector: "displayName=approve", outputParameters: { message: "late" } });
    await client.resume("orphan");
    expect(client.runsHere("orphan")).toBe(true);
    await client.settled("orphan");
    const wf = await client.get("orphan");
    expect(wf.status?.phase, wf.status?.message).toBe("Succeeded");
    expect(outParam(node(wf.status as WorkflowStatus, "release"), "said")).toBe("late");
    // The build step is the first engine's, taken over (not run again).
    expect(node(wf.status as WorkflowStatus, "build")).toMatchObject({ phase: "Succeeded", startedAt: built.startedAt, finishedAt: built.finishedAt });
    await expect(client.resume("orphan")).rejects.toThrow(/no suspend node of it waits \(phase Succeeded\) \(409\)/);
  });

  it("a run re-entered otherwise (retry) finds the node still waiting, with its start and the outputs set so far", { timeout: 60_000 }, async () => {
    const dir = await workdir();
    const e = await engine(dir, "again", withSaid(approval("again")));
    await whenWaiting(async () => (await readRunStatus(path.join(dir, "again"))).status);
    const before = node((await readRunStatus(path.join(dir, "again"))).status, "approve");
    e.kill();
    await e.exited;
    const client = new LocalArgoClient({ workdir: dir });
    await client.setNodes("again", { nodeFieldSelector: "displayName=approve", outputParameters: { message: "kept" } });
    await client.retry("again");
    await whenWaiting(async () => (await client.get("again")).status);
    const waitingAgain = node((await client.get("again")).status as WorkflowStatus, "approve");
    expect(waitingAgain).toMatchObject({ phase: "Running", startedAt: before.startedAt, outputs: { parameters: [{ name: "message", value: "kept" }] } });
    await client.resume("again");
    await client.settled("again");
    const wf = await client.get("again");
    expect(wf.status?.phase, wf.status?.message).toBe("Succeeded");
    expect(outParam(node(wf.status as WorkflowStatus, "release"), "said")).toBe("kept");
  });
});

describe("opflow resume / node set usage", () => {
  it("--help names the flags, and node takes only the set action", async () => {
    const help = await opflow("node", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: opflow node set NAME\.\.\. --node-field-selector SELECTOR/);
    expect(help.stdout).toMatch(/--output-parameter NAME=VALUE/);
    const resumeHelp = await opflow("resume", "--help");
    expect(resumeHelp.stdout).toMatch(/--node-field-selector SELECTOR/);
    expect(resumeHelp.stdout).toMatch(/--mode debug\|cluster/);
    const bad = await opflow("node", "get", "x", "--mode", "debug");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown action "get": the only action is set/);
    const none = await opflow("node", "set", "x", "--node-field-selector", "displayName=a", "--mode", "debug");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nothing to set/);
  });
});
