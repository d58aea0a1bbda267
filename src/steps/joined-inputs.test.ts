import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { OPTemplate } from "../template/op-template.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { rawArtifact } from "./artifact-source.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const make = defineOp({
  name: "make",
  inputs: {},
  outputs: { model: artifact(), logs: artifact(), shards: artifact.list() },
  async execute(_input, { workdir }) {
    const model = path.join(workdir, "model.bin");
    await fs.writeFile(model, "weights");
    const logs = path.join(workdir, "logs");
    await fs.mkdir(logs, { recursive: true });
    await fs.writeFile(path.join(logs, "a.log"), "log a");
    const shards = ["s0.txt", "s1.txt"].map((f) => path.join(workdir, f));
    for (const f of shards) await fs.writeFile(f, `shard ${path.basename(f)}`);
    return { model, logs, shards };
  },
});
const describeAll = defineOp({
  name: "describe-all",
  inputs: { files: artifact.list() },
  outputs: { seen: param(z.array(z.string())) },
  async execute({ files }) {
    const seen: string[] = [];
    for (const f of files) {
      const st = await fs.stat(f);
      seen.push(st.isDirectory() ? `${path.basename(f)}/ ${(await fs.readdir(f)).join(",")}` : `${path.basename(f)}: ${await fs.readFile(f, "utf8")}`);
    }
    return { seen };
  },
});
const M = OPTemplate.fromOp(make, { module: "ops.ts" });
const D = OPTemplate.fromOp(describeAll, { module: "ops.ts" });
const shList = new ShellOPTemplate({
  name: "sh-list",
  inputs: { files: artifact.list() },
  outputs: { tree: param(z.string()) },
  source: ["set -eu", "mkdir -p /tmp/outputs/parameters", "cd /tmp/inputs/artifacts/files && find . -type f | sort | tr '\\n' ' ' > /tmp/outputs/parameters/tree"].join("\n"),
});
const shOne = new ShellOPTemplate({ name: "sh-one", inputs: { f: artifact() }, outputs: {}, source: "true" });

function build() {
  const main = new Steps({ name: "main", outputs: { seen: param(z.array(z.string())), tree: param(z.string()) } });
  const m = main.add(new Step("make", M));
  const a = m.outputs.artifacts;
  const d = main.add(new Step("describe", D, { artifacts: { files: [a.model, a.logs, a.shards.at(1), rawArtifact("inline")] } }));
  const t = main.add(new Step("tree", shList, { artifacts: { files: [a.model, a.logs.subPath("a.log")] } }));
  main.setOutputs({ parameters: { seen: d.outputs.parameters.seen, tree: t.outputs.parameters.tree } });
  return { wf: new Workflow({ generateName: "joined-", entrypoint: main }), m };
}

describe("several artifacts into one list input", () => {
  it("calls a variant of the template declaring one input per part, inside the list's directory", () => {
    const manifest = build().wf.compile();
    const variant = manifest.spec.templates?.find((t) => /^describe-all-join-files-4-[0-9a-f]{6}$/.test(t.name ?? ""));
    expect(variant?.inputs?.artifacts).toEqual([
      { name: "files-part-0", path: "/tmp/inputs/artifacts/files/0/model" },
      { name: "files-part-1", path: "/tmp/inputs/artifacts/files/1/logs" },
      { name: "files-part-2", path: "/tmp/inputs/artifacts/files/2/shards-1" },
      { name: "files-part-3", path: "/tmp/inputs/artifacts/files/3/item-3" },
    ]);
    const step = manifest.spec.templates?.find((t) => t.name === "main")?.steps?.flat().find((s) => s.name === "describe");
    expect(step?.template).toMatch(/^describe-all-join-files-4-[0-9a-f]{6}$/);
    expect(step?.arguments?.artifacts?.map((x) => x.name)).toEqual(["files-part-0", "files-part-1", "files-part-2", "files-part-3"]);
    expect(step?.arguments?.artifacts?.[3]).toEqual({ name: "files-part-3", raw: { data: "inline" } });
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build().wf.compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("hands an OP the parts as its list, and a script one directory holding them, in the local engine", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-joined-"));
    dirs.push(workdir);
    const result = await build().wf.run({ workdir });
    const failed = Object.values(result.status.nodes ?? {}).filter((x) => x.message).map((x) => `${x.name}: ${x.message}`);
    expect([result.status.phase, failed]).toEqual(["Succeeded", []]);
    const root = Object.values(result.status.nodes ?? {}).find((x) => x.name === result.name) as NodeStatus;
    const out = (n: string) => root.outputs?.parameters?.find((p) => p.name === n)?.value;
    expect(JSON.parse(out("seen") as string)).toEqual(["model: weights", "logs/ a.log", "shards-1: shard s1.txt", "item-3: inline"]);
    expect(out("tree")).toBe("./0/model ./1/a.log ");
  });

  it("is typed and checked: only artifacts join, only into a list input of a pod template", () => {
    const main = new Steps({ name: "m" });
    const m = main.add(new Step("make", M));
    // @ts-expect-error a single-path input takes one artifact
    expect(() => new Step("x", shOne, { artifacts: { f: [m.outputs.artifacts.model] } })).toThrow(/only a list input \(artifact.list\(\)\) joins several artifacts, "f" is not one/);
    // @ts-expect-error a parameter is not an artifact
    expect(() => new Step("y", D, { artifacts: { files: [m.outputs.result] } })).toThrow(/artifact "files" item 0: only single-path and list artifacts can be joined into a list, got a parameter \(result of step "make"\)/);
    expect(() => new Step("z", D, { artifacts: { files: [] } })).toThrow(/artifact "files" is given an empty list of artifacts/);
    const inner = new Steps({ name: "inner", inputs: { files: artifact.list() } });
    expect(() => new Step("w", inner, { artifacts: { files: [m.outputs.artifacts.model] } })).toThrow(/template "inner" is not a pod template/);
  });
});
