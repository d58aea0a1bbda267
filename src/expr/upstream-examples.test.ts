/**
 * Every expression in the upstream Argo examples kept in ../shared/argo (examples/*.yaml and
 * samples/good-full.yaml) parses, and the conditions evaluate as Argo evaluates them.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { dependsTasks, evaluateDepends } from "./depends.ts";
import { evaluateExpression } from "./evaluate.ts";
import { evaluateWhen } from "./govaluate.ts";
import { parseExpression } from "./parser.ts";
import { expandScope, substituteTags } from "./tags.ts";

const ROOT = new URL("../../../shared/argo/", import.meta.url).pathname;
const HAVE_SHARED = existsSync(join(ROOT, "examples"));
const FILES = !HAVE_SHARED ? [] : [
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

function collect(file: string | undefined): Found {
  const found: Found = { strings: [], whens: [], depends: [] };
  // Without ../shared the describe blocks that call this are skipped, but still collected.
  if (file === undefined) return found;
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

describe.runIf(HAVE_SHARED)("examples/conditionals.yaml", () => {
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

describe.runIf(HAVE_SHARED)("samples/good-full.yaml", () => {
  const { whens } = collect(FILES.find((f) => f.endsWith("good-full.yaml"))!);

  it("evaluates its when conditions", () => {
    const vars = { "tasks.gen.outputs.result": '["a","b"]', "steps.s1.outputs.parameters.out": "ok" };
    expect(whens.map((w) => evaluateWhen(substituteTags(w, vars)))).toEqual([true, true]);
    const empty = { "tasks.gen.outputs.result": "[]", "steps.s1.outputs.parameters.out": "no" };
    expect(whens.map((w) => evaluateWhen(substituteTags(w, empty)))).toEqual([false, false]);
  });
});

describe.runIf(HAVE_SHARED)("examples/dag-diamond.yaml", () => {
  it("runs D only once B and C are done", () => {
    const { depends } = collect(FILES.find((f) => f.endsWith("dag-diamond.yaml"))!);
    expect(depends).toEqual(["A", "A", "B && C"]);
    expect(evaluateDepends("B && C", (t) => ({ phase: t === "B" ? "Succeeded" : "Running" }))).toBe(false);
    expect(evaluateDepends("B && C", () => ({ phase: "Succeeded" }))).toBe(true);
  });
});

describe("expressions quoted from upstream docs and examples", () => {
  it("expression-tag-template-workflow.yaml: withParam and item", () => {
    expect(substituteTags("{{=toJson(filter([1, 3], {# > 1}))}}", {})).toBe("[3]");
    expect(substituteTags("{{=item}}", { item: "3" })).toBe("3");
  });

  it("conditional-parameters.yaml: the output parameter expression picks the branch that ran", () => {
    const expression = "steps.flipcoin.outputs.result == 'heads'? steps.heads.outputs.result : steps.tails.outputs.result";
    const heads = { "steps.flipcoin.outputs.result": "heads", "steps.heads.outputs.result": "heads" };
    const tails = { "steps.flipcoin.outputs.result": "tails", "steps.tails.outputs.result": "tails" };
    expect(evaluateExpression(expression, expandScope(heads))).toBe("heads");
    expect(evaluateExpression(expression, expandScope(tails))).toBe("tails");
  });

  it("conditional-artifacts: fromExpression over a dashed step name", () => {
    const env = expandScope({ "steps.flip-coin.outputs.result": "heads", "steps.heads.outputs.artifacts.result": "art-h" });
    expect(evaluateExpression("steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.artifacts.result : steps.tails.outputs.artifacts.result", env)).toBe("art-h");
  });

  it("retries.md / variables.md: retryStrategy expressions over lastRetry.*", () => {
    const last = (exitCode: string, status = "Failed") =>
      expandScope({ "lastRetry.exitCode": exitCode, "lastRetry.status": status, "lastRetry.duration": "3", "lastRetry.message": "" });
    expect(evaluateExpression("asInt(lastRetry.exitCode) >= 2", last("2"))).toBe(true);
    expect(evaluateExpression("asInt(lastRetry.exitCode) >= 2", last("1"))).toBe(false);
    expect(evaluateExpression("lastRetry.exitCode != '2'", last("2"))).toBe(false);
    expect(evaluateExpression("lastRetry.status == 'Error' or asInt(lastRetry.exitCode) == 75", last("75"))).toBe(true);
    expect(evaluateExpression("{{=asInt(lastRetry.exitCode) >= 2}}".slice(3, -2), last("3"))).toBe(true);
  });

  it("lifecycle hooks: an expression over a step's status", () => {
    const env = expandScope({ "steps.step1.status": "Running", "workflow.status": "Running" });
    expect(evaluateExpression('steps["step1"].status == "Running"', env)).toBe(true);
    expect(evaluateExpression('workflow.status == "Succeeded"', env)).toBe(false);
  });

  it("variables.md: the documented core functions", () => {
    const env = expandScope({
      "inputs.parameters.my-int-param": "4",
      "inputs.parameters.my-float-param": "0.5",
      "inputs.parameters.my-string-param": "  s ",
      "inputs.parameters.json": '{"some": {"path": "v"}}',
    });
    expect(evaluateExpression("[1, 2]", env)).toEqual([1, 2]);
    expect(evaluateExpression("filter([1, 2], { # > 1})", env)).toEqual([2]);
    expect(evaluateExpression("map([1, 2], { # * 2 })", env)).toEqual([2, 4]);
    expect(evaluateExpression("asInt(inputs.parameters['my-int-param'])", env)).toBe(4);
    expect(evaluateExpression("asFloat(inputs.parameters['my-float-param'])", env)).toBe(0.5);
    expect(evaluateExpression("string(1)", env)).toBe("1");
    expect(evaluateExpression("toJson([1, 2])", env)).toBe("[1,2]");
    expect(evaluateExpression("jsonpath(inputs.parameters.json, '$.some.path')", env)).toBe("v");
    expect(evaluateExpression("sprig.trim(inputs.parameters['my-string-param'])", env)).toBe("s");
  });

  it("blacha/argo-expr README: asInt arithmetic and sha256sum", () => {
    expect(substituteTags("{{=asInt(input.parameters.name) + 1}}", { "input.parameters.name": "1" })).toBe("2");
    expect(substituteTags('{{=sprig.sha256sum("hello world")}}', {})).toBe("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  });
});

it.runIf(!HAVE_SHARED)("skips the upstream expressions: ../shared/argo is absent", () => {
  expect(HAVE_SHARED).toBe(false);
});
