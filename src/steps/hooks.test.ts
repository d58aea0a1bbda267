import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { param } from "../op/signature.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { DAG } from "../dag/dag.ts";
import { Task } from "../dag/task.ts";
import { Step, lifecycleHook } from "./step.ts";
import { Steps } from "./steps.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const work = new ShellOPTemplate({ name: "work", inputs: { fail: param(z.boolean()) }, source: 'sleep 0.3; [ "$fail" = true ] && exit 1; true' });
const notify = new ShellOPTemplate({ name: "notify", inputs: { what: param(z.string()) }, source: 'echo "hook: $what"' });

function build(fail: boolean) {
  const main = new Steps({ name: "main" });
  main.add(
    new Step("a", work, {
      parameters: { fail },
      continueOn: { failed: true },
      hooks: {
        started: lifecycleHook(notify, { when: (s) => s.status.eq("Running"), parameters: { what: "started" } }),
        failed: lifecycleHook(notify, { when: (s) => s.status.eq("Failed"), parameters: { what: "failed" } }),
        exit: lifecycleHook(notify, { parameters: { what: "ended" } }),
      },
    }),
  );
  return new Workflow({ generateName: "hooks-", entrypoint: main });
}

describe("lifecycle hooks", () => {
  it("render as Argo step hooks with expr-lang conditions on the step's own status", () => {
    const step = build(false).compile().spec.templates?.find((t) => t.name === "main")?.steps?.[0]?.[0];
    expect(step?.hooks).toEqual({
      started: { template: "notify", expression: '(steps.a.status == "Running")', arguments: { parameters: [{ name: "what", value: "started" }] } },
      failed: { template: "notify", expression: '(steps.a.status == "Failed")', arguments: { parameters: [{ name: "what", value: "failed" }] } },
      exit: { template: "notify", arguments: { parameters: [{ name: "what", value: "ended" }] } },
    });
  });

  it.skipIf(!haveArgoCheck)("pass the upstream CRD check, in Steps and DAGs (needs ../shared/argo)", async () => {
    const dag = new DAG({ name: "d" });
    dag.add(new Task("a", work, { parameters: { fail: false }, hooks: { done: lifecycleHook(notify, { when: (s) => s.status.eq("Succeeded"), parameters: { what: "x" } }) } }));
    expect((await argoCheck([build(true).compile(), new Workflow({ generateName: "h-", entrypoint: dag }).compile()])).output).toMatch(/2 passed, 0 failed/);
  }, 120_000);

  it("refuse bad hooks, naming the step", () => {
    expect(() => new Step("a", work, { parameters: { fail: false }, hooks: { later: lifecycleHook(notify, { parameters: { what: "x" } }) } })).toThrow(/Step "a": hook "later" needs a condition/);
    expect(() => new Step("a", work, { parameters: { fail: false }, hooks: { Bad_Name: lifecycleHook(notify, { when: "true", parameters: { what: "x" } }) } })).toThrow(/Step "a": hook name "Bad_Name" is invalid/);
    // @ts-expect-error the hook's template has no parameter "who"
    expect(() => lifecycleHook(notify, { when: "true", parameters: { who: "x" } })).toThrow(/lifecycle hook of template "notify": unknown parameter "who"/);
  });

  for (const fail of [false, true]) {
    it(`run in the local engine: the step ${fail ? "fails" : "succeeds"}`, async () => {
      const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-hooks-"));
      dirs.push(workdir);
      const result = await build(fail).run({ workdir });
      const nodes = Object.values(result.status.nodes ?? {});
      const phase = (name: string) => nodes.find((n) => n.displayName === name || n.name.endsWith(name))?.phase;
      expect(phase("a.hooks.started")).toBe("Succeeded");
      expect(phase("a.hooks.failed")).toBe(fail ? "Succeeded" : undefined);
      expect(phase("a.onExit") ?? phase("a.hooks.exit")).toBe("Succeeded");
    });
  }
});
