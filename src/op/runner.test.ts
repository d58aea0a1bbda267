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
    expect(r.message).toMatch(/output artifact path "nowhere.txt" does not exist/);
  });
});
