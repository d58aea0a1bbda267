import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { OPTemplate } from "../template/op-template.ts";
import { defineOp } from "../op/op.ts";
import { artifact, param } from "../op/signature.ts";
import { Workflow } from "../workflow/workflow.ts";
import { localArtifact } from "./local-artifact.ts";
import { Step } from "./step.ts";
import { Steps } from "./steps.ts";

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-local-art-"));
  await fs.writeFile(path.join(dir, "one.txt"), "ONE");
  await fs.mkdir(path.join(dir, "data"), { recursive: true });
  await fs.writeFile(path.join(dir, "data", "x.csv"), "1,2");
  await fs.writeFile(path.join(dir, "b.txt"), "BEE");
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const readAll = defineOp({
  name: "read-all",
  inputs: { one: artifact(), many: artifact.list(), named: artifact.record() },
  outputs: { text: param(z.string()) },
  async execute({ one, many, named }) {
    const r = (p: string) => fs.readFile(p, "utf8");
    const listed = await Promise.all(many.map(async (p) => ((await fs.stat(p)).isDirectory() ? `dir:${path.basename(p)}` : r(p))));
    return { text: `${await r(one)}|${listed.join(",")}|${Object.keys(named).join("+")}:${await r(named["b"] as string)}` };
  },
});
const T = OPTemplate.fromOp(readAll, { module: "ops.ts" });

describe("localArtifact", () => {
  it("names a key from the files, the same every compile", () => {
    const a = localArtifact(path.join(dir, "one.txt"));
    const b = localArtifact(path.join(dir, "one.txt"));
    expect(a.key).toBe(b.key);
    expect(a.key).toMatch(/^opflow-uploads\/[0-9a-f]{20}\/one\.txt\.tgz$/);
    expect(a.toArgoArtifact()).toEqual({ s3: { key: a.key } });
  });

  it("rejects paths that do not exist and shapes that do not fit", () => {
    expect(() => localArtifact(path.join(dir, "nope"))).toThrow(/does not exist/);
    expect(
      () => new Step("s", T, { artifacts: { one: localArtifact([path.join(dir, "one.txt")]), many: localArtifact([dir]), named: localArtifact({ b: path.join(dir, "b.txt") }) } }),
    ).toThrow(/artifact "one" expects a path artifact, got local files as a list/);
  });

  it("uploads before the run and arrives in the runtime contract's layout", async () => {
    const main = new Steps({ name: "main", outputs: { text: param(z.string()) } });
    const s = main.add(
      new Step("read", T, {
        artifacts: {
          one: localArtifact(path.join(dir, "one.txt")),
          many: localArtifact([path.join(dir, "b.txt"), path.join(dir, "data")]),
          named: localArtifact({ b: path.join(dir, "b.txt"), d: path.join(dir, "data") }),
        },
      }),
    );
    main.setOutputs({ parameters: { text: s.outputs.parameters.text } });
    const wf = new Workflow({ generateName: "local-art-", entrypoint: main });
    expect(wf.prepare().localArtifacts).toHaveLength(3);
    const workdir = path.join(dir, "runs");
    const { status, name } = await wf.run({ workdir });
    const root = Object.values(status.nodes ?? {}).find((n) => n.name === name);
    expect(Object.values(status.nodes ?? {}).filter((n) => n.phase === "Failed").map((n) => n.message)).toEqual([]);
    expect(root?.outputs?.parameters?.[0]?.value).toBe("ONE|BEE,dir:data|b+d:BEE");
  });

  it("passes one item of a list or one entry of named files by subPath (at, entry)", async () => {
    const list = localArtifact([path.join(dir, "one.txt"), path.join(dir, "b.txt")]);
    expect(list.at(-1).toArgoArtifact()).toEqual({ s3: { key: list.key }, subPath: "1/b.txt" });
    expect(list.at(0).shape).toBe("path");
    expect(() => list.at(2)).toThrow(/at\(2\): the list has 2 items/);
    expect(() => list.entry("b")).toThrow(/entry\(\) addresses an entry of named files; this is a list/);
    const named = localArtifact({ b: path.join(dir, "b.txt"), d: path.join(dir, "data") });
    expect(() => named.entry("zz")).toThrow(/no such entry \(entries: b, d\)/);
    const main = new Steps({ name: "main", outputs: { text: param(z.string()) } });
    const s = main.add(new Step("read", T, { artifacts: { one: list.at(-1), many: localArtifact([path.join(dir, "one.txt")]), named: localArtifact({ b: path.join(dir, "one.txt") }) } }));
    main.setOutputs({ parameters: { text: s.outputs.parameters.text } });
    const { status, name } = await new Workflow({ generateName: "local-part-", entrypoint: main }).run({ workdir: path.join(dir, "runs-part") });
    const root = Object.values(status.nodes ?? {}).find((n) => n.name === name);
    expect(root?.outputs?.parameters?.[0]?.value).toBe("BEE|ONE|b:ONE");
  });

  it("uploads a tree of files as a nested artifact, levels marked", async () => {
    const tree = localArtifact({ m: { one: path.join(dir, "one.txt") }, l: [path.join(dir, "data"), path.join(dir, "b.txt")] });
    expect(tree.shape).toBe("nested");
    expect(() => localArtifact({ "a.b": { c: path.join(dir, "b.txt") } })).toThrow(/a record key of a nested artifact is a plain name/);
    const walk = defineOp({
      name: "walk",
      inputs: { t: artifact.nested() },
      outputs: { text: param(z.string()) },
      async execute({ t }) {
        return { text: JSON.stringify(t, (_k, v) => (typeof v === "string" ? path.basename(v) : v)) };
      },
    });
    const main = new Steps({ name: "main", outputs: { text: param(z.string()) } });
    const s = main.add(new Step("walk", OPTemplate.fromOp(walk, { module: "ops.ts" }), { artifacts: { t: tree } }));
    main.setOutputs({ parameters: { text: s.outputs.parameters.text } });
    expect(() => new Step("read", T, { artifacts: { one: tree as never, many: localArtifact([dir]), named: localArtifact({ b: dir }) } })).toThrow(/artifact "one" expects a path artifact, got local files as a nested/);
    const { status, name } = await new Workflow({ generateName: "local-tree-", entrypoint: main }).run({ workdir: path.join(dir, "runs-tree") });
    const root = Object.values(status.nodes ?? {}).find((n) => n.name === name);
    expect(JSON.parse(root?.outputs?.parameters?.[0]?.value ?? "null")).toEqual({ l: ["data", "b.txt"], m: { one: "one.txt" } });
  });
});
