import path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { loadWorkflow } from "../cli/load.ts";
import { toYaml } from "./yaml.ts";
import { EXAMPLES_DIR, exampleFiles } from "../../test/example-files.ts";

const tricky = [
  "",
  "true",
  "False",
  "null",
  "~",
  "yes",
  "n",
  "3",
  "-1.5e3",
  "0x1F",
  "1_000",
  ".inf",
  "a: b",
  "a #b",
  "- x",
  "{{inputs.parameters.x}}",
  "{{=a ? b : c}}",
  "@x",
  "`x`",
  "'quoted'",
  '"dq"',
  " leading",
  "trailing ",
  "tab\there",
  "multi\nline\n",
  "multi\nline no end",
  "blank\n\nlines\n\n",
  "\nstarts with newline",
  "  indented\n  block\n",
  "unicode é ✓ \u2028 sep",
  "ctrl \u0001 char",
  "crlf\r\nline",
  "#comment",
  "%percent",
  "!tag",
  "&anchor",
  "*alias",
  "key:",
  "?q",
  "|pipe",
  ">fold",
  "node:20-slim",
  "a/b.c-d_e",
];

describe("toYaml", () => {
  it("reads back every tricky string exactly", () => {
    const value = { list: tricky, map: Object.fromEntries(tricky.map((s, i) => [s || `k${i}`, s])) };
    expect(YAML.parse(toYaml(value))).toEqual(value);
  });

  it("writes numbers, booleans, null, empty collections and nesting", () => {
    const value = { a: 1, b: 2.5, c: true, d: null, e: [], f: {}, g: [[1, 2], [{ x: [] }]], h: [{ i: { j: [{ k: "v" }] } }] };
    expect(YAML.parse(toYaml(value))).toEqual(value);
    expect(toYaml({ a: { b: [1, "x"] } })).toBe("a:\n  b:\n    - 1\n    - x\n");
  });

  it("writes scripts as literal blocks", () => {
    expect(toYaml({ source: "echo hi\necho there\n" })).toBe("source: |\n  echo hi\n  echo there\n");
  });

  it("round-trips every example's manifest", async () => {
    for (const f of exampleFiles()) {
      const { manifest } = await loadWorkflow(path.join(EXAMPLES_DIR, f));
      expect(YAML.parse(toYaml(manifest))).toEqual(JSON.parse(JSON.stringify(manifest)));
    }
  });
});
