import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import { DAG } from "../dag/dag.ts";
import { Task } from "../dag/task.ts";
import type { ArtifactPart } from "../expr/refs.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { OPTemplate } from "../template/op-template.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

// Items with names unknown to the manifest: only the catalog knows where each one lies.
const split = defineOp({
  name: "split",
  inputs: { n: param(z.number().int()) },
  outputs: { shards: artifact.list(), sets: artifact.record(), one: artifact() },
  async execute({ n }, { workdir }) {
    const shards: string[] = [];
    for (let i = 0; i < n; i++) {
      const f = path.join(workdir, `shard-${i}-${(i * 7919) % 13}.txt`);
      await fs.writeFile(f, `shard ${i}`);
      shards.push(f);
    }
    const train = path.join(workdir, "train-set");
    await fs.mkdir(train, { recursive: true });
    await fs.writeFile(path.join(train, "rows.csv"), "a,b\n");
    const test = path.join(workdir, "test.csv");
    await fs.writeFile(test, "test rows");
    return { shards, sets: { train, test }, one: test };
  },
});
const S = OPTemplate.fromOp(split, { module: "ops.ts" });
const read = new ShellOPTemplate({
  name: "read",
  inputs: { f: artifact() },
  outputs: { text: param(z.string()) },
  source: [
    "set -eu",
    "mkdir -p /tmp/outputs/parameters",
    'if [ -f /tmp/inputs/artifacts/f ]; then cat /tmp/inputs/artifacts/f > /tmp/outputs/parameters/text; else echo "dir:$(ls /tmp/inputs/artifacts/f | tr "\\n" " ")" > /tmp/outputs/parameters/text; fi',
  ].join("\n"),
});

function build() {
  const dag = new DAG({ name: "main", outputs: { first: param(z.string()), last: param(z.string()), train: param(z.string()), test: param(z.string()) } });
  const s = dag.add(new Task("split", S, { parameters: { n: 3 } }));
  const first = dag.add(new Task("first", read, { artifacts: { f: s.outputs.artifacts.shards.at(0) } }));
  const last = dag.add(new Task("last", read, { artifacts: { f: s.outputs.artifacts.shards.at(-1) } }));
  const train = dag.add(new Task("train", read, { artifacts: { f: s.outputs.artifacts.sets.key("train") } }));
  const test = dag.add(new Task("test", read, { artifacts: { f: s.outputs.artifacts.sets.key("test") } }));
  dag.setOutputs({
    parameters: { first: first.outputs.parameters.text, last: last.outputs.parameters.text, train: train.outputs.parameters.text, test: test.outputs.parameters.text },
  });
  return { wf: new Workflow({ generateName: "address-", entrypoint: dag }), s };
}

describe("artifact addressing: at(i) and key(k)", () => {
  it("is typed: at() only on lists, key() only on records", () => {
    const { s } = build();
    expectTypeOf(s.outputs.artifacts.shards.at(1)).toEqualTypeOf<ArtifactPart>();
    expectTypeOf(s.outputs.artifacts.sets.key("train")).toEqualTypeOf<ArtifactPart>();
    // @ts-expect-error a record has no index
    expect(() => s.outputs.artifacts.sets.at(0)).toThrow(/at\(\) addresses an item of a list artifact; this is a record artifact/);
    // @ts-expect-error a list has no keys
    expect(() => s.outputs.artifacts.shards.key("a")).toThrow(/key\(\) addresses an item of a record artifact; this is a list artifact/);
    // @ts-expect-error a single path has neither
    expect(() => s.outputs.artifacts.one.at(0)).toThrow(/this is a path artifact/);
    // @ts-expect-error an index is a number
    void (() => s.outputs.artifacts.shards.at("0"));
  });

  it("renders Argo's subPath read from the producer's catalog output", () => {
    const m = build().wf.compile();
    const split = m.spec.templates?.find((t) => t.name === "split");
    expect(split?.outputs?.parameters).toEqual([
      { name: "opflow-catalog-shards", valueFrom: { path: "/tmp/outputs/parameters/opflow-catalog-shards", default: "[]" } },
      { name: "opflow-catalog-sets", valueFrom: { path: "/tmp/outputs/parameters/opflow-catalog-sets", default: "{}" } },
    ]);
    const tasks = m.spec.templates?.find((t) => t.name === "main")?.dag?.tasks ?? [];
    const arg = (n: string) => tasks.find((t) => t.name === n)?.arguments?.artifacts?.[0];
    expect(arg("first")).toEqual({ name: "f", from: "{{tasks.split.outputs.artifacts.shards}}", subPath: "{{=fromJSON(tasks.split.outputs.parameters[\"opflow-catalog-shards\"])[int(0)]}}" });
    expect(arg("last")?.subPath).toMatch(/len\(fromJSON\(tasks\.split\.outputs\.parameters\["opflow-catalog-shards"\]\)\) - 1/);
    expect(arg("train")?.subPath).toBe("{{=fromJSON(tasks.split.outputs.parameters[\"opflow-catalog-sets\"])[\"train\"]}}");
    expect(tasks.find((t) => t.name === "train")?.depends).toBe("split");
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build().wf.compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("hands each step exactly the item the producer listed, in the local engine", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-address-"));
    dirs.push(workdir);
    const result = await build().wf.run({ workdir });
    expect(result.status.phase).toBe("Succeeded");
    const root = Object.values(result.status.nodes ?? {}).find((n) => n.name === result.name) as NodeStatus;
    const out = (n: string) => root.outputs?.parameters?.find((x) => x.name === n)?.value?.trim();
    expect([out("first"), out("last"), out("train"), out("test")]).toEqual(["shard 0", "shard 2", "dir:rows.csv", "test rows"]);
  });

  it("refuses addressing where no catalog is recorded, and bad keys, naming the artifact", () => {
    const inner = new DAG({ name: "inner", inputs: { files: artifact.list() } });
    // No catalog: the list's layout gives the item's folder; from the end needs the length.
    expect(inner.io.artifacts.files.at(0).subPath).toBe("0");
    expect(() => inner.io.artifacts.files.at(-1)).toThrow(/input artifact "files" of template "inner": at\(-1\) counts from the end, which needs the list's length/);
    const { s } = build();
    expect(() => s.outputs.artifacts.shards.at(1.5)).toThrow(/output artifact "shards" of task "split": at\(\) takes an integer index, got 1.5/);
    for (const bad of ["", "a/b", ".."]) expect(() => s.outputs.artifacts.sets.key(bad)).toThrow(/key\(\) takes the name of a record entry/);
  });
});
