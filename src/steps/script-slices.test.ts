import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { havePython } from "../../test/helpers/programs.ts";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import type { ArtifactRef, ParamRef } from "../expr/refs.ts";
import { artifact, param } from "../op/signature.ts";
import { ScriptOPTemplate, ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { slicedStep } from "./sliced-step.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";


/** Writes n files and the list of their numbers (shell, the list artifact laid out as `<index>/<file>`). */
const gen = new ShellOPTemplate({
  name: "gen",
  inputs: { n: param(z.number().int()) },
  outputs: { xs: param(z.array(z.number())), files: artifact.list() },
  source: [
    "set -eu",
    "mkdir -p /tmp/outputs/parameters /tmp/outputs/artifacts/files",
    'i=0; xs=""',
    'while [ "$i" -lt "$n" ]; do',
    '  mkdir -p /tmp/outputs/artifacts/files/$i',
    '  echo "file $i" > /tmp/outputs/artifacts/files/$i/in-$i.txt',
    '  xs="$xs${xs:+,}$((i+1))"; i=$((i+1))',
    "done",
    'echo "[$xs]" > /tmp/outputs/parameters/xs',
  ].join("\n"),
});

/** A Python OP: reads its item of a sliced artifact (one entry in its directory) and a scale. */
const work = new ScriptOPTemplate({
  name: "py-work",
  command: ["python3"],
  inputs: { x: param(z.number()), scale: param(z.number()), text: artifact() },
  outputs: { y: param(z.number()), label: param(z.string()), out: artifact() },
  source: [
    "import os",
    "d = '/tmp/inputs/artifacts/text'",
    "f = d if os.path.isfile(d) else os.path.join(d, os.listdir(d)[0])",
    "content = open(f).read().strip()",
    "x = float(os.environ['x']); y = x * float(os.environ['scale'])",
    "os.makedirs('/tmp/outputs/parameters', exist_ok=True)",
    "os.makedirs('/tmp/outputs/artifacts', exist_ok=True)",
    "open('/tmp/outputs/parameters/y', 'w').write(str(int(y)))",
    "open('/tmp/outputs/parameters/label', 'w').write(content)",
    "open('/tmp/outputs/artifacts/out', 'w').write(content + ' -> ' + str(int(y)))",
  ].join("\n"),
});

/** Sums the stacked values and reads the stacked files (shell). */
const total = new ShellOPTemplate({
  name: "total",
  inputs: { ys: param(z.array(z.number())), outs: artifact.list() },
  outputs: { lines: param(z.string()) },
  source: [
    "set -eu",
    "mkdir -p /tmp/outputs/parameters",
    'out=""; i=0',
    'while [ -d /tmp/inputs/artifacts/outs/$i ]; do out="$out$(cat /tmp/inputs/artifacts/outs/$i/*);"; i=$((i+1)); done',
    'printf "%s" "$out" > /tmp/outputs/parameters/lines',
  ].join("\n"),
});

function build(options: { groupSize?: number; poolSize?: number }, n = 5) {
  const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number())), labels: param(z.array(z.string())), lines: param(z.string()) } });
  const g = main.add(new Step("gen", gen, { parameters: { n } }));
  const w = main.add(slicedStep("work", work, { slices: { x: g.outputs.parameters.xs, text: g.outputs.artifacts.files }, parameters: { scale: 10 }, ...options }));
  const t = main.add(new Step("total", total, { parameters: { ys: w.outputs.parameters.y }, artifacts: { outs: w.outputs.artifacts.out } }));
  main.setOutputs({ parameters: { ys: w.outputs.parameters.y, labels: w.outputs.parameters.label, lines: t.outputs.parameters.lines } });
  return { wf: new Workflow({ generateName: "script-sliced-", entrypoint: main }), w, g };
}

let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-script-slices-"));
});
afterAll(async () => {
  await fs.rm(workdir, { recursive: true, force: true });
});

async function run(wf: Workflow) {
  const result = await wf.run({ workdir });
  const nodes = Object.values(result.status.nodes ?? {});
  const root = nodes.find((n) => n.name === result.name) as NodeStatus;
  const failed = nodes.filter((n) => n.phase !== "Succeeded" && n.phase !== "Skipped").map((n) => `${n.displayName}: ${n.message ?? n.phase}`);
  const out = (p: string) => root?.outputs?.parameters?.find((x) => x.name === p)?.value;
  return { result, out, failed, nodes };
}

