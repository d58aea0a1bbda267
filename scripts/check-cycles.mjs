#!/usr/bin/env node
// Fails when the modules under src/ import each other in a cycle.
//
// Every edge counts: static imports, `export … from`, side-effect imports, dynamic `import("…")`
// with a literal specifier, and type-only imports (`import type`, `export type … from`). A cycle
// through types or a lazy import still ties two modules to each other, so neither can be read,
// moved or tested alone; DESIGN.md asks for arrows that go one way only.
//
// Usage: node scripts/check-cycles.mjs [dir]   (dir defaults to src/ next to this script)
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Every .ts file under `dir`, recursively, sorted.
 * @param {string} dir
 * @returns {string[]}
 */
function tsFiles(dir) {
  /** @type {string[]} */
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...tsFiles(full));
    else if (entry.endsWith(".ts") && !entry.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

/**
 * One pass over the source, left to right: comments and string literals are consumed whole (so
 * an `import` written inside them is not read), import forms yield their specifier. Quoted
 * strings end on their line, so a quote inside a regular expression literal cannot swallow the
 * rest of the file.
 */
const TOKEN = new RegExp(
  [
    String.raw`\/\*[\s\S]*?\*\/`, // block comment
    String.raw`\/\/[^\n]*`, // line comment
    String.raw`\b(?:import|export)\s[^;"'` + "`" + String.raw`]*?\bfrom\s*(["'])([^"'\n]+)\1`, // import … from "x", export … from "x"
    String.raw`\bimport\s*\(\s*(["'])([^"'\n]+)\3\s*\)`, // import("x")
    String.raw`\bimport\s*(["'])([^"'\n]+)\5`, // import "x"
    String.raw`("|')(?:\\.|(?!\7)[^\\\n])*\7`, // "string", 'string'
    "`" + String.raw`(?:\\.|[^\\` + "`" + "])*`", // `template`
  ].join("|"),
  "g",
);

/**
 * The relative specifiers a module imports or re-exports, in source order.
 * @param {string} source
 * @returns {string[]}
 */
export function importSpecifiers(source) {
  /** @type {string[]} */
  const found = [];
  for (const m of source.matchAll(TOKEN)) {
    const spec = m[2] ?? m[4] ?? m[6];
    if (spec !== undefined && spec.startsWith(".")) found.push(spec);
  }
  return found;
}

/**
 * The import graph of the .ts files under `dir`: file → files it imports (within `dir`).
 * @param {string} dir
 * @returns {Map<string, string[]>}
 */
export function importGraph(dir) {
  const files = tsFiles(path.resolve(dir));
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const targets = new Set();
    for (const spec of importSpecifiers(readFileSync(file, "utf8"))) {
      const target = path.resolve(path.dirname(file), spec);
      if (known.has(target)) targets.add(target);
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/**
 * One cycle per strongly connected component of the graph: `members` are all the files that
 * reach each other, `cycle` one shortest way round (first file repeated at the end).
 * @param {Map<string, string[]>} graph
 * @returns {{ members: string[], cycle: string[] }[]}
 */
export function findCycles(graph) {
  // Tarjan's strongly connected components; one cycle is reported per component.
  let counter = 0;
  /** @type {Map<string, number>} */
  const index = new Map();
  /** @type {Map<string, number>} */
  const low = new Map();
  /** @type {string[]} */
  const stack = [];
  /** @type {Set<string>} */
  const onStack = new Set();
  /** @type {Set<string>[]} */
  const components = [];
  /** @param {string} v */
  const visit = (v) => {
    const at = counter++;
    index.set(v, at);
    let lowest = at;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        lowest = Math.min(lowest, low.get(w) ?? lowest);
      } else if (onStack.has(w)) lowest = Math.min(lowest, index.get(w) ?? lowest);
    }
    low.set(v, lowest);
    if (lowest === at) {
      /** @type {string[]} */
      const component = [];
      for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
        onStack.delete(w);
        component.push(w);
      }
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(new Set(component));
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components.map((members) => ({ members: [...members].sort(), cycle: shortestCycle(graph, members) }));
}

/**
 * A shortest way from the first member (by name) back to itself, through members only.
 * @param {Map<string, string[]>} graph
 * @param {Set<string>} members
 * @returns {string[]}
 */
function shortestCycle(graph, members) {
  const start = [...members].sort()[0] ?? "";
  /** @type {Map<string, string>} each reached member → the member it was reached from */
  const previous = new Map();
  const queue = [start];
  for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const cycle = [start];
        /** @type {string | undefined} */
        let u = v;
        for (; u !== undefined && u !== start; u = previous.get(u)) cycle.splice(1, 0, u);
        return [...cycle, start];
      }
      if (w !== start && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.argv[2] ?? path.join(here, "..", "src"));
  const cycles = findCycles(importGraph(dir));
  /** @param {string} f */
  const rel = (f) => path.relative(process.cwd(), f);
  if (cycles.length === 0) {
    console.log(`no import cycle in ${rel(dir) || "."}`);
  } else {
    console.error(`${cycles.length} import cycle(s) in ${rel(dir) || "."}:`);
    for (const { members, cycle } of cycles) {
      console.error(`  ${cycle.map(rel).join(" → ")}`);
      if (members.length > cycle.length - 1) console.error(`    (files in this knot: ${members.map(rel).join(", ")})`);
    }
    process.exitCode = 1;
  }
}
