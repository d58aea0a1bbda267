/**
 * Keyed reuse across runs on the local engine (`reuse: [runs]`, item by item in loops, and
 * steps with replaced outputs), and the opt-in content-hash cache (`cache: true`).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Template, Workflow } from "../argo/model.ts";
import { querySteps } from "../argo/query.ts";
import { modifyOutputs } from "../argo/reuse.ts";
import { z } from "zod";
import { OPTemplate } from "../template/op-template.ts";
import { defineOp } from "../op/op.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow as OpflowWorkflow } from "../workflow/workflow.ts";
import { slicedStep } from "../steps/sliced-step.ts";
import { rawArgo } from "../expr/tree.ts";
import { manifest, node, outParam } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

let base: string;
beforeAll(async () => {
  base = await fs.mkdtemp("/var/tmp/opflow-reuse-cache-");
});
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

async function journalOf(file: string): Promise<() => Promise<string[]>> {
  let seen = 0;
  return async () => {
    const lines = (await fs.readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
    const fresh = lines.slice(seen);
    seen = lines.length;
    return fresh.sort();
  };
}

/** square(item) for each item, keyed sq-<item>, then a sum over the aggregated outputs; the square also writes an artifact. */
function squares(journal: string, items: number[], name: string): Workflow {
  const square: Template = {
    name: "square",
    inputs: { parameters: [{ name: "x" }, { name: "opflow-key", default: "" }] },
    outputs: {
      parameters: [{ name: "v", valueFrom: { path: "/tmp/workdir/v.txt" } }],
      artifacts: [{ name: "note", path: "/tmp/workdir/note.txt" }],
    },
    container: { image: "busybox", command: ["sh", "-c", `echo sq {{inputs.parameters.x}} >> ${journal}; echo $(( {{inputs.parameters.x}} * {{inputs.parameters.x}} )) > v.txt; echo "square of {{inputs.parameters.x}}" > note.txt`] },
  };
  const sum: Template = {
    name: "sum",
    inputs: { parameters: [{ name: "vs" }], artifacts: [{ name: "note", path: "/tmp/inputs/artifacts/note" }] },
    outputs: { parameters: [{ name: "total", valueFrom: { path: "/tmp/workdir/t.txt" } }, { name: "note", valueFrom: { path: "/tmp/workdir/n.txt" } }] },
    container: { image: "busybox", command: ["sh", "-c", `echo sum >> ${journal}; echo '{{inputs.parameters.vs}}' | tr -d '[]"' | tr ',' '\\n' | awk '{s+=$1} END {print s}' > t.txt; cat {{inputs.artifacts.note.path}} > n.txt`] },
  };
  return manifest(name, [
    {
      name: "main",
      steps: [
        [{ name: "sq", template: "square", withItems: items, arguments: { parameters: [{ name: "x", value: "{{item}}" }, { name: "opflow-key", value: "sq-{{item}}" }] } }],
        [{ name: "first", template: "square", arguments: { parameters: [{ name: "x", value: String(items[0]) }, { name: "opflow-key", value: "first" }] } }],
        [{ name: "sum", template: "sum", arguments: { parameters: [{ name: "vs", value: "{{steps.sq.outputs.parameters.v}}" }], artifacts: [{ name: "note", from: "{{steps.first.outputs.artifacts.note}}" }] } }],
      ],
    },
    square,
    sum,
  ]);
}

