import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ExitCode } from "../contract.ts";
import { FatalError, TransientError } from "../errors.ts";
import { defineOp } from "./op.ts";
import { decodeParameter, encodeParameter } from "./parameter-codec.ts";
import { runOp } from "./runner.ts";
import { artifact, bigParameter, param } from "./signature.ts";

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-runner-"));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const read = (p: string): Promise<string> => fs.readFile(path.join(root, p), "utf8");

describe("parameter codec", () => {
  it("passes strings as they are and other values as JSON", () => {
    expect(encodeParameter("a b")).toBe("a b");
    expect(encodeParameter(3)).toBe("3");
    expect(encodeParameter({ a: [1] })).toBe('{"a":[1]}');
    expect(decodeParameter(z.string(), "123")).toBe("123");
    expect(decodeParameter(z.number(), "123")).toBe(123);
    expect(decodeParameter(z.array(z.number()), "[1,2]")).toEqual([1, 2]);
    expect(decodeParameter(z.string().optional(), "null")).toBeUndefined();
    // the aggregated outputs of a fan-out: a JSON list of each child's string
    expect(decodeParameter(z.array(z.number()), '["1","4"]')).toEqual([1, 4]);
    expect(decodeParameter(z.array(z.object({ a: z.number() })), '["{\\"a\\":1}"]')).toEqual([{ a: 1 }]);
    expect(decodeParameter(z.array(z.string()), '["1","4"]')).toEqual(["1", "4"]);
  });
});

