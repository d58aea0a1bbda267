import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { layerOf, layerViolations } from "./check-layers.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, "check-layers.mjs");
const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A src/ folder of .ts files with the given contents. */
function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-layers-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("check-layers", () => {
  it("finds every import of src/ within its layer's table", () => {
    const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("puts argo's model, compiler and client in three layers", () => {
    expect(layerOf("/s", "/s/argo/model.ts")).toBe("argo-model");
    expect(layerOf("/s", "/s/argo/compile.ts")).toBe("argo-compiler");
    expect(layerOf("/s", "/s/argo/kube-client.ts")).toBe("argo-client");
    expect(layerOf("/s", "/s/errors.ts")).toBe("base");
    expect(layerOf("/s", "/s/index.ts")).toBe("index");
  });

  it("reports an OP module that imports the engine, naming both files and the rule", () => {
    const src = tree({
      "op/op.ts": 'import { run } from "../debug/run.ts";\nimport type { X } from "../expr/tree.ts";\n',
      "debug/run.ts": "export const run = 1;\n",
      "expr/tree.ts": "export type X = 1;\n",
    });
    expect(layerViolations(src)).toEqual(["op/op.ts (op) imports debug/run.ts (debug): op may import base, expr"]);
  });

  it("counts type-only imports, lets tests import anything, and names a folder it does not know", () => {
    const src = tree({
      "expr/tree.ts": 'import type { T } from "../template/template.ts";\n',
      "expr/tree.test.ts": 'import { run } from "../debug/run.ts";\n',
      "template/template.ts": "export type T = 1;\n",
      "debug/run.ts": "export const run = 1;\n",
      "misc/x.ts": "export const x = 1;\n",
    });
    expect(layerViolations(src)).toEqual([
      "expr/tree.ts (expr) imports template/template.ts (template): expr may import base",
      "misc/x.ts: its folder is no layer of scripts/check-layers.mjs (add it to ALLOWED and docs/architecture.md)",
    ]);
  });

  it("exits 1 and lists the problems on stderr", () => {
    const src = tree({ "executors/x.ts": 'import "../debug/y.ts";\n', "debug/y.ts": "export {};\n" });
    const r = spawnSync(process.execPath, [script, src], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("executors/x.ts (executors) imports debug/y.ts (debug)");
  });
});
