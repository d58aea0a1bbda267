import { afterEach, describe, expect, it, vi } from "vitest";
import { OpflowError } from "../errors.ts";
import { UsageError, parseCommandArgs, runCommand, stringArg, stringArgs } from "./args.ts";

const OPTIONS = {
  name: { type: "string" },
  parameter: { type: "string", short: "p", multiple: true },
  json: { type: "boolean" },
} as const;

describe("parseCommandArgs", () => {
  it("reads long and short options, repeated options, --flag=value and positionals", () => {
    const { values, positionals } = parseCommandArgs(["wf.ts", "--name=x", "-p", "a=1", "--parameter", "b=2", "--json"], OPTIONS);
    expect(positionals).toEqual(["wf.ts"]);
    expect(stringArg(values, "name")).toBe("x");
    expect(stringArgs(values, "parameter")).toEqual(["a=1", "b=2"]);
    expect(values["json"]).toBe(true);
    expect(stringArg(values, "json")).toBeUndefined();
    expect(stringArgs(values, "missing")).toEqual([]);
  });

  it("turns an unknown option, a missing value and a value given to a flag into a UsageError", () => {
    const thrown = (argv: string[]): unknown => {
      try {
        parseCommandArgs(argv, OPTIONS);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const unknown = thrown(["--nope"]);
    expect(unknown).toBeInstanceOf(UsageError);
    expect(unknown).toBeInstanceOf(OpflowError);
    expect((unknown as Error).message).toBe("unknown option --nope");
    expect((thrown(["--name"]) as Error).message).toMatch(/'--name <value>' argument missing/);
    expect(thrown(["--json=yes"])).toBeInstanceOf(UsageError);
  });
});

describe("runCommand", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const capture = (): (() => string) => {
    let text = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      text += String(chunk);
      return true;
    });
    return () => text;
  };

  it("returns the body's exit code", async () => {
    expect(await runCommand("x", "usage: opflow x", async () => 3)).toBe(3);
  });

  it("prints a usage error with the usage and exits 2", async () => {
    const stderr = capture();
    const code = await runCommand("x", "usage: opflow x FILE", async () => {
      throw new UsageError("expects one FILE");
    });
    expect(code).toBe(2);
    expect(stderr()).toBe("opflow x: expects one FILE\n\nusage: opflow x FILE\n");
  });

  it("prints any other error's message, without a stack, and exits 1", async () => {
    const stderr = capture();
    const code = await runCommand("x", "usage: opflow x", async () => {
      throw new Error("cannot reach the cluster");
    });
    expect(code).toBe(1);
    expect(stderr()).toBe("opflow x: cannot reach the cluster\n");
  });
});