describe("keyed reuse on the local engine", () => {
  it("takes over the keyed steps of another run item by item, and runs the new items", async () => {
    const workdir = path.join(base, "keyed");
    const journal = path.join(workdir, "journal.txt");
    await fs.mkdir(workdir, { recursive: true });
    const ran = await journalOf(journal);
    const a = await runWorkflow(squares(journal, [1, 2, 3], "run-a"), { workdir });
    expect(a.status.phase).toBe("Succeeded");
    expect(await ran()).toEqual(["sq 1", "sq 1", "sq 2", "sq 3", "sum"]);

    const b = await runWorkflow(squares(journal, [1, 2, 3, 4], "run-b"), { workdir, reuse: ["run-a"] });
    expect(b.status.phase).toBe("Succeeded");
    expect(await ran()).toEqual(["sq 4", "sum"]);
    expect(b.resume.reused.filter((r) => r.how === "key").map((r) => r.name.replace("run-b[0].", "").replace("run-b[1].", "")).sort()).toEqual(["first", "sq(0:1)", "sq(1:2)", "sq(2:3)"]);
    expect(b.resume.reused.every((r) => r.from === "run-a")).toBe(true);
    // Outputs of reused steps reach later steps: parameters and artifacts.
    expect(outParam(node(b.status, "sum"), "total")).toBe("30");
    expect(outParam(node(b.status, "sum"), "note")).toBe("square of 1");
    expect(node(b.status, "sq(1:2)").message).toBe("reused from run-a (key sq-2)");
    // The reused step's folder is named by its key, as in the original.
    await fs.access(path.join(workdir, "run-b", "sq-2"));
  }, 60_000);

  it("takes over steps given with their outputs, one of them replaced (dflow's modify_output_parameter)", async () => {
    const workdir = path.join(base, "steps");
    const journal = path.join(workdir, "journal.txt");
    await fs.mkdir(workdir, { recursive: true });
    const ran = await journalOf(journal);
    const a = await runWorkflow(squares(journal, [1, 2, 3], "run-a"), { workdir });
    await ran();
    const wf = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "run-a" }, spec: {}, status: a.status } as Workflow;
    const [sq2] = querySteps(wf, { key: "sq-2", phase: "Succeeded", type: "Pod" });
    const [first] = querySteps(wf, { key: "first", phase: "Succeeded", type: "Pod" });
    const b = await runWorkflow(squares(journal, [1, 2, 3], "run-c"), { workdir, reuseSteps: [modifyOutputs(sq2!, { parameters: { v: 100 } }), first!] });
    expect(b.status.phase).toBe("Succeeded");
    expect(await ran()).toEqual(["sq 1", "sq 3", "sum"]);
    expect(outParam(node(b.status, "sq(1:2)"), "v")).toBe("100");
    expect(outParam(node(b.status, "sum"), "total")).toBe("110");
    // The artifact of the step given with its outputs is read from the store by key.
    expect(outParam(node(b.status, "sum"), "note")).toBe("square of 1");
  }, 60_000);
});

describe("keyed reuse of sliced steps", () => {
  it("takes over the slices of another run item by item", async () => {
    const workdir = path.join(base, "sliced");
    const calls: number[] = [];
    const square = defineOp({
      name: "square",
      inputs: { x: param(z.number()) },
      outputs: { y: param(z.number()) },
      async execute({ x }) {
        calls.push(x);
        return { y: x * x };
      },
    });
    const total = defineOp({
      name: "total",
      inputs: { ys: param(z.array(z.number())) },
      outputs: { sum: param(z.number()) },
      async execute({ ys }) {
        return { sum: ys.reduce((a, b) => a + b, 0) };
      },
    });
    const build = (name: string, xs: number[]): OpflowWorkflow => {
      const main = new Steps({ name: "main", inputs: { xs: param(z.array(z.number())) } });
      const sq = main.add(slicedStep("sq", OPTemplate.fromOp(square), { slices: { x: main.io.parameters.xs }, key: rawArgo("sq-{{item}}") }));
      main.add(new Step("total", OPTemplate.fromOp(total), { parameters: { ys: sq.outputs.parameters.y } }));
      return new OpflowWorkflow({ name, entrypoint: main, parameters: { xs } });
    };
    const a = await build("slices-a", [1, 2, 3]).run({ workdir, warn: () => {} });
    expect(a.status.phase).toBe("Succeeded");
    expect(calls.splice(0).sort()).toEqual([1, 2, 3]);
    const b = await build("slices-b", [1, 2, 3, 4]).run({ workdir, warn: () => {}, reuse: ["slices-a"] });
    expect(b.status.phase).toBe("Succeeded");
    // Slices 0, 1, 2 (keys sq-0 … sq-2) are taken over; only the new one runs.
    expect(calls.splice(0)).toEqual([4]);
    expect(b.resume.reused.filter((r) => r.how === "key")).toHaveLength(3);
    expect(outParam(node(b.status, "total"), "sum")).toBe("30");
  }, 60_000);
});

