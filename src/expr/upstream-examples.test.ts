/**
 * Every expression in the upstream Argo examples kept in ../shared/argo (examples/*.yaml and
 * samples/good-full.yaml) parses, and the conditions evaluate as Argo evaluates them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { dependsTasks, evaluateDepends } from "./depends.ts";
import { evaluateWhen } from "./govaluate.ts";
import { parseExpression } from "./parser.ts";
import { substituteTags } from "./tags.ts";

const ROOT = new URL("../../../shared/argo/", import.meta.url).pathname;
const FILES = [
  ...readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yaml")).map((f) => join(ROOT, "examples", f)),
  join(ROOT, "samples", "good-full.yaml"),
];

interface Found {
  readonly strings: string[];
  readonly whens: string[];
  readonly depends: string[];
}

function walk(node: unknown, found: Found, key = ""): void {
  if (typeof node === "string") {
    if (key === "when") found.whens.push(node);
    else if (key === "depends") found.depends.push(node);
    if (node.includes("{{")) found.strings.push(node);
  } else if (Array.isArray(node)) {
    for (const v of node) walk(v, found, key);
  } else if (typeof node === "object" && node !== null) {
    for (const [k, v] of Object.entries(node)) walk(v, found, k);
  }
}

function collect(file: string): Found {
  const found: Found = { strings: [], whens: [], depends: [] };
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) walk(doc.toJS(), found);
  return found;
}

const TAG = /\{\{(.*?)\}\}/g;

describe.each(FILES.map((f) => [f.slice(ROOT.length), f]))("%s", (_name, file) => {
  const found = collect(file);

  it("has expression tags that all parse", () => {
    for (const text of found.strings) {
      for (const m of text.matchAll(TAG)) {
        const tag = m[1]!;
        if (tag.startsWith("=")) expect(() => parseExpression(tag.slice(1)), tag).not.toThrow();
      }
    }
  });

  it("has simple tags that all resolve once every name is in scope", () => {
    for (const text of found.strings) {
      const vars: Record<string, string> = {};
      for (const m of text.matchAll(TAG)) if (!m[1]!.startsWith("=")) vars[m[1]!.trim()] = "v";
      expect(() => substituteTags(text, vars, { onMissing: "keep" })).not.toThrow();
    }
  });

  it("has depends clauses that all parse", () => {
    for (const d of found.depends) expect(dependsTasks(d).length, d).toBeGreaterThan(0);
  });
});

describe("examples/conditionals.yaml", () => {
  const file = FILES.find((f) => f.endsWith("conditionals.yaml"))!;
  const whens = collect(file).whens;
  const scope = (shouldPrint: string): Record<string, string> => ({
    "inputs.parameters.should-print": shouldPrint,
    "workflow.parameters.should-print": shouldPrint,
    "workflow.parameters.json": JSON.stringify([{ name: "should-print", value: shouldPrint }]),
  });

  it("has the three upstream when forms", () => {
    expect(whens).toEqual([
      "{{inputs.parameters.should-print}} == true",
      "{{= inputs.parameters[\"should-print\"] == 'true'}}",
      "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}",
    ]);
  });

  it("runs every step when should-print is true", () => {
    for (const when of whens) expect(evaluateWhen(substituteTags(when, scope("true"))), when).toBe(true);
  });

  it("skips every step when should-print is false", () => {
    for (const when of whens) expect(evaluateWhen(substituteTags(when, scope("false"))), when).toBe(false);
  });
});

describe("samples/good-full.yaml", () => {
  const { whens } = collect(FILES.find((f) => f.endsWith("good-full.yaml"))!);

  it("evaluates its when conditions", () => {
    const vars = { "tasks.gen.outputs.result": '["a","b"]', "steps.s1.outputs.parameters.out": "ok" };
    expect(whens.map((w) => evaluateWhen(substituteTags(w, vars)))).toEqual([true, true]);
    const empty = { "tasks.gen.outputs.result": "[]", "steps.s1.outputs.parameters.out": "no" };
    expect(whens.map((w) => evaluateWhen(substituteTags(w, empty)))).toEqual([false, false]);
  });
});

describe("examples/dag-diamond.yaml", () => {
  it("runs D only once B and C are done", () => {
    const { depends } = collect(FILES.find((f) => f.endsWith("dag-diamond.yaml"))!);
    expect(depends).toEqual(["A", "A", "B && C"]);
    expect(evaluateDepends("B && C", (t) => ({ phase: t === "B" ? "Succeeded" : "Running" }))).toBe(false);
    expect(evaluateDepends("B && C", () => ({ phase: "Succeeded" }))).toBe(true);
  });
});
