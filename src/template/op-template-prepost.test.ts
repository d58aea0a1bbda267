/**
 * Pre and post scripts of OP templates: shell lines around the OP runner, in the manifest (a
 * `sh -c` wrapper valid for Argo) and on the local engine (the same wrapper around `opflow
 * execute`, and in podman where it runs).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { param } from "../op/signature.ts";
import type { NodeStatus, WorkflowStatus } from "../argo/model.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { slicedStep } from "../steps/sliced-step.ts";
import { Workflow } from "../workflow/workflow.ts";
import { OPTemplate } from "./op-template.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { maybeFail, readSetup } from "../../test/fixtures/prepost-ops.ts";
import { ContainerExecutor, parseImageMap } from "../executors/container.ts";
import { NODE_IMAGE, ensureImage, podmanSkipReason } from "../executors/_test-images.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function workdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-prepost-"));
  dirs.push(d);
  return d;
}
/** The folder of the step shown as `name`. */
function stepDir(r: { dir: string }, name: string): string {
  const d = fs.readdirSync(r.dir).find((e) => e === name || e.endsWith(`.${name}`));
  if (!d) throw new Error(`no folder of step ${name} in ${r.dir}`);
  return path.join(r.dir, d);
}
function node(r: { status: WorkflowStatus }, name: string): NodeStatus | undefined {
  return Object.values(r.status.nodes ?? {}).find((n) => n.displayName === name && n.type === "Pod");
}

// `source` works in any sh (dash has only `.`): the wrapper gives it one.
const PRE = ['echo \'export PRE_GREETING="hello"\' > "${OPFLOW_ROOT:-/tmp}/env.sh"', 'source "${OPFLOW_ROOT:-/tmp}/env.sh"', 'echo from-pre > "${OPFLOW_ROOT:-/tmp}/pre.txt"'].join("\n");
const POST = 'echo post >> "${OPFLOW_ROOT:-/tmp}/outputs/artifacts/note"';

function setupWorkflow(name: string, options: { preScript?: string; postScript?: string }): Workflow {
  const t = OPTemplate.fromOp(readSetup, { name: "setup", ...options });
  const main = new Steps({ name: "main" });
  main.add(new Step("setup", t, { parameters: { who: "world" } }));
  return new Workflow({ name, entrypoint: main });
}