describe("content-hash cache", () => {
  it("a step computed by any earlier run of the workdir is not run again; hits and misses are on the nodes", async () => {
    const workdir = path.join(base, "cache");
    const journal = path.join(workdir, "journal.txt");
    await fs.mkdir(workdir, { recursive: true });
    const ran = await journalOf(journal);
    const one = await runWorkflow(squares(journal, [1, 2], "one"), { workdir, cache: true });
    expect(one.status.phase).toBe("Succeeded");
    // "first" squares 1 too, after sq(0:1): the same computation, a hit within the run.
    expect(await ran()).toEqual(["sq 1", "sq 2", "sum"]);
    expect(node(one.status, "first").memoizationStatus?.hit).toBe(true);
    // Misses say so, with the digest as key.
    expect(node(one.status, "sq(0:1)").memoizationStatus).toMatchObject({ hit: false, cacheName: "opflow-step-cache" });

    // Another run (another name): every step is a hit, downstream too (same inputs).
    const two = await runWorkflow(squares(journal, [1, 2], "two"), { workdir, cache: true });
    expect(two.status.phase).toBe("Succeeded");
    expect(await ran()).toEqual([]);
    expect(node(two.status, "sq(1:2)").memoizationStatus).toMatchObject({ hit: true, key: node(one.status, "sq(1:2)").memoizationStatus?.key });
    expect(node(two.status, "sq(1:2)").message).toBe("cache hit: one/sq-2");
    expect(outParam(node(two.status, "sum"), "note")).toBe("square of 1");
    expect(two.resume.reused.filter((r) => r.how === "cache")).toHaveLength(4);

    // A new item misses, the old ones hit; the sum's input changed: it runs.
    const three = await runWorkflow(squares(journal, [1, 2, 5], "three"), { workdir, cache: true });
    expect(await ran()).toEqual(["sq 5", "sum"]);
    expect(outParam(node(three.status, "sum"), "total")).toBe("30");

    // Without cache: everything runs.
    await runWorkflow(squares(journal, [1, 2], "four"), { workdir });
    expect(await ran()).toEqual(["sq 1", "sq 1", "sq 2", "sum"]);
  }, 60_000);

  it("never hits on a folder whose step has since run again with other inputs", async () => {
    const workdir = path.join(base, "cache-stale");
    const journal = path.join(workdir, "journal.txt");
    await fs.mkdir(workdir, { recursive: true });
    const ran = await journalOf(journal);
    // One keyed step: its folder is "first" in run "one".
    const single = (x: number, name: string): Workflow => {
      const wf = squares(journal, [x], name);
      const main = wf.spec.templates?.[0] as Template;
      return { ...wf, spec: { ...wf.spec, templates: [{ ...main, steps: [main.steps?.[1] ?? []] }, ...(wf.spec.templates ?? []).slice(1)] } };
    };
    await runWorkflow(single(1, "one"), { workdir, cache: true });
    // "one" is resumed with x = 7: the folder "first" now holds the note of 7.
    await runWorkflow(single(7, "one"), { workdir, cache: true });
    expect(await fs.readFile(path.join(workdir, "one", "first", "outputs", "artifacts", "note"), "utf8").catch(async () => "")).not.toBe("square of 1\n");
    expect(await ran()).toEqual(["sq 1", "sq 7"]);
    // A run that needs the square of 1 must not take the note of 7 from that folder: it runs.
    const again = await runWorkflow(single(1, "again"), { workdir, cache: true });
    expect(node(again.status, "first").memoizationStatus?.hit).toBe(false);
    expect(await ran()).toEqual(["sq 1"]);
    // …while the square of 7 is still a hit.
    const seven = await runWorkflow(single(7, "seven"), { workdir, cache: true });
    expect(node(seven.status, "first").memoizationStatus?.hit).toBe(true);
    expect(await ran()).toEqual([]);
  }, 60_000);

  it("cache: true on a template puts only that template's steps through the cache", async () => {
    const workdir = path.join(base, "cache-template");
    const calls: string[] = [];
    const slow = defineOp({
      name: "slow",
      inputs: { x: param(z.number()) },
      outputs: { y: param(z.number()) },
      async execute({ x }) {
        calls.push(`slow ${x}`);
        return { y: x * 10 };
      },
    });
    const cheap = defineOp({
      name: "cheap",
      inputs: { x: param(z.number()) },
      outputs: { y: param(z.number()) },
      async execute({ x }) {
        calls.push(`cheap ${x}`);
        return { y: x + 1 };
      },
    });
    const cached = OPTemplate.fromOp(slow, { cache: true });
    expect(cached.toArgo({ nameOf: () => "slow", context: () => ({}) as never, warn: () => {}, outputMayBeSkipped: () => false })[0]?.metadata?.annotations).toEqual({ "opflow.dev/cache": "true" });
    const build = (name: string): OpflowWorkflow => {
      const main = new Steps({ name: "main" });
      const a = main.add(new Step("a", cached, { parameters: { x: 3 } }));
      main.add(new Step("b", OPTemplate.fromOp(cheap), { parameters: { x: a.outputs.parameters.y } }));
      return new OpflowWorkflow({ name, entrypoint: main });
    };
    const one = await build("one").run({ workdir, warn: () => {} });
    expect(one.status.phase).toBe("Succeeded");
    expect(calls.splice(0)).toEqual(["slow 3", "cheap 30"]);
    const two = await build("two").run({ workdir, warn: () => {} });
    expect(two.status.phase).toBe("Succeeded");
    expect(calls.splice(0)).toEqual(["cheap 30"]);
    expect(node(two.status, "a").memoizationStatus?.hit).toBe(true);
    expect(node(two.status, "b").memoizationStatus).toBeUndefined();
    expect(outParam(node(two.status, "b"), "y")).toBe("31");
  }, 60_000);
});
