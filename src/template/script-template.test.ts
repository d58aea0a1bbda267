import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";
import { ScriptOPTemplate, ShellOPTemplate } from "./script-template.ts";
import { artifact, param } from "../op/signature.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const shell = new ShellOPTemplate({
  name: "greet",
  image: "busybox",
  inputs: { who: param(z.string()), times: param(z.number().int(), { default: 2 }) },
  outputs: { greeting: param(z.string()), file: artifact() },
  source: [
    "set -eu",
    'from_file=$(cat /tmp/inputs/parameters/who)',
    'i=0; out=""; while [ "$i" -lt "$times" ]; do out="$out hi $who"; i=$((i+1)); done',
    "mkdir -p /tmp/outputs/parameters /tmp/outputs/artifacts",
    'printf "%s" "$out ($from_file)" > /tmp/outputs/parameters/greeting',
    'echo "$out" > /tmp/outputs/artifacts/file',
  ].join("\n"),
});

const python = new ScriptOPTemplate({
  name: "count",
  image: "python:3.12-alpine",
  command: ["python3"],
  inputs: { text: artifact(), word: param(z.string()) },
  outputs: { n: param(z.number().int()) },
  source: [
    "import os",
    "text = open('/tmp/inputs/artifacts/text').read()",
    "os.makedirs('/tmp/outputs/parameters', exist_ok=True)",
    "open('/tmp/outputs/parameters/n', 'w').write(str(text.count(os.environ['word'])))",
  ].join("\n"),
});

describe("script templates", () => {
  it("never splice values into the source: they arrive as environment variables and files", () => {
    const m = new Workflow({ entrypoint: shell, parameters: { who: "x" } }).compile();
    const t = m.spec.templates?.[0];
    expect(t?.script?.source).not.toContain("{{");
    expect(t?.script?.env).toEqual([
      { name: "who", value: "{{inputs.parameters.who}}" },
      { name: "times", value: "{{inputs.parameters.times}}" },
    ]);
    expect(t?.inputs?.artifacts).toEqual([
      { name: "opflow-param-who", path: "/tmp/inputs/parameters/who", raw: { data: "{{inputs.parameters.who}}" } },
      { name: "opflow-param-times", path: "/tmp/inputs/parameters/times", raw: { data: "{{inputs.parameters.times}}" } },
    ]);
  });

  it("run in the local engine with values that would break a spliced script", async () => {
    const nasty = `O'Brien "$(rm -rf /)" \`x\``;
    const main = new Steps({ name: "main", outputs: { greeting: param(z.string()), n: param(z.number().int()) } });
    const g = main.add(new Step("greet", shell, { parameters: { who: nasty } }));
    const c = main.add(new Step("count", python, { parameters: { word: "hi" }, artifacts: { text: g.outputs.artifacts.file } }));
    main.setOutputs({ parameters: { greeting: g.outputs.parameters.greeting, n: c.outputs.parameters.n } });
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-script-"));
    dirs.push(workdir);
    const { status, name } = await new Workflow({ generateName: "script-", entrypoint: main }).run({ workdir });
    expect(Object.values(status.nodes ?? {}).filter((n) => n.phase === "Failed").map((n) => n.message)).toEqual([]);
    const root = Object.values(status.nodes ?? {}).find((n) => n.name === name);
    expect(root?.outputs?.parameters).toEqual([
      { name: "greeting", value: ` hi ${nasty} hi ${nasty} (${nasty})` },
      { name: "n", value: "2" },
    ]);
  });
});

describe("outputs of script templates", () => {
  it("carry their output schemas to the engine in an annotation", () => {
    const t = new ShellOPTemplate({ name: "emit", outputs: { n: param(z.number().int().min(0)) }, source: "true", annotations: { team: "a" } });
    const m = new Workflow({ entrypoint: t }).compile();
    const annotations = m.spec.templates?.[0]?.metadata?.annotations ?? {};
    expect(annotations.team).toBe("a");
    expect(JSON.parse(annotations["opflow.dev/output-schemas"] as string)).toEqual({ n: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } });
  });

  const template = new ShellOPTemplate({
    name: "emit",
    inputs: { v: param(z.string()) },
    outputs: { n: param(z.number().int().min(0)), tags: param(z.array(z.string()), { default: [] }) },
    source: 'mkdir -p /tmp/outputs/parameters && printf "%s" "$v" > /tmp/outputs/parameters/n',
  });

  for (const [value, ok] of [
    ["3", true],
    ["-1", false],
    ["three", false],
    ["2.5", false],
  ] as const) {
    it(`are checked against the schema when the engine reads them: n = ${JSON.stringify(value)} ${ok ? "passes" : "fails the step"}`, async () => {
      const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-script-out-"));
      dirs.push(workdir);
      const { status } = await new Workflow({ generateName: "emit-", entrypoint: template, parameters: { v: value } }).run({ workdir });
      expect(status.phase).toBe(ok ? "Succeeded" : "Failed");
      const messages = Object.values(status.nodes ?? {}).map((n) => n.message ?? "");
      if (!ok) expect(messages.join("\n")).toMatch(new RegExp(`template "emit"\\): output parameter "n": .*got "${value}"`));
    });
  }
});

describe("memoize", () => {
  const memo = new ShellOPTemplate({
    name: "memo",
    inputs: { x: param(z.string()) },
    outputs: { y: param(z.string()) },
    source: 'mkdir -p /tmp/outputs/parameters && printf "%s!" "$x" > /tmp/outputs/parameters/y',
    memoize: { key: "memo-{{inputs.parameters.x}}", maxAge: "24h" },
  });

  it("renders Argo's memoize with a ConfigMap cache, and runs in the local engine", async () => {
    const wf = new Workflow({ generateName: "memo-", entrypoint: memo, parameters: { x: "a" } });
    expect(wf.compile().spec.templates?.[0]?.memoize).toEqual({ key: "memo-{{inputs.parameters.x}}", maxAge: "24h", cache: { configMap: { name: "opflow-memoize" } } });
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-memo-"));
    dirs.push(workdir);
    expect((await wf.run({ workdir })).status.phase).toBe("Succeeded");
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([new Workflow({ generateName: "memo-", entrypoint: memo, parameters: { x: "a" } }).compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("refuses a bad key, age or cache name, naming the template", () => {
    const make = (memoize: { key: string; maxAge: string; cache?: string }) => () => new ShellOPTemplate({ name: "m", source: "true", memoize: memoize as never });
    expect(make({ key: " ", maxAge: "1h" })).toThrow(/template "m": memoize.key must be a non-empty string/);
    expect(make({ key: "k", maxAge: "soon" })).toThrow(/template "m": memoize.maxAge/);
    expect(make({ key: "k", maxAge: "1h", cache: "Bad_Name" })).toThrow(/memoize.cache name "Bad_Name" is invalid/);
  });
});
