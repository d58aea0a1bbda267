import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Step } from "../steps/step.ts";
import { Workflow } from "../workflow/workflow.ts";
import { defineOp } from "./op.ts";
import { OPTemplate } from "../template/op-template.ts";
import { countPrimes, flaky, stubborn } from "../../test/fixtures/worker-ops.ts";

let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-op-worker-"));
});
afterAll(() => fs.rm(workdir, { recursive: true, force: true }));

const primes = OPTemplate.fromOp(countPrimes, { thread: "worker" });

function nodeOf(status: Awaited<ReturnType<Workflow["run"]>>["status"], displayName: string) {
  const n = Object.values(status.nodes ?? {}).find((x) => x.displayName === displayName);
  if (!n) throw new Error(`no node ${displayName}`);
  return n;
}

describe('OPTemplate.fromOp(op, { thread: "worker" }) on the local engine', () => {
  it("runs the OP in a worker thread: outputs, log and progress as on the engine's thread", async () => {
    const wf = new Workflow({ name: "primes-in-workers" });
    wf.add([new Step("small", primes, { parameters: { n: 1000 } }), new Step("large", primes, { parameters: { n: 120_000 } })]);
    const { status, dir } = await wf.run({ workdir });
    expect(status.phase).toBe("Succeeded");
    const small = nodeOf(status, "small");
    const large = nodeOf(status, "large");
    const out = (n: typeof small, name: string) => n.outputs?.parameters?.find((p) => p.name === name)?.value;
    expect(out(small, "primes")).toBe("168");
    expect(out(large, "primes")).toBe("11301");
    // threadId 0 is the main thread.
    expect(Number(out(small, "thread"))).toBeGreaterThan(0);
    expect(Number(out(large, "thread"))).toBeGreaterThan(0);
    expect(large.progress).toBe("120000/120000");
    expect(await fs.readFile(path.join(dir, "[0].large", "log.txt"), "utf8")).toContain("counted 11301 primes below 120000");
  });

  it("keeps the engine's thread free while the OP computes", async () => {
    const wf = new Workflow({ name: "responsive" });
    wf.add(new Step("busy", primes, { parameters: { n: 1_500_000 } }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const t0 = Date.now();
    const { status } = await wf.run({ workdir });
    clearInterval(timer);
    expect(status.phase).toBe("Succeeded");
    // On the engine's thread the timer could not fire at all while the OP ran.
    expect(ticks).toBeGreaterThan((Date.now() - t0) / 10 / 4);
  });

  it("ends an OP that ignores its deadline by ending its thread, and the pool goes on", async () => {
    const wf = new Workflow({ name: "deadline" });
    wf.add(new Step("forever", OPTemplate.fromOp(stubborn, { thread: "worker", timeout: "1s" }), { continueOn: { failed: true } }));
    wf.add(new Step("after", primes, { parameters: { n: 100 } }));
    const t0 = Date.now();
    const { status } = await wf.run({ workdir });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(nodeOf(status, "forever")).toMatchObject({ phase: "Failed" });
    expect(nodeOf(status, "after")).toMatchObject({ phase: "Succeeded" });
  });

  it("retries a TransientError under the template's retry strategy", async () => {
    const wf = new Workflow({ name: "transient" });
    wf.add(new Step("flaky", OPTemplate.fromOp(flaky, { thread: "worker", retry: { limit: 2 } })));
    const { status } = await wf.run({ workdir });
    expect(status.phase).toBe("Failed");
    const attempts = Object.values(status.nodes ?? {}).filter((n) => n.type === "Pod");
    expect(attempts).toHaveLength(3);
    for (const a of attempts) expect(a.outputs?.exitCode).toBe("75");
    expect(attempts[0]?.message).toContain("the service was busy");
  });

  it("fails the step clearly when the OP's module runs a workflow as it is imported", async () => {
    const mod = await import("../../test/fixtures/worker-ops-side-effect.ts");
    try {
      expect(mod.result.status.phase).toBe("Failed");
      const step = Object.values(mod.result.status.nodes ?? {}).find((n) => n.type === "Pod");
      expect(step?.message).toMatch(/could not import the module of OP "double" .* in a worker thread: runWorkflow: called while a worker thread imported the module of an OP/);
    } finally {
      await fs.rm(mod.workdir, { recursive: true, force: true });
    }
  });

  it("refuses an unknown thread, and an OP whose module cannot be told", () => {
    // @ts-expect-error: only "engine" and "worker"
    expect(() => OPTemplate.fromOp(countPrimes, { thread: "gpu" })).toThrow(/option "thread" must be "engine" or "worker", got "gpu"/);
    const anonymous = { ...defineOp({ name: "anon", inputs: {}, outputs: {}, execute: () => ({}) }), modulePath: undefined };
    expect(() => OPTemplate.fromOp(anonymous, { thread: "worker" })).toThrow(/thread "worker" needs to know which module defines the OP/);
  });
});
