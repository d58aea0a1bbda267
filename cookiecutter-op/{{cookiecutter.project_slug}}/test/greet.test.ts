import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOp } from "@opflow/core";
import { greet } from "../src/ops/greet.ts";
import workflow from "../src/workflow.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "greet-test-"));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("greet", () => {
  it("runs through the OP runner against the runtime contract", async () => {
    // what a container gets: inputs as files under a root folder, outputs written next to them
    const root = path.join(tmp, "op");
    const result = await runOp(greet, { root, parameters: { name: "Ada", times: "2" }, log: () => {} });
    expect(result.exitCode).toBe(0);
    expect(await fs.readFile(path.join(root, "outputs/parameters/greeting"), "utf8")).toBe("Hello, Ada! Hello, Ada!");
    expect(await fs.readFile(path.join(root, "outputs/artifacts/card"), "utf8")).toBe("Hello, Ada! Hello, Ada!\n");
  });

  it("refuses an input its schema rejects, naming the field", async () => {
    const root = path.join(tmp, "bad");
    const result = await runOp(greet, { root, parameters: { name: "Ada", style: "whisper" }, log: () => {} });
    expect(result.exitCode).not.toBe(0);
    expect(result.message).toMatch(/style/);
  });
});

describe("the workflow", () => {
  it("runs on the local engine and passes one step's output to the next", async () => {
    const result = await workflow.run({ workdir: path.join(tmp, "runs"), warn: () => {} });
    expect(result.status.phase).toBe("Succeeded");
    const shout = Object.values(result.status.nodes ?? {}).find((n) => n.displayName === "shout");
    const greeting = shout?.outputs?.parameters?.find((p) => p.name === "greeting")?.value;
    expect(greeting).toBe("HELLO, HELLO, WORLD! HELLO, WORLD!!");
  });
});
