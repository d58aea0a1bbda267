import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";
import type { Duration } from "../duration.ts";
import { SuspendTemplate } from "./suspend-template.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

function build(duration?: Duration) {
  const main = new Steps({ name: "main" });
  main.add(new Step("pause", new SuspendTemplate({ name: "pause", ...(duration ? { duration } : {}) })));
  return new Workflow({ generateName: "suspend-", entrypoint: main });
}

describe("SuspendTemplate", () => {
  it("renders Argo's suspend template", () => {
    expect(build("1s").compile().spec.templates?.find((t) => t.name === "pause")).toEqual({ name: "pause", suspend: { duration: "1s" } });
    expect(build().compile().spec.templates?.find((t) => t.name === "pause")).toEqual({ name: "pause", suspend: {} });
  });

  it("refuses a duration that is none, naming the template", () => {
    expect(() => new SuspendTemplate({ name: "p", duration: "a while" as Duration })).toThrow(/template "p": duration/);
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build("1s").compile(), build().compile()])).output).toMatch(/2 passed, 0 failed/);
  }, 120_000);

  it("waits its duration in the local engine", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-suspend-"));
    dirs.push(workdir);
    const started = Date.now();
    const result = await build("1s").run({ workdir });
    expect(result.status.phase).toBe("Succeeded");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