describe("OP templates with pre and post scripts", () => {
  it("wrap the runner in sh -c: the runner's command becomes the wrapper's arguments", () => {
    const t = setupWorkflow("prepost-manifest", { preScript: PRE, postScript: POST })
      .compile()
      .spec.templates?.find((x) => x.name === "setup");
    const [sh, dashC, text, zero] = t?.container?.command ?? [];
    expect([sh, dashC, zero]).toEqual(["sh", "-c", "opflow-op"]);
    expect(text).toContain('source "${OPFLOW_ROOT:-/tmp}/env.sh"');
    expect(text).toContain('\n"$@"\n');
    expect(text!.indexOf("PRE_GREETING")).toBeLessThan(text!.indexOf('\n"$@"\n'));
    expect(text!.indexOf('\n"$@"\n')).toBeLessThan(text!.indexOf("echo post"));
    // The bundle's runner, as without scripts.
    expect(t?.container?.args?.[0]).toBe("node");
    expect(t?.container?.args?.[1]).toMatch(/^\/tmp\/opflow\/[0-9a-f]{20}\.mjs$/);
    expect(t?.container?.args?.slice(2)).toEqual(["--op", "read-setup"]);
    // Without scripts nothing changes.
    const plain = setupWorkflow("plain", {}).compile().spec.templates?.find((x) => x.name === "setup");
    expect(plain?.container?.command?.[0]).toBe("node");
  });

  it.skipIf(!haveArgoCheck)("give manifests that pass the upstream CRD check (needs ../shared/argo)", async () => {
    const r = await argoCheck([setupWorkflow("prepost-crd", { preScript: PRE, postScript: POST }).compile()]);
    expect(r.output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("run on the local engine: the OP sees what the pre script exported and wrote; the post script adds to its output", async () => {
    const r = await setupWorkflow("prepost-run", { preScript: PRE, postScript: POST }).run({ workdir: workdir() });
    const n = node(r, "setup");
    expect(r.status.phase, n?.message).toBe("Succeeded");
    expect(n?.outputs?.parameters?.find((p) => p.name === "greeting")?.value).toBe("hello world (from-pre)");
    // The OP's progress reaches the engine from the child process.
    expect(n?.progress).toBe("3/7");
    const note = path.join(stepDir(r, "setup"), "outputs", "artifacts", "note");
    expect(fs.readFileSync(fs.statSync(note).isDirectory() ? path.join(note, "note.txt") : note, "utf8")).toBe("op\npost\n");
  }, 120_000);

  it("fail the step when the pre script fails, saying so; the OP does not run", async () => {
    const r = await setupWorkflow("prepost-bad-pre", { preScript: "echo setting up\nfalse", postScript: POST }).run({ workdir: workdir() });
    const n = node(r, "setup");
    expect(r.status.phase).toBe("Failed");
    expect(n?.message).toBe('the pre script of template "setup" failed (exit code 1)');
    expect(n?.outputs?.parameters?.find((p) => p.name === "greeting")?.value).toBeUndefined();
    expect(fs.readFileSync(path.join(stepDir(r, "setup"), "log.txt"), "utf8")).toContain("setting up\n");
  }, 120_000);

  it("stop the pre script at the first failure under set -e, keeping its exit code", async () => {
    const r = await setupWorkflow("prepost-set-e", { preScript: "set -e\n(exit 3)\necho never" }).run({ workdir: workdir() });
    expect(node(r, "setup")?.message).toBe('the pre script of template "setup" failed (exit code 3)');
    expect(fs.readFileSync(path.join(stepDir(r, "setup"), "log.txt"), "utf8")).not.toContain("never");
  }, 120_000);

  it("skip the post script after a failed OP and keep the OP's exit status; a failing post script fails the step", async () => {
    const t = OPTemplate.fromOp(maybeFail, { name: "maybe", postScript: "echo post ran", retry: 1 });
    const main = new Steps({ name: "main" });
    main.add(new Step("maybe", t, { parameters: { fail: true } }));
    const r = await new Workflow({ name: "prepost-op-fails", entrypoint: main }).run({ workdir: workdir() });
    expect(r.status.phase).toBe("Failed");
    const pods = Object.values(r.status.nodes ?? {}).filter((n) => n.type === "Pod");
    // A TransientError (exit code 75) is retried under retry: 1, as without scripts.
    expect(pods.map((p) => p.outputs?.exitCode)).toEqual(["75", "75"]);
    for (const p of pods) expect(p.message ?? "").not.toMatch(/post script/);
    const logs = fs.readdirSync(r.dir, { recursive: true }).filter((f) => String(f).endsWith("log.txt"));
    for (const f of logs) expect(fs.readFileSync(path.join(r.dir, String(f)), "utf8")).not.toContain("post ran");

    const failingPost = OPTemplate.fromOp(maybeFail, { name: "post-fails", postScript: "echo cleaning\nexit 4" });
    const main2 = new Steps({ name: "main" });
    main2.add(new Step("post-fails", failingPost, { parameters: { fail: false } }));
    const r2 = await new Workflow({ name: "prepost-post-fails", entrypoint: main2 }).run({ workdir: workdir() });
    expect(r2.status.phase).toBe("Failed");
    expect(node(r2, "post-fails")?.message).toBe('the post script of template "post-fails" failed (exit code 4)');
  }, 120_000);

  it("run around each slice's runner when the template is sliced", async () => {
    const t = OPTemplate.fromOp(readSetup, { name: "setup", preScript: PRE, postScript: "echo post ran" });
    const main = new Steps({ name: "main", outputs: { greetings: param(z.array(z.string())) } });
    const s = main.add(slicedStep("each", t, { slices: { who: ["ann", "bob", "cy"] }, groupSize: 2 }));
    main.setOutputs({ parameters: { greetings: s.outputs.parameters.greeting } });
    const r = await new Workflow({ name: "prepost-sliced", entrypoint: main }).run({ workdir: workdir() });
    expect(r.status.phase, JSON.stringify(Object.values(r.status.nodes ?? {}).map((n) => n.message).filter(Boolean))).toBe("Succeeded");
    const root = Object.values(r.status.nodes ?? {}).find((n) => n.name === r.name);
    expect(JSON.parse(root?.outputs?.parameters?.[0]?.value ?? "[]")).toEqual(["hello ann (from-pre)", "hello bob (from-pre)", "hello cy (from-pre)"]);
    const logs = fs.readdirSync(r.dir, { recursive: true }).filter((f) => String(f).endsWith("log.txt"));
    expect(logs.filter((f) => fs.readFileSync(path.join(r.dir, String(f)), "utf8").includes("post ran"))).toHaveLength(2);
    const manifest = new Workflow({ name: "prepost-sliced", entrypoint: main }).compile();
    expect(manifest.spec.templates?.find((x) => x.name === "setup-sliced")?.container?.command?.slice(0, 2)).toEqual(["sh", "-c"]);
  }, 120_000);

  it("refuse scripts that are not text, naming the template and the field", () => {
    expect(() => OPTemplate.fromOp(readSetup, { preScript: 42 as unknown as string })).toThrow(/OP template "read-setup": preScript must be source text \(a string\), got number 42/);
    expect(() => OPTemplate.fromOp(readSetup, { postScript: ["a"] as unknown as string })).toThrow(/OP template "read-setup": postScript must be source text \(a string\), got an array/);
    expect(() => OPTemplate.fromOp(readSetup, { preScript: "a\0b" })).toThrow(/preScript must not contain a NUL character/);
    // Blank text is no script.
    expect(OPTemplate.fromOp(readSetup, { preScript: "  \n" }).prePost).toEqual({});
  });
});

const skip = podmanSkipReason();
describe.skipIf(skip !== undefined)(`OP templates with pre and post scripts in podman${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it(`run as on the local engine, on ${NODE_IMAGE} (no opflow inside)`, async () => {
    ensureImage(NODE_IMAGE);
    const executor = new ContainerExecutor({ images: parseImageMap([`node:20-slim=${NODE_IMAGE}`]) });
    const ok = await setupWorkflow("prepost-podman", { preScript: PRE, postScript: POST }).run({ workdir: workdir(), executor });
    const n = node(ok, "setup");
    expect(ok.status.phase, n?.message).toBe("Succeeded");
    expect(n?.outputs?.parameters?.find((p) => p.name === "greeting")?.value).toBe("hello world (from-pre)");
    const note = path.join(stepDir(ok, "setup"), "outputs", "artifacts", "note");
    expect(fs.readFileSync(fs.statSync(note).isDirectory() ? path.join(note, "note.txt") : note, "utf8")).toBe("op\npost\n");
    const bad = await setupWorkflow("prepost-podman-bad", { preScript: "false" }).run({ workdir: workdir(), executor });
    expect(bad.status.phase).toBe("Failed");
    expect(node(bad, "setup")?.message).toBe('the pre script of template "setup" failed (exit code 1)');
  }, 300_000);
});