describe("slices over script templates (no runner in the image)", () => {
  it("types the wiring and the stacked outputs as for OPs", () => {
    const { w, g } = build({});
    expectTypeOf(w.outputs.parameters.y).toEqualTypeOf<ParamRef<number[]>>();
    expectTypeOf(w.outputs.artifacts.out).toEqualTypeOf<ArtifactRef<"list">>();
    expectTypeOf(g.outputs.parameters.xs).toEqualTypeOf<ParamRef<number[]>>();
    // Compile-time checks only: never called.
    const miswired = (): void => {
      // @ts-expect-error a list of strings cannot feed the number parameter x
      slicedStep("a", work, { slices: { x: ["1", "2"] }, parameters: { scale: 1 }, artifacts: { text: g.outputs.artifacts.files } });
      const single = new Step("one", new ShellOPTemplate({ name: "one", outputs: { f: artifact() }, source: "true" }));
      // @ts-expect-error a list artifact is sliced, not a single one: text takes the list
      slicedStep("b", work, { slices: { x: g.outputs.parameters.xs, text: single.outputs.artifacts.f }, parameters: { scale: 1 } });
      // @ts-expect-error scale is required
      slicedStep("c", work, { slices: { x: g.outputs.parameters.xs, text: g.outputs.artifacts.files } });
      // @ts-expect-error a string is not a number for scale
      new Step("d", work, { parameters: { x: 1, scale: "ten" }, artifacts: { text: g.outputs.artifacts.files } });
      // @ts-expect-error the Python OP has no output "z"
      void w.outputs.parameters.z;
    };
    expect(typeof miswired).toBe("function");
  });

  it("compiles items as calls of the template itself with subPath, and groups as a Steps template looping the items", () => {
    const one = build({}).wf.compile();
    const step = one.spec.templates?.find((t) => t.name === "main")?.steps?.[1]?.[0];
    expect(step?.template).toBe("py-work-item");
    expect(step?.withParam).toBe("{{=toJson(sprig.until(int(len(fromJSON(steps.gen.outputs.parameters.xs)))))}}");
    expect(step?.arguments?.parameters).toEqual([
      { name: "x", value: "{{=fromJSON(steps.gen.outputs.parameters.xs)[int(item)]}}" },
      { name: "scale", value: "10" },
      { name: "opflow-slice-indices", value: "{{item}}" },
      { name: "opflow-stack-key", value: "{{workflow.name}}/main/work" },
    ]);
    expect(step?.arguments?.artifacts).toEqual([{ name: "text", from: "{{steps.gen.outputs.artifacts.files}}", subPath: "{{item}}" }]);
    const item = one.spec.templates?.find((t) => t.name === "py-work-item");
    expect(item?.script?.command).toEqual(["python3"]);
    expect(item?.outputs?.artifacts).toEqual([
      { name: "out", path: "/tmp/outputs/artifacts/out", archive: { none: {} }, s3: { key: "{{inputs.parameters.opflow-stack-key}}/out/{{inputs.parameters.opflow-slice-indices}}/out" } },
    ]);
    expect(one.spec.templates?.some((t) => t.name === "py-work")).toBe(false);

    const grouped = build({ groupSize: 2, poolSize: 2 }).wf.compile();
    const group = grouped.spec.templates?.find((t) => t.name === "py-work-group");
    expect(group?.parallelism).toBe(2);
    const inner = group?.steps?.[0]?.[0];
    expect(inner?.template).toBe("py-work-item");
    expect(inner?.withParam).toBe("{{inputs.parameters.opflow-slice-indices}}");
    expect(inner?.arguments?.artifacts).toEqual([{ name: "text", from: "{{inputs.artifacts.text}}", subPath: "{{item}}" }]);
    expect(group?.outputs?.parameters?.map((p) => p.valueFrom?.parameter)).toEqual([
      "{{steps.item.outputs.parameters.y}}",
      "{{steps.item.outputs.parameters.label}}",
    ]);
  });

  it("refuses what a template without a runner cannot do, naming the step", () => {
    const { g } = build({});
    expect(() => slicedStep("w", work, { slices: { x: g.outputs.parameters.xs, text: g.outputs.artifacts.files }, parameters: { scale: 1 }, groupSize: 2, createDir: true })).toThrow(
      /Step "w": createDir .* template "py-work" runs each item in a pod of its own/,
    );
    const listIn = new ShellOPTemplate({ name: "list-in", inputs: { all: artifact.list() }, source: "true" });
    expect(() => slicedStep("l", listIn, { slices: { all: g.outputs.artifacts.files } as never, count: 2 })).toThrow(/Step "l": only single-path artifacts can be sliced; input "all" of template "list-in"/);
    expect(() => slicedStep("o", work, { slices: { x: g.outputs.parameters.xs, text: g.outputs.artifacts.files } as never, parameters: { scale: 1, x: 3 } as never })).toThrow(
      /input "x" is sliced; do not also pass it/,
    );
  });

  it.skipIf(!haveArgoCheck)("emits manifests that pass the upstream CRD check (needs ../shared/argo)", async () => {
    const manifests = [build({}), build({ groupSize: 2 }), build({ groupSize: 3, poolSize: 3 })].map((b) => b.wf.compile());
    expect((await argoCheck(manifests)).output).toMatch(/3 passed, 0 failed/);
  }, 120_000);

  for (const [label, options] of [
    ["one item per step", {}],
    ["groupSize 2", { groupSize: 2 }],
    ["groupSize 2 with poolSize 2", { groupSize: 2, poolSize: 2 }],
    ["groupSize 3 (last group short)", { groupSize: 3 }],
  ] as const) {
    it.skipIf(!havePython)(`runs a Python OP over sliced artifacts and stacks its outputs in item order: ${label} (needs python3)`, async () => {
      const { result, out, failed } = await run(build(options).wf);
      expect(failed).toEqual([]);
      expect(result.status.phase).toBe("Succeeded");
      expect((JSON.parse(out("ys") as string) as unknown[]).map(Number)).toEqual([10, 20, 30, 40, 50]);
      expect(JSON.parse(out("labels") as string)).toEqual(["file 0", "file 1", "file 2", "file 3", "file 4"]);
      expect(out("lines")).toBe("file 0 -> 10;file 1 -> 20;file 2 -> 30;file 3 -> 40;file 4 -> 50;");
    });
  }
});
