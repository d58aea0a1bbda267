import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { ClusterApiError } from "../argo/api-errors.ts";
import { RESUBMITTED_FROM_LABEL } from "../argo/control.ts";
import { WorkflowHandle, submitWorkflow, workflowHandle } from "../argo/workflow-handle.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { defineOp } from "../op/op.ts";
import { OPTemplate } from "../template/op-template.ts";
import { artifact, param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { localArtifact } from "../steps/local-artifact.ts";
import { Workflow } from "../workflow/workflow.ts";
import { opflow } from "../../test/cli-capture.ts";
import { LocalArgoClient } from "./local-argo-client.ts";
import { submitMode } from "./submit-mode.ts";

let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-local-client-"));
});
afterAll(async () => {
  await fs.rm(workdir, { recursive: true, force: true });
});

const quiet = { warn: () => {} };

/** Whether process `pid` runs (a zombie left to a pid 1 that does not reap it is dead). */
async function alive(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (stat === "" || / Z /.test(stat)) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
const out = (dir: string): string => `"\${OPFLOW_ROOT:-/tmp}/${dir}"`;

/** A shell step that logs a line and outputs a greeting, published as a global output. */
const greet = new ShellOPTemplate({
  name: "greet",
  inputs: { who: param(z.string()) },
  outputs: { greeting: param(z.string(), { globalName: "greeting" }) },
  source: `echo "greeting $who"; mkdir -p ${out("outputs/parameters")}; printf 'hello %s' "$who" > ${out("outputs/parameters/greeting")}`,
});

function keyedWorkflow(): Workflow {
  const wf = new Workflow({ generateName: "keyed-", labels: { team: "blue" } });
  wf.add([
    new Step("greet-ada", greet, { parameters: { who: "ada" }, key: "greet-ada" }),
    new Step("greet-bob", greet, { parameters: { who: "bob" }, key: "greet-bob" }),
  ]);
  return wf;
}

describe("submit() in debug mode", () => {
  const examples = ["hello", "steps", "dag", "conditional", "loop", "fan-out", "slices"];
  it.each(examples)("runs examples/%s.ts to Succeeded through a WorkflowHandle", async (example) => {
    const mod = (await import(`../../examples/${example}.ts`)) as { default: Workflow };
    const handle = await mod.default.submit({ mode: "debug", workdir, ...quiet });
    expect(handle).toBeInstanceOf(WorkflowHandle);
    expect(handle.client.backend).toBe("local");
    expect(handle.namespace).toBe("local");
    const done = await handle.wait({ timeout: "2m" });
    expect(done.status?.phase, done.status?.message).toBe("Succeeded");
    expect(await handle.phase()).toBe("Succeeded");
    const pods = await handle.querySteps({ type: "Pod" });
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.every((p) => p.phase === "Succeeded" || p.phase === "Skipped")).toBe(true);
    await fs.access(path.join(workdir, handle.name, "manifest.yaml"));
  }, 120_000);

  it("reports the examples' step outputs as querySteps does on a cluster", async () => {
    const hello = ((await import("../../examples/hello.ts")) as { default: Workflow }).default;
    const h1 = await hello.submit({ mode: "debug", workdir, ...quiet });
    await h1.wait();
    const [step] = await h1.querySteps({ name: "hello" });
    expect(step?.outputs.parameters["greeting"]).toBe("Hello, opflow! Hello, opflow!");
    expect(step?.outputs.artifacts["report"]).toBeDefined();
    expect(step?.podName).toMatch(new RegExp(`^${h1.name}-`));

    const steps = ((await import("../../examples/steps.ts")) as { default: Workflow }).default;
    const h2 = await steps.submit({ mode: "debug", workdir, ...quiet });
    await h2.wait();
    const [last] = await h2.querySteps({ name: "last" });
    expect(last?.outputs.parameters["length"]).toBe("96");
    expect((await h2.querySteps({ name: ["left", "right"] })).map((s) => s.displayName).sort()).toEqual(["left", "right"]);
  }, 60_000);

  it("finds keyed steps, global outputs and logs", async () => {
    const handle = await keyedWorkflow().submit({ mode: "debug", workdir, ...quiet });
    expect(handle.name).toMatch(/^keyed-[a-z0-9]{5}$/);
    const done = await handle.wait({ timeout: "1m" });
    expect(done.status?.phase, done.status?.message).toBe("Succeeded");

    const [ada] = await handle.querySteps({ name: "greet-ada" });
    expect(ada?.displayName).toBe("greet-ada");
    expect(ada?.outputs.parameters["greeting"]).toBe("hello ada");
    expect((await handle.querySteps({ name: "greet-*", phase: "Succeeded" })).map((s) => s.displayName).sort()).toEqual(["greet-ada", "greet-bob"]);
    // The step's folder is named by its key (DESIGN.md's state tree).
    expect((await fs.readFile(path.join(workdir, handle.name, "greet-ada", "phase"), "utf8")).trim()).toBe("Succeeded");

    const outputs = await handle.globalOutputs();
    expect(["hello ada", "hello bob"]).toContain(outputs.parameters["greeting"]);

    const logs = await handle.logs();
    expect(logs.map((l) => l.step).sort()).toEqual(["greet-ada", "greet-bob"]);
    expect(logs.find((l) => l.step === "greet-bob")?.text).toContain("greeting bob");
    const [only] = await handle.logs({ step: { name: "greet-ada" }, tailLines: 1 });
    expect(only?.text.trim()).toBe("greeting ada");
    // Logs by node id too.
    expect(await handle.client.podLogs(handle.name, ada?.id as string)).toContain("greeting ada");
  }, 60_000);

  // The compiler declares `opflow-key` on templates called with a key, so the node records it.
  it("finds steps by key", async () => {
    const handle = await keyedWorkflow().submit({ mode: "debug", workdir, ...quiet });
    await handle.wait({ timeout: "1m" });
    const [ada] = await handle.querySteps({ key: "greet-ada" });
    expect(ada?.displayName).toBe("greet-ada");
    expect((await handle.querySteps({ key: ["greet-ada", "greet-bob"] })).map((s) => s.key).sort()).toEqual(["greet-ada", "greet-bob"]);
  }, 60_000);

  it("uploads local input artifacts to the engine's store before the run", async () => {
    const file = path.join(workdir, "notes.txt");
    await fs.writeFile(file, "three\nlines\nhere\n");
    const count = defineOp({
      name: "count-lines",
      inputs: { text: artifact() },
      outputs: { lines: param(z.number().int()) },
      async execute({ text }) {
        return { lines: (await fs.readFile(text, "utf8")).trim().split("\n").length };
      },
    });
    const wf = new Workflow({ generateName: "local-files-" });
    wf.add(new Step("count", OPTemplate.fromOp(count), { artifacts: { text: localArtifact(file) } }));
    const handle = await wf.submit({ mode: "debug", workdir, ...quiet });
    const done = await handle.wait({ timeout: "1m" });
    expect(done.status?.phase, done.status?.message).toBe("Succeeded");
    const [step] = await handle.querySteps({ name: "count" });
    expect(step?.outputs.parameters["lines"]).toBe("3");
  }, 60_000);

  it("uses OPFLOW_MODE=debug when no mode is given, and mode wins over it", async () => {
    expect(submitMode({}, { OPFLOW_MODE: "debug" })).toBe("debug");
    expect(submitMode({ mode: "cluster" }, { OPFLOW_MODE: "debug" })).toBe("cluster");
    expect(submitMode({}, {})).toBe("cluster");
    expect(() => submitMode({}, { OPFLOW_MODE: "local" })).toThrow(/OPFLOW_MODE must be "debug" or "cluster", got "local"/);
    const before = process.env["OPFLOW_MODE"];
    process.env["OPFLOW_MODE"] = "debug";
    try {
      const handle = await keyedWorkflow().submit({ workdir, ...quiet });
      expect(handle.client.backend).toBe("local");
      expect((await handle.wait()).status?.phase).toBe("Succeeded");
    } finally {
      if (before === undefined) delete process.env["OPFLOW_MODE"];
      else process.env["OPFLOW_MODE"] = before;
    }
  }, 60_000);
});

