/**
 * The examples run offline through `workflow.run()` (the local engine, OPs in-process) and
 * end with the results their comments promise.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { havePython } from "../../test/helpers/programs.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeStatus } from "../../src/argo/model.ts";
import type { Workflow } from "../../src/workflow/workflow.ts";


let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-examples-"));
});
afterAll(async () => {
  await fs.rm(workdir, { recursive: true, force: true });
});

async function run(example: string) {
  const mod = (await import(`../${example}.ts`)) as { default: Workflow };
  const result = await mod.default.run({ workdir, warn: () => {} });
  const nodes = Object.values(result.status.nodes ?? {});
  const root = nodes.find((n) => n.name === result.name) as NodeStatus;
  const out = (n: NodeStatus | undefined, p: string) => n?.outputs?.parameters?.find((x) => x.name === p)?.value;
  const byName = (displayName: string) => nodes.filter((n) => n.displayName === displayName);
  return { result, root, out, byName };
}

describe("examples run on the local engine", () => {
  it("hello greets and writes its report", async () => {
    const { result, byName, out } = await run("hello");
    expect(result.status.phase).toBe("Succeeded");
    const [hello] = byName("hello");
    expect(out(hello, "greeting")).toBe("Hello, opflow! Hello, opflow!");
    expect(out(hello, "length")).toBe("29");
  });

  it("steps passes outputs between sequential and parallel steps", async () => {
    const { result, root, out } = await run("steps");
    expect(result.status.phase).toBe("Succeeded");
    // "xy" ×2 = 4 chars; left ×2 = 8 chars; right ×3 = 12 chars; last = left × 12 = 96 chars
    expect(out(root, "total")).toBe("96");
  });

  it("dag computes the diamond", async () => {
    const { result, root, out } = await run("dag");
    expect(result.status.phase).toBe("Succeeded");
    expect(out(root, "result")).toBe("114");
  });

  it("conditional runs one branch, skips the other, and returns the branch's result", async () => {
    const { result, root, out, byName } = await run("conditional");
    expect(result.status.phase).toBe("Succeeded");
    expect(byName("heads")[0]?.phase).toBe("Succeeded");
    expect(byName("tails")[0]?.phase).toBe("Skipped");
    expect(out(root, "said")).toBe("HEADS!");
  });

  it("loop counts up to its limit by recursion", async () => {
    const { result, byName, out } = await run("loop");
    expect(result.status.phase).toBe("Succeeded");
    const increments = byName("increment").map((n) => Number(out(n, "value"))).sort((a, b) => a - b);
    expect(increments).toEqual([1, 2, 3, 4, 5]);
  });

  it("fan-out squares every item and sums the aggregated list", async () => {
    const { result, root, out, byName } = await run("fan-out");
    expect(result.status.phase).toBe("Succeeded");
    expect(byName("square(0:1)")).toHaveLength(1);
    expect(out(root, "total")).toBe("385");
  });

  it("slices counts every shard, two per step, and stacks scores and summaries in order", async () => {
    const { result, root, out } = await run("slices");
    expect(result.status.phase).toBe("Succeeded");
    expect(out(root, "total")).toBe("5");
    expect(JSON.parse(out(root, "lines") as string)).toEqual([0, 1, 2, 3, 4].map((i) => `shard-${i}.csv: ${i + 1} rows`));
  });

  it("artifacts addresses list items and record entries, joins two into one input, and slices by the catalog", async () => {
    const { result, root, out } = await run("artifacts");
    expect(result.status.phase).toBe("Succeeded");
    expect([out(root, "last"), out(root, "train")]).toEqual(["5", "3"]);
    expect(JSON.parse(out(root, "picked") as string)).toEqual(["sets-test", "shards-0"]);
    expect(JSON.parse(out(root, "joined") as string)).toEqual([0, 1, 2, 3, 4].map((i) => `shard-${i}-of-5.csv`).concat("sets-train"));
    expect(JSON.parse(out(root, "all") as string)).toEqual([1, 2, 3, 4, 5]);
  });

  it("nested passes a sub-tree, the last epoch's log and a file by dotted key of one nested artifact", async () => {
    const { result, root, out } = await run("nested");
    expect(result.status.phase).toBe("Succeeded");
    expect(JSON.parse(out(root, "model") as string)).toEqual(["weights.bin", "config.json"]);
    expect([out(root, "last"), out(root, "config")]).toEqual(["loss 0.33", '{"layers":3}']);
  });

  it("reuse resubmits the keyed loop taking over iter-0 and iter-1 (one output replaced), as dflow's reuse example", async () => {
    const { reuseDemo } = (await import("../../examples/reuse.ts")) as typeof import("../../examples/reuse.ts");
    const { first, second } = await reuseDemo({ mode: "debug", workdir });
    expect(await first.phase()).toBe("Succeeded");
    expect(await second.phase()).toBe("Succeeded");
    const steps = async (h: typeof first) => (await h.querySteps({ name: "plus-one", type: "Pod" })).map((s) => ({ key: s.key, reused: s.message?.startsWith("reused") ?? false, iter: s.outputs.parameters["iter"] })).sort((a, b) => String(a.key).localeCompare(String(b.key)));
    expect(await steps(first)).toEqual([
      { key: "iter-0", reused: false, iter: "1" },
      { key: "iter-1", reused: false, iter: "2" },
      { key: "iter-2", reused: false, iter: "3" },
    ]);
    // iter-1's output replaced by 4: the loop goes on from 4 and ends at the new limit, 6.
    expect(await steps(second)).toEqual([
      { key: "iter-0", reused: true, iter: "1" },
      { key: "iter-1", reused: true, iter: "4" },
      { key: "iter-4", reused: false, iter: "5" },
      { key: "iter-5", reused: false, iter: "6" },
    ]);
  });

  it.skipIf(!havePython)("script-slices runs a Python OP sliced over a list artifact, two items per step (needs python3)", async () => {
    const { result, root, out } = await run("script-slices");
    expect(result.status.phase).toBe("Succeeded");
    expect((JSON.parse(out(root, "scores") as string) as unknown[]).map(Number)).toEqual([1, 4, 9, 16]);
    expect(out(root, "lines")).toBe("shard-0.csv: 1 rows; shard-1.csv: 2 rows; shard-2.csv: 3 rows; shard-3.csv: 4 rows; ");
  });
});
