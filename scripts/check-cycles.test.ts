import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { findCycles, importGraph, importSpecifiers } from "./check-cycles.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, "check-cycles.mjs");
const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A folder of .ts files with the given contents. */
function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-cycles-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const cyclesOf = (dir: string): string[][] =>
  (findCycles(importGraph(dir)) as { cycle: string[] }[]).map(({ cycle }) => cycle.map((f) => path.relative(dir, f)));

describe("check-cycles", () => {
  it("finds no import cycle in src/", () => {
    const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("reads static, re-export, side-effect, dynamic and type-only imports, not comments or strings", () => {
    const source = [
      'import { a } from "./a.ts";',
      'import type { B } from "./b.ts";',
      'export * from "./c.ts";',
      'export type { D } from "./d.ts";',
      'import "./e.ts";',
      "import {",
      "  f,",
      '} from "./f.ts";',
      'const g = await import("./g.ts");',
      '// import { h } from "./h.ts";',
      '/* import("./i.ts") */',
      'const text = "import x from \'./j.ts\' // not a comment";',
      'const re = /["\']/;',
      'import { k } from "./k.ts";',
      'import { z } from "zod";',
    ].join("\n");
    expect(importSpecifiers(source)).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts", "./f.ts", "./g.ts", "./k.ts"]);
  });

  it("reports a cycle through a type-only import and a lazy import, naming the files", () => {
    const dir = tree({
      "cli/main.ts": 'export const table = { run: () => import("./commands/run.ts") };',
      "cli/commands/run.ts": 'import type { Table } from "../main.ts";\nexport const x = 1;',
      "ok/a.ts": 'import { b } from "./b.ts";',
      "ok/b.ts": "export const b = 1;",
    });
    expect(cyclesOf(dir)).toEqual([["cli/commands/run.ts", "cli/main.ts", "cli/commands/run.ts"]]);
    const r = spawnSync(process.execPath, [script, dir], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("1 import cycle(s)");
    expect(r.stderr).toContain(`${path.join("cli", "commands", "run.ts")} → `);
  });

  it("reports one shortest cycle per knot of modules, and a module importing itself", () => {
    const dir = tree({
      "a.ts": 'import "./b.ts";',
      "b.ts": 'import "./c.ts";\nimport "./a.ts";',
      "c.ts": 'import "./a.ts";',
      "self.ts": 'export * from "./self.ts";',
    });
    expect(cyclesOf(dir).sort()).toEqual([
      ["a.ts", "b.ts", "a.ts"],
      ["self.ts", "self.ts"],
    ]);
  });
});
