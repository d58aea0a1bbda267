import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { iterate } from "../../examples/reuse.ts";
import { ClusterApiError } from "../argo/api-errors.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

describe("Workflow.replay: reading an earlier run without running it", () => {
  it("gives a handle on a finished debug run: typed step values, parentId, key lists, scripts, reuse", { timeout: 120_000 }, async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-replay-"));
    dirs.push(workdir);
    const first = await iterate(3).submit({ mode: "debug", workdir });
    await first.wait();
    const before = await fs.readdir(path.join(workdir, first.name), { recursive: true });

    const old = await iterate(3).replay(first.name, { mode: "debug", workdir });
    expect(await old.phase()).toBe("Succeeded");
    expect(await old.outputs()).toEqual({});
    const steps = await old.querySteps({ key: ["iter-0", "iter-2"] });
    expect(steps.map((s) => [s.key, s.values["iter"]])).toEqual([
      ["iter-0", 1],
      ["iter-2", 3],
    ]);
    // The second plus-one runs inside the first recursive call: its parent is that call's Steps node.
    const [iter1] = await old.querySteps({ key: "iter-1" });
    const inner = await old.querySteps({ parentId: iter1?.boundaryId as string, type: "Pod" });
    expect(inner.map((s) => s.key)).toEqual(["iter-1"]);
    expect(iter1?.getScript()).toMatch(/plus-one/);
    // Nothing ran: the run's folder holds what it held.
    expect(await fs.readdir(path.join(workdir, first.name), { recursive: true })).toEqual(before);

    // Its steps reused by a new run, one output replaced through the step's method.
    const second = await iterate(6).submit({ mode: "debug", workdir, reuse: [steps[0]!, iter1!.modifyOutputParameter("iter", 4)] });
    await second.wait();
    const ran = (await second.querySteps({ name: "plus-one", type: "Pod" })).map((s) => `${s.key}=${s.values["iter"]}${s.message?.startsWith("reused") ? " reused" : ""}`).sort();
    expect(ran).toEqual(["iter-0=1 reused", "iter-1=4 reused", "iter-4=5", "iter-5=6"]);
  });

  it("says so when there is no run by that name", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-replay-"));
    dirs.push(workdir);
    const err = await iterate(3).replay("reuse-nope", { mode: "debug", workdir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterApiError);
    expect((err as Error).message).toMatch(/reuse-nope/);
  });
});
