import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CatalogError } from "../errors.ts";
import { readOps } from "./read-ops.ts";
import { OPS_TABLE_END, OPS_TABLE_START, opsMarkdown, opsText, replaceOpsTable } from "./render-ops.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Writes a package of files into a fresh temporary directory. */
function pkg(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-ops-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const scoreSource = `
import { z } from "zod";
import { artifact, bigParameter, defineOp, param } from "@opflow/core";

const Point = z.object({ x: z.number(), y: z.number().optional() });
const common = { seed: param(z.number().int().default(7).describe("random seed")) };

/** Scores molecules (doc comment, not used: the description option wins). */
export const score = defineOp({
  name: "score",
  description: "Scores molecules against a target.",
  inputs: {
    mode: param(z.enum(["fast", "exact"]), { default: "fast", description: "how hard to try" }),
    tags: param(z.array(z.string()).optional()),
    point: param(Point),
    weights: bigParameter(z.array(z.number())),
    "max-steps": param(z.number().int().positive()),
    ...common,
    files: artifact.list({ optional: true, description: "structures" }),
  },
  outputs: { best: param(z.number().nullable()), report: artifact(), byName: artifact.record(), tree: artifact.nested({ a: ["path"] }, { optional: true }) },
  async execute() {
    return { best: 1, report: "r", byName: {} };
  },
});
`;

const classSource = `
import { z } from "zod";
import { OP, type OPInput, param } from "@opflow/core";

/** Repeats a message. */
export class Duplicate extends OP<typeof Duplicate.inputs, typeof Duplicate.outputs> {
  static readonly inputs = { msg: param(z.string()), times: param(z.number().int().min(1), { default: 2 }) };
  static readonly outputs = { msg: param(z.string()) };
  async execute({ msg, times }: OPInput<typeof Duplicate.inputs>) {
    return { msg: msg.repeat(times) };
  }
}

abstract class Base<I, O> extends OP<any, any> {}

export class Shout extends Base<unknown, unknown> {
  static readonly opName = "shout-it";
  static readonly description = "Shouts.";
  static readonly inputs = { text: param(z.string().describe("what to shout")) };
  static readonly outputs = {};
  async execute() {
    return {};
  }
}

/** Not an OP. */
export class Helper {}
export const notAnOp = { name: "x" };
`;

describe("readOps on TypeScript sources", () => {
  const dir = pkg({
    "package.json": JSON.stringify({ name: "@me/ops", type: "module", exports: "./src/index.ts" }),
    "src/index.ts": `export * from "./ops/score.ts";\nexport { Duplicate, Shout as Loud } from "./ops/dup.js";\n`,
    "src/ops/score.ts": scoreSource,
    "src/ops/dup.ts": classSource,
  });

  it("lists both forms of OP through the package's entry and its re-exports, and nothing else", () => {
    const ops = readOps(dir, { cwd: dir });
    expect(ops.map((o) => [o.name, o.export, o.form, o.from])).toEqual([
      ["duplicate", "Duplicate", "class", "source"],
      ["score", "score", "defineOp", "source"],
      ["shout-it", "Loud", "class", "source"],
    ]);
    const score = ops.find((o) => o.name === "score");
    expect(score?.file).toBe(path.join("src", "ops", "score.ts"));
    expect(score?.line).toBe(9);
    expect(score?.description).toBe("Scores molecules against a target.");
  });

  it("reads types, optional, defaults and descriptions from the zod schemas and options", () => {
    const score = readOps(dir, { cwd: dir }).find((o) => o.name === "score");
    expect(score?.inputs).toEqual([
      { name: "mode", kind: "parameter", type: '"fast" | "exact"', optional: true, default: '"fast"', description: "how hard to try" },
      { name: "tags", kind: "parameter", type: "string[]", optional: true },
      { name: "point", kind: "parameter", type: "{ x: number; y?: number }", optional: false },
      { name: "weights", kind: "parameter", type: "number[]", optional: false, big: true },
      { name: "max-steps", kind: "parameter", type: "number", optional: false },
      { name: "seed", kind: "parameter", type: "number", optional: true, default: "7", description: "random seed" },
      { name: "files", kind: "artifact", type: "path[]", optional: true, description: "structures" },
    ]);
    expect(score?.outputs).toEqual([
      { name: "best", kind: "parameter", type: "number | null", optional: false },
      { name: "report", kind: "artifact", type: "path", optional: false },
      { name: "byName", kind: "artifact", type: "Record<string, path>", optional: false },
      { name: "tree", kind: "artifact", type: "nested", optional: true },
    ]);
  });

  it("names a class OP after opName, else its class in kebab-case; descriptions from statics or the doc comment", () => {
    const ops = readOps(path.join(dir, "src/ops/dup.ts"), { cwd: dir });
    const dup = ops.find((o) => o.export === "Duplicate");
    expect(dup).toMatchObject({ name: "duplicate", description: "Repeats a message.", line: 6 });
    expect(dup?.inputs).toEqual([
      { name: "msg", kind: "parameter", type: "string", optional: false },
      { name: "times", kind: "parameter", type: "number", optional: true, default: "2" },
    ]);
    const shout = ops.find((o) => o.export === "Shout");
    expect(shout).toMatchObject({ name: "shout-it", description: "Shouts.", outputs: [] });
    expect(shout?.inputs).toEqual([{ name: "text", kind: "parameter", type: "string", optional: false, description: "what to shout" }]);
  });

  it("prints a Markdown table and a text listing, and updates a README between its markers", () => {
    const ops = readOps(dir, { cwd: dir });
    const table = opsMarkdown(ops);
    expect(table.split("\n")[0]).toBe("| OP | description | inputs | outputs |");
    expect(table).toContain("| `score` | Scores molecules against a target. | `mode`: \"fast\" \\| \"exact\" = `\"fast\"` — how hard to try<br>");
    expect(opsText(ops)).toContain("score  (defineOp, export score; src/ops/score.ts:9)");
    const readme = `# ops\n\n${OPS_TABLE_START}\nold\n${OPS_TABLE_END}\n\nmore\n`;
    const updated = replaceOpsTable(readme, table, "README.md");
    expect(updated).toBe(`# ops\n\n${OPS_TABLE_START}\n${table}${OPS_TABLE_END}\n\nmore\n`);
    expect(replaceOpsTable(updated, table, "README.md")).toBe(updated);
    expect(() => replaceOpsTable("# no markers\n", table, "README.md")).toThrow(/README.md: has no OP table to update/);
  });
});

describe("readOps on declarations", () => {
  // what tsc emits for a defineOp and a class OP (`declaration: true`)
  const dts = `import { z } from "zod";
import { OP, type OPInput } from "@opflow/core";
/** Scores molecules. */
export declare const score: import("@opflow/core").OPDefinition<{
    mode: import("@opflow/core").ParamSpec<z.ZodEnum<{
        exact: "exact";
        fast: "fast";
    }>, true>;
    tags: import("@opflow/core").ParamSpec<z.ZodOptional<z.ZodArray<z.ZodString>>, true>;
    point: import("@opflow/core").ParamSpec<z.ZodObject<{
        x: z.ZodNumber;
        y: z.ZodOptional<z.ZodNumber>;
    }, z.core.$strip>, false>;
    files: import("@opflow/core").ArtifactSpec<"list", true>;
}, {
    best: import("@opflow/core").ParamSpec<z.ZodNullable<z.ZodNumber>, false>;
    report: import("@opflow/core").ArtifactSpec<"path", false>;
}>;
export declare class Duplicate extends OP<typeof Duplicate.inputs, typeof Duplicate.outputs> {
    static readonly opName = "dup";
    static readonly description = "Repeats a message.";
    static readonly inputs: {
        msg: import("@opflow/core").ParamSpec<z.ZodString, false>;
        times: import("@opflow/core").ParamSpec<z.ZodNumber, true>;
    };
    static readonly outputs: {
        msg: import("@opflow/core").ParamSpec<z.ZodString, false>;
    };
    execute({ msg, times }: OPInput<typeof Duplicate.inputs>): Promise<{
        msg: string;
    }>;
}
`;
  const root = pkg({
    "node_modules/@me/chem-ops/package.json": JSON.stringify({
      name: "@me/chem-ops",
      type: "module",
      exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
    }),
    "node_modules/@me/chem-ops/dist/index.d.ts": `export * from "./ops.js";\n`,
    "node_modules/@me/chem-ops/dist/ops.d.ts": dts,
  });

  it("reads an installed package by name from its .d.ts, with types and optionality", () => {
    const ops = readOps("@me/chem-ops", { cwd: root });
    expect(ops.map((o) => [o.name, o.form, o.from])).toEqual([
      ["dup", "class", "declarations"],
      ["score", "defineOp", "declarations"],
    ]);
    const score = ops.find((o) => o.name === "score");
    expect(score?.description).toBe("Scores molecules.");
    expect(score?.file).toBe(path.join("node_modules", "@me", "chem-ops", "dist", "ops.d.ts"));
    expect(score?.inputs).toEqual([
      { name: "mode", kind: "parameter", type: '"exact" | "fast"', optional: true },
      { name: "tags", kind: "parameter", type: "string[]", optional: true },
      { name: "point", kind: "parameter", type: "{ x: number; y?: number }", optional: false },
      { name: "files", kind: "artifact", type: "path[]", optional: true },
    ]);
    expect(score?.outputs).toEqual([
      { name: "best", kind: "parameter", type: "number | null", optional: false },
      { name: "report", kind: "artifact", type: "path", optional: false },
    ]);
    const dup = ops.find((o) => o.name === "dup");
    expect(dup?.description).toBe("Repeats a message.");
    expect(dup?.inputs.map((i) => [i.name, i.type, i.optional])).toEqual([
      ["msg", "string", false],
      ["times", "number", true],
    ]);
  });
});

describe("readOps refuses what it cannot read", () => {
  it("names the file and line of a syntax error, also in a re-exported file", () => {
    const dir = pkg({
      "package.json": JSON.stringify({ name: "broken", type: "module", main: "./index.ts" }),
      "index.ts": `export * from "./ops.ts";\n`,
      "ops.ts": `import { defineOp } from "@opflow/core";\n\nexport const a = defineOp({\n  name: "a",\n  inputs: { x: param(z.string() },\n});\n`,
    });
    expect(() => readOps(dir, { cwd: dir })).toThrow(CatalogError);
    expect(() => readOps(dir, { cwd: dir })).toThrow(/^ops\.ts:5:33: does not parse: ',' expected/);
  });

  it("says what is missing for an unknown target, a directory without an entry, or a JavaScript file", () => {
    const dir = pkg({ "notes.txt": "x", "app.js": "export {}" });
    expect(() => readOps("nope-not-installed", { cwd: dir })).toThrow(/nope-not-installed: no such file, directory or installed package/);
    expect(() => readOps("./missing", { cwd: dir })).toThrow(/\.\/missing: no such file or directory/);
    expect(() => readOps(".", { cwd: dir })).toThrow(/found no entry to read/);
    expect(() => readOps("app.js", { cwd: dir })).toThrow(/reads TypeScript sources \(\.ts\) or declarations \(\.d\.ts\), not \.js/);
  });
});
