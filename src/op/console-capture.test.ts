import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { chatty } from "../../test/fixtures/worker-ops.ts";
import { Step } from "../steps/step.ts";
import { OPTemplate } from "../template/op-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { withConsoleTo } from "./console-capture.ts";

let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-console-"));
});
afterAll(() => fs.rm(workdir, { recursive: true, force: true }));

describe("console output of OPs", () => {
  it("keeps concurrent contexts apart and leaves calls outside them alone", async () => {
    const a: string[] = [];
    const b: string[] = [];
    const spy = vi.spyOn(process.stdout, "write");
    await Promise.all([
      withConsoleTo((t) => a.push(t), async () => {
        console.log("a1");
        await new Promise((r) => setTimeout(r, 10));
        console.warn("a2 %d", 2);
      }),
      withConsoleTo((t) => b.push(t), async () => {
        await new Promise((r) => setTimeout(r, 5));
        console.info("b1");
      }),
    ]);
    expect(a).toEqual(["a1\n", "a2 2\n"]);
    expect(b).toEqual(["b1\n"]);
    spy.mockRestore();
  });

  for (const thread of ["engine", "worker"] as const) {
    it(`lands in log.txt with a thrown error's stack (thread "${thread}")`, async () => {
      const t = OPTemplate.fromOp(chatty, { thread });
      const wf = new Workflow({ name: `chatty-${thread}` });
      wf.add([new Step("ok", t, { parameters: { who: "ada", fail: false } }), new Step("bad", t, { parameters: { who: "bob", fail: true } })]);
      const { status, dir } = await wf.run({ workdir });
      expect(status.phase).toBe("Failed");
      const ok = await fs.readFile(path.join(dir, "[0].ok", "log.txt"), "utf8");
      expect(ok).toBe("hello from ada\nwarning from ada\n{ who: 'ada' }\n");
      const bad = await fs.readFile(path.join(dir, "[0].bad", "log.txt"), "utf8");
      expect(bad).toContain("hello from bob\nwarning from bob\n");
      expect(bad).toMatch(/Error: bob gave up\n\s+at .*worker-ops\.ts/);
    }, 60_000);
  }
});