describe("LocalArgoClient control", () => {
  it("terminates a long step at once: its process is killed and the workflow ends Failed", async () => {
    const sleeper = new ShellOPTemplate({ name: "sleeper", source: `sleep 60 & echo $! > ${out("sleep.pid")}; wait` });
    const wf = new Workflow({ generateName: "sleepy-" });
    wf.add(new Step("sleep", sleeper, { key: "sleeper" }));
    const handle = await wf.submit({ mode: "debug", workdir, ...quiet });
    const pidFile = path.join(workdir, handle.name, "sleeper", "sleep.pid");
    const deadline = Date.now() + 20_000;
    let pid = NaN;
    while (Date.now() < deadline) {
      pid = Number(await fs.readFile(pidFile, "utf8").catch(() => ""));
      if (pid > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pid).toBeGreaterThan(0);
    expect(await handle.phase()).toBe("Running");
    // Deleting a running run is refused.
    await expect(handle.delete()).rejects.toMatchObject({ reason: "Conflict", status: 409 });
    const started = Date.now();
    await handle.terminate();
    expect(Date.now() - started).toBeLessThan(15_000);
    const wf2 = await handle.get();
    expect(wf2.status?.phase).toBe("Failed");
    expect(wf2.status?.message).toBe("Stopped with strategy 'Terminate'");
    const [step] = await handle.querySteps({ name: "sleep" });
    expect(step?.phase).toBe("Failed");
    expect(await alive(pid)).toBe(false);
    // Nothing left to terminate.
    await expect(handle.terminate()).rejects.toMatchObject({ reason: "Conflict" });
  }, 60_000);

  it("stops a run as Argo's stop does: the running step is killed, the exit handler still runs", async () => {
    const sleeper = new ShellOPTemplate({ name: "sleeper", source: `touch ${out("started")}; sleep 60` });
    const farewell = new ShellOPTemplate({ name: "farewell", source: `echo "bye from {{workflow.status}}"` });
    const wf = new Workflow({ generateName: "stoppable-", onExit: farewell });
    wf.add(new Step("sleep", sleeper, { key: "sleeper" }));
    const handle = await wf.submit({ mode: "debug", workdir, ...quiet });
    const marker = path.join(workdir, handle.name, "sleeper", "started");
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(await fs.access(marker).then(() => true, () => false))) await new Promise((r) => setTimeout(r, 100));
    await handle.stop();
    const done = await handle.get();
    expect(done.status).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Stop'" });
    const [step] = await handle.querySteps({ name: "sleep" });
    expect(step).toMatchObject({ phase: "Failed", message: "Stopped with strategy 'Stop'" });
    const exit = Object.values(done.status?.nodes ?? {}).find((n) => n.displayName === `${handle.name}.onExit`);
    expect(exit).toMatchObject({ phase: "Succeeded" });
    expect(await fs.readFile(path.join(workdir, handle.name, "onExit", "log.txt"), "utf8")).toBe("bye from Failed\n");
  }, 60_000);

  it("retries with restartSuccessful: the Succeeded steps the selector names run again, the others are reused", async () => {
    const runs = { a: 0, b: 0, last: 0 };
    let fail = true;
    const count = (name: "a" | "b") =>
      defineOp({
        name: `count-${name}`,
        inputs: {},
        outputs: { n: param(z.number().int()) },
        async execute() {
          return { n: ++runs[name] };
        },
      });
    const last = defineOp({
      name: "last",
      inputs: { a: param(z.number().int()), b: param(z.number().int()) },
      outputs: { sum: param(z.number().int()) },
      async execute({ a, b }) {
        runs.last++;
        if (fail) throw new Error("not yet");
        return { sum: a + b };
      },
    });
    const wf = new Workflow({ generateName: "restart-" });
    const [a, b] = wf.add([new Step("a", OPTemplate.fromOp(count("a"))), new Step("b", OPTemplate.fromOp(count("b")))]);
    wf.add(new Step("last", OPTemplate.fromOp(last), { parameters: { a: a.outputs.parameters.n, b: b.outputs.parameters.n } }));
    const handle = await wf.submit({ mode: "debug", workdir, ...quiet });
    expect((await handle.wait()).status?.phase).toBe("Failed");
    await expect(handle.retry({ restartSuccessful: true })).rejects.toMatchObject({ reason: "BadRequest", message: expect.stringMatching(/restartSuccessful needs nodeFieldSelector/) });
    await expect(handle.retry({ restartSuccessful: true, nodeFieldSelector: "colour=red" })).rejects.toMatchObject({ reason: "BadRequest", message: expect.stringMatching(/unknown field "colour"; fields are displayName, name, id, templateName/) });
    fail = false;
    await handle.retry({ restartSuccessful: true, nodeFieldSelector: "templateName=count-b" });
    const done = await handle.wait();
    expect(done.status?.phase, done.status?.message).toBe("Succeeded");
    expect(runs).toEqual({ a: 1, b: 2, last: 2 });
    const [step] = await handle.querySteps({ name: "last" });
    expect(step?.outputs.parameters["sum"]).toBe("3");
  }, 60_000);

  it("retries a failed run under its name, reusing its Succeeded steps", async () => {
    const runs = { prepare: 0, flaky: 0 };
    let fail = true;
    const prepare = defineOp({
      name: "prepare",
      inputs: {},
      outputs: { n: param(z.number().int()) },
      async execute() {
        runs.prepare++;
        return { n: 41 };
      },
    });
    const flaky = defineOp({
      name: "flaky",
      inputs: { n: param(z.number().int()) },
      outputs: { m: param(z.number().int()) },
      async execute({ n }) {
        runs.flaky++;
        if (fail) throw new Error("not yet");
        return { m: n + 1 };
      },
    });
    const wf = new Workflow({ generateName: "flaky-" });
    const first = wf.add(new Step("prepare", OPTemplate.fromOp(prepare)));
    wf.add(new Step("flaky", OPTemplate.fromOp(flaky), { parameters: { n: first.outputs.parameters.n } }));
    const handle = await wf.submit({ mode: "debug", workdir, ...quiet });
    const failed = await handle.wait();
    expect(failed.status?.phase).toBe("Failed");
    expect(runs).toEqual({ prepare: 1, flaky: 1 });

    fail = false;
    await handle.retry();
    const done = await handle.wait();
    expect(done.status?.phase, done.status?.message).toBe("Succeeded");
    expect(runs).toEqual({ prepare: 1, flaky: 2 });
    const [step] = await handle.querySteps({ name: "flaky" });
    expect(step?.outputs.parameters["m"]).toBe("42");
    await expect(handle.retry()).rejects.toMatchObject({ reason: "Conflict", message: expect.stringMatching(/only a Failed or Error workflow can be retried; its phase is Succeeded/) });

    // resubmit: a new name, everything runs again.
    const again = await handle.resubmit();
    expect(again.name).toMatch(new RegExp(`^${handle.name}-[a-z0-9]{5}$`));
    const resubmitted = await again.wait();
    expect(resubmitted.status?.phase).toBe("Succeeded");
    expect(resubmitted.metadata.labels?.[RESUBMITTED_FROM_LABEL]).toBe(handle.name);
    expect(runs).toEqual({ prepare: 2, flaky: 3 });
  }, 60_000);

  it("reports a run whose engine is gone Failed, and retry resumes it", async () => {
    const first = await keyedWorkflow().submit({ mode: "debug", workdir, ...quiet });
    await first.wait();
    // As a killed engine leaves it: status Running, engine.pid naming a process that is gone.
    const dir = path.join(workdir, first.name);
    await fs.writeFile(path.join(dir, "status"), "Running");
    await fs.writeFile(path.join(dir, "engine.pid"), "4194303");
    const client = new LocalArgoClient({ workdir });
    const crashed = await client.get(first.name);
    expect(crashed.status?.phase).toBe("Failed");
    expect(crashed.status?.message).toMatch(/engine of this run is gone/);
    await client.retry(first.name);
    const done = await workflowHandle(first.name, { client }).wait({ timeout: "1m" });
    expect(done.status?.phase, done.status?.message).toBe("Succeeded");
  }, 60_000);

  it("lists runs by name prefix, phase and labels, and deletes them", async () => {
    const client = new LocalArgoClient({ workdir, bindings: keyedWorkflow().prepare().bindings });
    const handle = await submitWorkflow(keyedWorkflow().compile(quiet), { client, labels: { run: "listed" } });
    const running = await client.list({ labels: "run=listed" });
    expect(running.map((w) => w.metadata.name)).toEqual([handle.name]);
    await handle.wait();

    const byPrefix = await client.list({ namePrefix: "keyed-" });
    expect(byPrefix.map((w) => w.metadata.name)).toContain(handle.name);
    expect(byPrefix.every((w) => w.metadata.name?.startsWith("keyed-"))).toBe(true);
    expect((await client.list({ labels: { team: "blue", run: "listed" }, phases: ["Succeeded"] })).map((w) => w.metadata.name)).toEqual([handle.name]);
    expect(await client.list({ labels: "run=listed", phases: ["Failed", "Running"] })).toEqual([]);
    expect(await client.list({ labels: "run in (other,nope)" })).toEqual([]);
    expect((await client.list({ labels: "run notin (other),team" })).map((w) => w.metadata.name)).toContain(handle.name);
    // A second client on the same workdir sees the run from its state tree.
    const other = new LocalArgoClient({ workdir });
    const seen = await other.get(handle.name);
    expect(seen.status?.phase).toBe("Succeeded");
    expect(seen.metadata.labels?.["team"]).toBe("blue");
    expect(seen.status?.nodes).toEqual((await client.get(handle.name)).status?.nodes);

    await handle.delete();
    await expect(fs.access(path.join(workdir, handle.name))).rejects.toThrow();
    expect((await client.list({ labels: "run=listed" })).length).toBe(0);
    await expect(handle.get()).rejects.toMatchObject({ reason: "NotFound", status: 404 });
  }, 60_000);

  it("rejects unknown names, suspend and resume with errors that name the run and the rule", async () => {
    const client = new LocalArgoClient({ workdir });
    const error = await client.get("no-such-run").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterApiError);
    expect(error).toMatchObject({ reason: "NotFound", status: 404 });
    expect((error as Error).message).toMatch(/workflow "no-such-run".*not found \(404\)/);
    await expect(workflowHandle("no-such-run", { client }).wait({ timeout: "5s" })).rejects.toMatchObject({ reason: "NotFound" });
    await expect(client.delete("no-such-run")).rejects.toMatchObject({ reason: "NotFound" });
    await expect(client.retry("no-such-run")).rejects.toMatchObject({ reason: "NotFound" });
    await expect(client.podLogs("no-such-run", "x")).rejects.toMatchObject({ reason: "NotFound" });
    await expect(client.get("../etc")).rejects.toMatchObject({ reason: "NotFound" });

    const handle = await keyedWorkflow().submit({ mode: "debug", workdir, ...quiet });
    await expect(handle.suspend()).rejects.toMatchObject({ reason: "BadRequest", message: expect.stringMatching(/local engine has no suspension/) });
    // No suspend node waits: a selector matches none (as argo resume --node-field-selector).
    await expect(handle.resume({ nodeFieldSelector: "displayName=approve" })).rejects.toMatchObject({ reason: "BadRequest", message: expect.stringMatching(/no suspend node waiting to be resumed matches it/) });
    await handle.wait();
    await expect(handle.resume()).rejects.toMatchObject({ reason: "Conflict", message: expect.stringMatching(/no suspend node of it waits \(phase Succeeded\)/) });
    await expect(handle.client.podLogs(handle.name, "no-such-pod")).rejects.toMatchObject({ reason: "NotFound", message: expect.stringMatching(/pod "no-such-pod" not found/) });
    expect(client.containsSecret("anything")).toBe(false);
    expect(client.endpoint).toBe(path.resolve(workdir));
    expectTypeOf(client.backend).toEqualTypeOf<"local">();
  }, 60_000);

  it("ends a run the engine cannot start Error, without an unhandled rejection", async () => {
    const client = new LocalArgoClient({ workdir });
    const created = await client.create({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { generateName: "broken-" },
      spec: { entrypoint: "missing", templates: [] },
    });
    const name = created.metadata.name as string;
    expect(["Pending", "Running"]).toContain(created.status?.phase);
    const done = await workflowHandle(name, { client }).wait({ timeout: "10s" });
    expect(["Error", "Failed"]).toContain(done.status?.phase);
    expect(done.status?.message).toBeTruthy();
  });

  it("opflow submit --mode debug --wait runs a module to the end", async () => {
    const r = await opflow("submit", "examples/steps.ts", "--mode", "debug", "--workdir", workdir, "--wait", "--json");
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { name: string; namespace: string; phase: string };
    expect(doc).toMatchObject({ namespace: "local", phase: "Succeeded" });
    await fs.access(path.join(workdir, doc.name, "manifest.yaml"));
    const bad = await opflow("submit", "examples/steps.ts", "--mode", "offline");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--mode must be debug or cluster/);
  }, 60_000);
});
