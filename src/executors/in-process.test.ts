import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalBinding } from "../contract.ts";
import type { PodSpec } from "./executor.ts";
import { BindingExecutor } from "./in-process.ts";

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-binding-"));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const spec = (extra: Partial<PodSpec> = {}): PodSpec => ({
  name: "wf-1",
  template: "t",
  command: [],
  env: {},
  workingDir: dir,
  dir,
  parameters: { x: "1" },
  mounts: [],
  logFile: path.join(dir, "log.txt"),
  signal: new AbortController().signal,
  ...extra,
});

describe("BindingExecutor", () => {
  it("calls the binding with the step's folder and parameters and reports its end and progress", async () => {
    const seen: string[] = [];
    const binding: LocalBinding = async (task) => {
      task.progress(1, 2);
      return { exitCode: task.root === dir && task.parameters["x"] === "1" ? 0 : 9, result: "r" };
    };
    const end = await new BindingExecutor(binding).run(spec({ onProgress: (p) => seen.push(p) }));
    expect(end).toEqual({ exitCode: 0, stdout: "r", timedOut: false, aborted: false });
    expect(seen).toEqual(["1/2"]);
  });

  it("reports a thrown error as exit code 1 with its message, the stack in the log", async () => {
    const end = await new BindingExecutor(async () => {
      throw new Error("boom");
    }).run(spec());
    expect(end).toMatchObject({ exitCode: 1, message: "boom", timedOut: false, aborted: false });
    expect(await fs.readFile(path.join(dir, "log.txt"), "utf8")).toContain("Error: boom");
  });

  it("ends a binding that ignores its signal at the deadline, and on abort", async () => {
    const never: LocalBinding = () => new Promise(() => undefined);
    expect(await new BindingExecutor(never).run(spec({ timeoutMs: 20 }))).toMatchObject({ exitCode: 137, timedOut: true });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 20);
    expect(await new BindingExecutor(never).run(spec({ signal: stop.signal }))).toMatchObject({ exitCode: 143, aborted: true });
  });

  it("restores the engine's working directory a binding changed, and says so in the log", async () => {
    const cwd = process.cwd();
    const end = await new BindingExecutor(async () => {
      process.chdir(os.tmpdir());
      return { exitCode: 0 };
    }).run(spec());
    expect(end.exitCode).toBe(0);
    expect(process.cwd()).toBe(cwd);
    expect(await fs.readFile(path.join(dir, "log.txt"), "utf8")).toContain("changed the working directory of the engine");
  });
});
