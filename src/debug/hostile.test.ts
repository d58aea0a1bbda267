/**
 * The local engine against hostile or unlucky input (issue 14): each test is a small manifest
 * that once escaped the run folder, hung, crashed the engine or killed an unrelated process.
 */
import { afterAll, describe, expect, it } from "vitest";
import { manifest, node, phases, sh, workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

describe("deadlines of 24.8 days and more (setTimeout's 2^31 ms limit)", () => {
  it("do not fire at once: activeDeadlineSeconds 2592000 on workflow and template, timeout 720h on a step", async () => {
    const wf = manifest(
      "long-deadlines",
      [
        { name: "main", steps: [[{ name: "a", template: "work", timeout: "720h" }], [{ name: "b", template: "nap" }]] },
        sh("work", "sleep 0.3; echo done", { activeDeadlineSeconds: 2592000 }),
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
