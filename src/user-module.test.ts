import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-user-module-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(file: string, text: string): string {
  const abs = path.join(dir, file);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text);
  return abs;
}

/** Imports `file` with importUserModule in a plain Node process (vitest would load it its own way). */
function importInNode(file: string): { ok: boolean; out: string } {
  const driver = write(
    "driver.mts",
    `import { importUserModule } from ${JSON.stringify(path.join(repo, "src/user-module.ts"))};
try {
  const mod = await importUserModule(process.argv[2]);
  console.log(JSON.stringify(mod));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}`,
  );
  const r = spawnSync(process.execPath, [path.join(repo, "bin/run-ts.mjs"), driver, file], { encoding: "utf8", timeout: 60_000 });
  return { ok: r.status === 0, out: r.stdout.trim().split("\n").pop() ?? "" };
}

describe("importUserModule", () => {
  write("cjs/package.json", JSON.stringify({ name: "cjs", type: "commonjs" }));
  write("esm/package.json", JSON.stringify({ name: "esm", type: "module" }));

  it("loads a TypeScript module of a CommonJS package (npm init's default) as CommonJS", () => {
    const file = write("cjs/workflow.ts", `import path from "node:path";\nexport const x: number = 1;\nexport default { base: path.basename("/a/b") };\n`);
    const r = importInNode(file);
    expect(r.ok).toBe(true);
    expect(JSON.parse(r.out)).toMatchObject({ x: 1, default: { base: "b" } });
  });

  it("loads a TypeScript module of an ES module package as an ES module", () => {
    const file = write("esm/workflow.ts", `export const url: string = import.meta.url;\nexport default 2;\n`);
    const r = importInNode(file);
    expect(JSON.parse(r.out)).toMatchObject({ default: 2, url: `file://${file}` });
  });

  it("says what to change for a .js module written with import in a CommonJS package", () => {
    const file = write("cjs/workflow.js", `import path from "node:path";\nexport default path.sep;\n`);
    const r = importInNode(file);
    const result = JSON.parse(r.out) as { error?: string; message?: string };
    expect(result.error).toBe("OpflowError");
    expect(result.message).toContain(`${file}: cannot load it as an ES module: its package (${path.join(dir, "cjs/package.json")}) is CommonJS`);
    expect(result.message).toContain('Add "type": "module"');
  });
});
