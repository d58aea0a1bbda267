/** Pre and post scripts of script and shell templates: where they go, and how their failures end a step. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { havePython } from "../../test/helpers/programs.ts";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { NodeStatus, WorkflowStatus } from "../argo/model.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";
import { ScriptOPTemplate, ShellOPTemplate } from "./script-template.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function workdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-script-prepost-"));
  dirs.push(d);
  return d;
}
function pod(r: { status: WorkflowStatus }, name: string): NodeStatus | undefined {
  return Object.values(r.status.nodes ?? {}).find((n) => n.displayName === name && n.type === "Pod");
}
function run(t: ScriptOPTemplate<{ who: ReturnType<typeof param<z.ZodString>> }, { greeting: ReturnType<typeof param<z.ZodString>> }>, name: string) {
  const main = new Steps({ name: "main" });
  main.add(new Step("s", t, { parameters: { who: "world" } }));
  return new Workflow({ name, entrypoint: main }).run({ workdir: workdir() });
}

const io = { inputs: { who: param(z.string()) }, outputs: { greeting: param(z.string()) } };
const OUT = "mkdir -p /tmp/outputs/parameters";

describe("shell templates with pre and post scripts", () => {
  const greet = (pre: string | undefined, source: string, post: string | undefined) =>
    new ShellOPTemplate({ name: "greet", ...io, ...(pre !== undefined ? { preScript: pre } : {}), ...(post !== undefined ? { postScript: post } : {}), source });

  it("put the parts around the source in the script the manifest carries; the source alone stays `source`", () => {
    const t = greet("export GREETING=hi", 'printf "%s %s" "$GREETING" "$who" > /tmp/outputs/parameters/greeting', "echo done");
    const script = new Workflow({ entrypoint: t, parameters: { who: "x" } }).compile().spec.templates?.[0]?.script?.source ?? "";
    const [pre, src, post] = ["export GREETING=hi", "printf", "echo done"].map((s) => script.indexOf(s));
    expect(pre).toBeGreaterThan(0);
    expect(pre!).toBeLessThan(src!);
    expect(src!).toBeLessThan(post!);
    expect(t.source).toBe('printf "%s %s" "$GREETING" "$who" > /tmp/outputs/parameters/greeting');
    expect(t.fullSource).toBe(script);
    // sh -n accepts it.
    expect(spawnSync("sh", ["-n", "-c", script]).status).toBe(0);
    // Without parts, the source is the script, unchanged.
    expect(new Workflow({ entrypoint: greet(undefined, "true", undefined), parameters: { who: "x" } }).compile().spec.templates?.[0]?.script?.source).toBe("true");
  });

  it.skipIf(!haveArgoCheck)("pass the upstream CRD check (needs ../shared/argo)", async () => {
    const t = greet("export GREETING=hi", "true", "echo done");
    expect((await argoCheck([new Workflow({ entrypoint: t, parameters: { who: "x" } }).compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("run in one shell: the source sees what the pre script exported; the post script runs after it", async () => {
    const t = greet(`export GREETING=hello\n${OUT}`, 'printf "%s %s" "$GREETING" "$who" > /tmp/outputs/parameters/greeting', 'printf "%s!" "$(cat /tmp/outputs/parameters/greeting)" > /tmp/outputs/parameters/greeting.tmp && mv /tmp/outputs/parameters/greeting.tmp /tmp/outputs/parameters/greeting');
    const r = await run(t, "sh-prepost");
    expect(r.status.phase, pod(r, "s")?.message).toBe("Succeeded");
    expect(pod(r, "s")?.outputs?.parameters).toEqual([{ name: "greeting", value: "hello world!" }]);
  }, 60_000);

  it("fail the step when the pre script fails, naming it, and do not run the source", async () => {
    const r = await run(greet("test -d /no/such/dir", `${OUT} && echo ran > /tmp/outputs/parameters/greeting`, undefined), "sh-bad-pre");
    expect(r.status.phase).toBe("Failed");
    expect(pod(r, "s")?.message).toBe('the pre script of template "greet" failed (exit code 1)');
  }, 60_000);

  it("skip the post script when the source fails, keeping the source's exit code; a failing post script fails the step, naming it", async () => {
    const r = await run(greet(undefined, "echo working; exit 7", "echo post ran"), "sh-source-fails");
    expect(r.status.phase).toBe("Failed");
    expect(pod(r, "s")?.message).toBe("Error (exit code 7)");
    expect(pod(r, "s")?.outputs?.result ?? "").not.toContain("post ran");
    const r2 = await run(greet(undefined, `${OUT} && printf ok > /tmp/outputs/parameters/greeting`, "false"), "sh-post-fails");
    expect(r2.status.phase).toBe("Failed");
    expect(pod(r2, "s")?.message).toBe('the post script of template "greet" failed (exit code 1)');
  }, 60_000);

  it("refuse parts that are not text, naming the template and the field", () => {
    expect(() => new ShellOPTemplate({ name: "s", source: "true", preScript: 1 as unknown as string })).toThrow(/template "s": preScript must be source text \(a string\), got number 1/);
    expect(() => new ScriptOPTemplate({ name: "p", command: ["python3"], source: "pass", postScript: { text: "x" } as unknown as string })).toThrow(/template "p": postScript must be source text \(a string\), got an object/);
    expect(() => new ShellOPTemplate({ name: "s", source: "true", postScript: null as unknown as string })).toThrow(/template "s": postScript must be source text \(a string\), got null/);
  });
});

const python = havePython;
if (!python) console.warn("python pre/post script tests skipped: python3 is not on this machine");

describe.skipIf(!python)(`script templates in other languages with pre and post scripts${python ? "" : " (skipped: no python3)"}`, () => {
  const py = (pre: string, source: string, post: string) =>
    new ScriptOPTemplate({ name: "py", command: ["python3"], ...io, preScript: pre, postScript: post, source });

  it("join the parts to the source by newlines, as dflow does", () => {
    const t = py("import os", "x = 1", "print(x)");
    expect(t.fullSource).toBe("import os\nx = 1\nprint(x)\n");
  });

  it("run as one script: the pre part's names are the source's; the post part runs when the source runs to its end", async () => {
    const t = py(
      "import os\ngreeting = 'hello'",
      "message = f\"{greeting} {os.environ['who']}\"",
      "os.makedirs('/tmp/outputs/parameters', exist_ok=True)\nopen('/tmp/outputs/parameters/greeting', 'w').write(message)",
    );
    const r = await run(t, "py-prepost");
    expect(r.status.phase, pod(r, "s")?.message).toBe("Succeeded");
    expect(pod(r, "s")?.outputs?.parameters).toEqual([{ name: "greeting", value: "hello world" }]);
  }, 60_000);

  it("stop at an exception in the pre part; line numbers count from the top of the joined script", async () => {
    const t = py("import os\nraise SystemExit('no licence')", "print('source ran')", "print('post ran')");
    const r = await run(t, "py-bad-pre");
    expect(r.status.phase).toBe("Failed");
    expect(pod(r, "s")?.outputs?.result ?? "").not.toContain("ran");
    const t2 = py("import os\nimport sys", "x = 1\ny = undefined_name", "print('post ran')");
    const r2 = await run(t2, "py-line");
    expect(r2.status.phase).toBe("Failed");
    const dir = fs.readdirSync(r2.dir).find((e) => e.endsWith(".s"));
    const log = fs.readFileSync(path.join(r2.dir, dir ?? "s", "log.txt"), "utf8");
    expect(log).toMatch(/line 4/);
    expect(log).not.toContain("post ran");
  }, 60_000);
});
