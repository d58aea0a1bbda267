import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ExitCode } from "../contract.ts";
import { defineOp } from "./op.ts";
import { runOp } from "./runner.ts";
import { artifact, param } from "./signature.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-nested-runner-"));
  dirs.push(d);
  return d;
}
async function put(root: string, rel: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await fs.writeFile(path.join(root, rel), text);
}

describe("the OP runner and nested artifacts", () => {
  it("writes levels with markers and the catalog of every leaf", async () => {
    const root = await tmp();
    const op = defineOp({
      name: "w",
      inputs: {},
      outputs: { t: artifact.nested() },
      async execute(_i, { workdir }) {
        await put(workdir, "x.txt", "X");
        await put(workdir, "d/y.txt", "Y");
        return { t: { a: { b: "x.txt" }, l: ["d", "x.txt"], e: [] } };
      },
    });
    expect((await runOp(op, { root, log: () => {} })).exitCode).toBe(ExitCode.Success);
    const out = path.join(root, "outputs/artifacts/t");
    expect(JSON.parse(await fs.readFile(path.join(root, "outputs/parameters/opflow-catalog-t"), "utf8"))).toEqual({ a: { b: "a/b/x.txt" }, l: ["l/0/d", "l/1/x.txt"], e: [] });
    expect(await fs.readFile(path.join(out, ".opflow-level"), "utf8")).toBe("record");
    expect(await fs.readFile(path.join(out, "l/.opflow-level"), "utf8")).toBe("list");
    expect(await fs.readFile(path.join(out, "l/0/d/y.txt"), "utf8")).toBe("Y");
  });

  it("rebuilds an input tree by the markers, or by the declared layout where a script wrote none", async () => {
    const root = await tmp();
    await put(root, "inputs/artifacts/t/.opflow-level", "record");
    await put(root, "inputs/artifacts/t/a/.opflow-level", "list");
    await put(root, "inputs/artifacts/t/a/0/one.txt", "1");
    await put(root, "inputs/artifacts/t/a/1/two.txt", "2");
    await put(root, "inputs/artifacts/s/m/w/weights.bin", "W"); // no markers
    await put(root, "inputs/artifacts/s/runs/0/r.log", "R");
    const op = defineOp({
      name: "r",
      inputs: { t: artifact.nested(), s: artifact.nested({ m: { w: "path" }, runs: ["path"] }) },
      outputs: { seen: param(z.string()) },
      async execute({ t, s }) {
        const rel = (p: string) => path.relative(path.join(root, "inputs/artifacts"), p);
        return { seen: JSON.stringify({ t: JSON.parse(JSON.stringify(t, (_k, v) => (typeof v === "string" ? rel(v) : v))), w: rel(s.m.w), runs: s.runs.map(rel) }) };
      },
    });
    expect((await runOp(op, { root, log: () => {} })).exitCode).toBe(ExitCode.Success);
    expect(JSON.parse(await fs.readFile(path.join(root, "outputs/parameters/seen"), "utf8"))).toEqual({
      t: { a: ["t/a/0/one.txt", "t/a/1/two.txt"] },
      w: "s/m/w/weights.bin",
      runs: ["s/runs/0/r.log"],
    });
  });

  it("fails naming the artifact and the key: a missing declared key, no marker and no layout, a bad output key", async () => {
    const root = await tmp();
    await put(root, "inputs/artifacts/s/m/w/weights.bin", "W");
    const log: string[] = [];
    const need = defineOp({ name: "n", inputs: { s: artifact.nested({ m: { w: "path", cfg: "path" } }) }, outputs: {}, execute: async () => ({}) });
    const r1 = await runOp(need, { root, log: (t) => log.push(t) });
    expect(r1.exitCode).toBe(ExitCode.Validation);
    expect(r1.message).toMatch(/input artifact "s" at "m": key "cfg" is missing/);
    const any = defineOp({ name: "a", inputs: { s: artifact.nested() }, outputs: {}, execute: async () => ({}) });
    expect((await runOp(any, { root, log: (t) => log.push(t) })).message).toMatch(/input artifact "s": .* is not a nested artifact: it has no .opflow-level marker/);
    const bad = defineOp({
      name: "b",
      inputs: {},
      outputs: { t: artifact.nested() },
      async execute(_i, { workdir }) {
        await put(workdir, "x", "X");
        return { t: { "..": "x" } };
      },
    });
    expect((await runOp(bad, { root: await tmp(), log: (t) => log.push(t) })).message).toMatch(/a record key of a nested artifact is a plain name: .*; got "\.\."/);
  });
});