describe("runOp: the runtime contract", () => {
  const op = defineOp({
    name: "contract",
    inputs: {
      n: param(z.number().int()),
      word: param(z.string()),
      list: param(z.array(z.string()), { default: ["d"] }),
      big: bigParameter(z.object({ k: z.number() })),
      one: artifact(),
      many: artifact.list(),
      named: artifact.record(),
    },
    outputs: { doubled: param(z.number()), echo: param(z.string()), big: bigParameter(z.array(z.number())), out: artifact(), outs: artifact.list(), keyed: artifact.record() },
    async execute(input, ctx) {
      ctx.progress(1, 2);
      const one = await fs.readFile(input.one, "utf8");
      const many = await Promise.all(input.many.map((p) => fs.readFile(p, "utf8")));
      const named = await fs.readFile(input.named["x"] as string, "utf8");
      await fs.writeFile(path.join(ctx.workdir, "o.txt"), `${one}|${many.join(",")}|${named}`);
      await fs.mkdir(path.join(ctx.workdir, "d"), { recursive: true });
      await fs.writeFile(path.join(ctx.workdir, "d", "f"), "in dir");
      ctx.progress(2, 2);
      return {
        doubled: input.n * 2,
        echo: `${input.word}:${input.list.join("")}:${input.big.k}`,
        big: [input.big.k],
        out: "o.txt",
        outs: ["o.txt", path.join(ctx.workdir, "d")],
        keyed: { first: "o.txt" },
      };
    },
  });

  it("reads inputs from files and the environment and writes outputs where Argo reads them", async () => {
    await fs.mkdir(path.join(root, "inputs/parameters"), { recursive: true });
    await fs.writeFile(path.join(root, "inputs/parameters/n"), "21");
    await fs.mkdir(path.join(root, "inputs/artifacts/many/0"), { recursive: true });
    await fs.mkdir(path.join(root, "inputs/artifacts/many/1"), { recursive: true });
    await fs.mkdir(path.join(root, "inputs/artifacts/named/x"), { recursive: true });
    await fs.writeFile(path.join(root, "inputs/artifacts/one"), "ONE");
    await fs.writeFile(path.join(root, "inputs/artifacts/many/0/a.txt"), "A");
    await fs.writeFile(path.join(root, "inputs/artifacts/many/1/b.txt"), "B");
    await fs.writeFile(path.join(root, "inputs/artifacts/named/x/x.txt"), "X");
    await fs.writeFile(path.join(root, "inputs/artifacts/big"), '{"k":7}');
    const progress: string[] = [];
    const result = await runOp(op, { root, env: { word: "hi" }, progress: (d, t) => progress.push(`${d}/${t}`), log: () => {} });
    expect(result).toEqual({ exitCode: ExitCode.Success });
    expect(await read("outputs/parameters/doubled")).toBe("42");
    expect(await read("outputs/parameters/echo")).toBe("hi:d:7");
    expect(await read("outputs/artifacts/big")).toBe("[7]");
    expect(await read("outputs/artifacts/out")).toBe("ONE|A,B|X");
    expect(await read("outputs/artifacts/outs/0/o.txt")).toBe("ONE|A,B|X");
    expect(await read("outputs/artifacts/outs/1/d/f")).toBe("in dir");
    expect(await read("outputs/artifacts/keyed/first/o.txt")).toBe("ONE|A,B|X");
    expect(await read("inputs/parameters/word")).toBe("hi");
    expect(progress).toEqual(["1/2", "2/2"]);
  });

  it("maps failures to the contract's exit codes with a message", async () => {
    const failing = (error: unknown) =>
      defineOp({ name: "fails", inputs: {}, outputs: {}, async execute() { throw error; } });
    const logs: string[] = [];
    const log = (t: string) => logs.push(t);
    expect((await runOp(failing(new TransientError("busy")), { root, log })).exitCode).toBe(ExitCode.Transient);
    expect((await runOp(failing(new FatalError("bad input file")), { root, log })).exitCode).toBe(ExitCode.Fatal);
    const plain = await runOp(failing(new Error("boom")), { root, log });
    expect(plain).toEqual({ exitCode: ExitCode.Failure, message: "Error: boom" });
    expect(logs.join("")).toContain("TransientError: busy");
  });

  it("fails with a validation exit code when an input is missing or wrong", async () => {
    const r = await runOp(op, { root, env: {}, log: () => {} });
    expect(r.exitCode).toBe(ExitCode.Validation);
    expect(r.message).toMatch(/OP "contract" input: parameter "n" is required but missing/);
    await fs.mkdir(path.join(root, "inputs/parameters"), { recursive: true });
    await fs.writeFile(path.join(root, "inputs/parameters/n"), "2.5");
    const r2 = await runOp(op, { root, env: { word: "w" }, log: () => {} });
    expect(r2.message).toMatch(/parameter "n" expects int, got 2.5 \(number\)/);
  });

  it("reports an output path that does not exist", async () => {
    const bad = defineOp({ name: "bad-out", inputs: {}, outputs: { a: artifact() }, async execute() { return { a: "nowhere.txt" }; } });
    const r = await runOp(bad, { root, log: () => {} });
    expect(r.exitCode).toBe(ExitCode.Validation);
    expect(r.message).toMatch(/OP "bad-out": output artifact "a": path "nowhere.txt" does not exist \(relative paths resolve against the step's workdir, .*workdir\)/);
  });

  it("names the cause when an OP in the engine's process wrote a relative path into the process's working directory", async () => {
    const cwd = process.cwd();
    const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-cwd-"));
    const stray = defineOp({
      name: "stray",
      inputs: {},
      outputs: { a: artifact.list() },
      async execute() {
        await fs.writeFile("part-0.txt", "x"); // relative: the process's working directory, not ctx.workdir
        return { a: ["part-0.txt"] };
      },
    });
    process.chdir(elsewhere);
    try {
      const r = await runOp(stray, { root, log: () => {} });
      expect(r.exitCode).toBe(ExitCode.Validation);
      expect(r.message).toMatch(/OP "stray": output artifact "a": item 0 "part-0.txt" is not in the step's workdir \(.*\) but in .*opflow-cwd-.*, the working directory of the process/);
      expect(r.message).toMatch(/Write under ctx.workdir \(path.join\(ctx.workdir, "part-0.txt"\)\)/);
    } finally {
      process.chdir(cwd);
      await fs.rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("resolves relative paths against the workdir when that is the process's working directory (opflow execute, containers)", async () => {
    const cwd = process.cwd();
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-cwd-"));
    const rel = defineOp({
      name: "rel",
      inputs: {},
      outputs: { a: artifact() },
      async execute() {
        await fs.writeFile("out.txt", "here");
        return { a: "out.txt" };
      },
    });
    process.chdir(workdir);
    try {
      const r = await runOp(rel, { root, workdir: process.cwd(), log: () => {} });
      expect(r.exitCode).toBe(ExitCode.Success);
      expect(await read("outputs/artifacts/a")).toBe("here");
    } finally {
      process.chdir(cwd);
      await fs.rm(workdir, { recursive: true, force: true });
    }
  });
});

describe("runOp: setOutput (dflow's set_output)", () => {
  const partial = (fail: boolean) =>
    defineOp({
      name: "partial",
      inputs: {},
      outputs: { best: param(z.number().optional()), rounds: param(z.number()), trace: artifact({ optional: true }) },
      async execute(_input, ctx) {
        await fs.writeFile(path.join(ctx.workdir, "trace.txt"), "r1 r2");
        ctx.setOutput("best", 0.5);
        ctx.setOutput("trace", "trace.txt");
        ctx.setOutput("best", 0.25); // the last value set wins
        if (fail) throw new FatalError("diverged at round 3");
        return { rounds: 3 };
      },
    });

  it("keeps the outputs set before execute threw; the ones not set are absent", async () => {
    const r = await runOp(partial(true), { root, log: () => {} });
    expect(r).toEqual({ exitCode: ExitCode.Fatal, message: "FatalError: diverged at round 3" });
    expect(await read("outputs/parameters/best")).toBe("0.25");
    expect(await read("outputs/artifacts/trace")).toBe("r1 r2");
    await expect(read("outputs/parameters/rounds")).rejects.toThrow(/ENOENT/);
  });

  it("fills in on success what execute set and did not return (the returned values win)", async () => {
    expect(await runOp(partial(false), { root, log: () => {} })).toEqual({ exitCode: ExitCode.Success });
    expect(await read("outputs/parameters/best")).toBe("0.25");
    expect(await read("outputs/parameters/rounds")).toBe("3");
    const both = defineOp({ name: "both", inputs: {}, outputs: { x: param(z.number()) }, async execute(_i, ctx) { ctx.setOutput("x", 1); return { x: 2 }; } });
    await runOp(both, { root, log: () => {} });
    expect(await read("outputs/parameters/x")).toBe("2");
  });

  it("refuses an undeclared output or a value its schema refuses, at the call", async () => {
    const undeclared = defineOp({
      name: "undeclared",
      inputs: {},
      outputs: { x: param(z.number()) },
      async execute(_i, ctx) {
        // @ts-expect-error not an output of this OP
        ctx.setOutput("y", 1);
        return { x: 1 };
      },
    });
    const r1 = await runOp(undeclared, { root, log: () => {} });
    expect(r1.exitCode).toBe(ExitCode.Validation);
    expect(r1.message).toMatch(/OP "undeclared" setOutput: unknown output "y"; declared: x/);
    const wrong = defineOp({
      name: "wrong",
      inputs: {},
      outputs: { x: param(z.number()) },
      async execute(_i, ctx) {
        // @ts-expect-error x is a number
        ctx.setOutput("x", "many");
        return { x: 1 };
      },
    });
    const r2 = await runOp(wrong, { root, log: () => {} });
    expect(r2.exitCode).toBe(ExitCode.Validation);
    expect(r2.message).toMatch(/OP "wrong" setOutput: parameter "x" expects number, got "many"/);
  });

  it("logs an artifact set before the failure whose path is gone, and keeps the rest", async () => {
    const gone = defineOp({
      name: "gone",
      inputs: {},
      outputs: { a: artifact(), n: param(z.number()) },
      async execute(_i, ctx) {
        ctx.setOutput("a", "vanished.txt");
        ctx.setOutput("n", 7);
        throw new Error("crash");
      },
    });
    const logs: string[] = [];
    const r = await runOp(gone, { root, log: (t) => logs.push(t) });
    expect(r.exitCode).toBe(ExitCode.Failure);
    expect(await read("outputs/parameters/n")).toBe("7");
    expect(logs.join("")).toMatch(/output "a" set before the failure could not be kept: ValidationError: OP "[^"]+": output artifact "a": path "vanished.txt" does not exist/);
  });
});
