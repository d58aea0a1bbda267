#!/usr/bin/env node
// Fails when a module under src/ imports a layer it must not (docs/architecture.md).
//
// Each file belongs to one layer, by its folder (src/argo/ is two: the manifest model below the
// templates, the compiler and the cluster client above them). A layer may import itself and the
// layers listed for it; tests (*.test.ts) may import anything. Edges are read as the cycle check
// reads them: static, re-export, side-effect, dynamic and type-only imports all count.
//
// Usage: node scripts/check-layers.mjs [dir]   (dir defaults to src/ next to this script)
import path from "node:path";
import { fileURLToPath } from "node:url";
import { importGraph } from "./check-cycles.mjs";

/** The argo/ files that only describe Argo's objects and limits (no compiler, no client). */
const ARGO_MODEL = new Set(["model.ts", "limits.ts", "yaml.ts", "pod-name.ts", "api-errors.ts"]);
/** The argo/ files of the compiler. */
const ARGO_COMPILER = new Set(["compile.ts", "dag-split.ts"]);
/** The argo/ files that check a manifest as Argo does before it runs (and read YAML as Go does). */
const ARGO_VALIDATION = new Set(["validate.ts", "crd-schema.ts", "parse-yaml.ts"]);

/**
 * Which layers each layer may import (besides itself); `"*"`: any.
 * @type {Record<string, readonly string[] | "*">}
 */
export const ALLOWED = {
  base: [],
  expr: ["base"],
  op: ["base", "expr"],
  "argo-model": ["base"],
  template: ["base", "expr", "op", "argo-model"],
  storage: ["base", "argo-model"],
  artifacts: ["base", "storage"],
  steps: ["base", "expr", "op", "argo-model", "template", "storage", "artifacts"],
  dag: ["base", "expr", "op", "argo-model", "template", "steps"],
  "argo-compiler": ["base", "expr", "argo-model", "template"],
  "argo-client": ["base", "argo-model"],
  "argo-validation": ["base", "expr", "argo-model"],
  executors: ["base"],
  debug: ["base", "expr", "argo-model", "argo-client", "argo-validation", "storage", "artifacts", "executors"],
  bundle: ["base", "op", "argo-model", "storage", "artifacts"],
  catalog: ["base", "op"],
  scaffold: ["base"],
  workflow: ["base", "expr", "op", "argo-model", "template", "steps", "dag", "argo-compiler", "argo-client", "argo-validation", "storage", "artifacts", "executors", "debug", "bundle"],
  cli: "*",
  index: "*",
};

/**
 * The layer of a file under `src`, or undefined for a file no rule covers.
 * @param {string} src
 * @param {string} file
 * @returns {string | undefined}
 */
export function layerOf(src, file) {
  const rel = path.relative(src, file).split(path.sep);
  if (rel.length === 1) return rel[0] === "index.ts" ? "index" : "base";
  const [folder, name] = rel;
  if (folder === "argo") {
    if (ARGO_MODEL.has(name ?? "")) return "argo-model";
    if (ARGO_COMPILER.has(name ?? "")) return "argo-compiler";
    return ARGO_VALIDATION.has(name ?? "") ? "argo-validation" : "argo-client";
  }
  return folder !== undefined && folder in ALLOWED ? folder : undefined;
}

/**
 * Every import that breaks the table, and every file in a folder the table does not know.
 * @param {string} src
 * @returns {string[]}
 */
export function layerViolations(src) {
  /** @type {string[]} */
  const problems = [];
  const rel = (/** @type {string} */ f) => path.relative(src, f);
  for (const [file, targets] of importGraph(src)) {
    if (file.endsWith(".test.ts")) continue;
    const from = layerOf(src, file);
    if (from === undefined) {
      problems.push(`${rel(file)}: its folder is no layer of scripts/check-layers.mjs (add it to ALLOWED and docs/architecture.md)`);
      continue;
    }
    const allowed = ALLOWED[from];
    if (allowed === undefined || allowed === "*") continue;
    for (const target of targets) {
      const to = layerOf(src, target);
      if (to === undefined || to === from || allowed.includes(to)) continue;
      problems.push(`${rel(file)} (${from}) imports ${rel(target)} (${to}): ${from} may import ${allowed.length ? allowed.join(", ") : "only itself"}`);
    }
  }
  return problems;
}

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const src = path.resolve(process.argv[2] ?? path.join(here, "..", "src"));
  const problems = layerViolations(src);
  if (problems.length === 0) console.log(`every import in ${path.relative(process.cwd(), src) || "."} follows the layers`);
  else {
    console.error(`${problems.length} import(s) against the layers (docs/architecture.md):`);
    for (const p of problems) console.error(`  ${p}`);
    process.exitCode = 1;
  }
}
