/**
 * `Workflow.fromManifest` / `fromYaml`: every example's manifest and the upstream Argo corpus
 * (test/fixtures/upstream-argo) rebuild to objects that compile to the same manifest (up to what
 * Argo treats as equal: `canonicalManifest`); what the DSL cannot express is refused with the
 * field named; rebuilt workflows run on the local engine as the originals do.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import type { Workflow as ArgoWorkflow } from "../argo/model.ts";
import { loadWorkflow } from "../cli/load.ts";
import { runWorkflow } from "../debug/run.ts";
import { DAG } from "../dag/dag.ts";
import { Steps } from "../steps/steps.ts";
import { ManifestTemplate } from "../template/manifest-template.ts";
import { EXAMPLES_DIR, exampleFiles } from "../../test/example-files.ts";
import { parseManifestText, rebuildManifest } from "./from-manifest.ts";
import { canonicalManifest } from "./manifest-equality.ts";
import { ManifestImportError } from "./manifest-plan.ts";
import { Workflow } from "./workflow.ts";

const fixtures = fileURLToPath(new URL("../../test/fixtures", import.meta.url));
const upstreamDir = path.join(fixtures, "upstream-argo");
const upstream = fs
  .readdirSync(upstreamDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
// Parsed as Argo reads YAML (Go's YAML 1.1: some files do not parse as YAML 1.2).
const readUpstream = (f: string): ArgoWorkflow => parseManifestText(fs.readFileSync(path.join(upstreamDir, f), "utf8"), f) as ArgoWorkflow;
const quiet = { warn: () => {}, bundles: false } as const;

/** Upstream manifests the DSL's Workflow cannot express, with the field the error names. */
const refused: Record<string, string> = {
  "artifact-gc-workflow.yaml": "spec.artifactGC",
  "dag-custom-metrics.yaml": "spec.metrics",
  "global-parameters-from-configmap-referenced-as-local-variable.yaml": 'spec.arguments.parameters "message": valueFrom',
  "pod-resources-template-override.yaml": "spec.podResources",
  "pod-resources.yaml": "spec.podResources",
  "pod-spec-patch-wf-tmpl.yaml": "spec.podSpecPatch",
  "pod-spec-yaml-patch.yaml": "spec.podSpecPatch",
};
/**
 * Upstream manifests rebuilt but compiled to a manifest that differs, with the difference: the
 * DSL marks an artifact argument `optional` when it feeds an optional input from a step's
 * output (step.ts), where the manifest does not.
 */
const differs: Record<string, string> = {
  "variables-showcase.yaml": '"optional": true',
};
/** How many of the 90 upstream manifests round-trip: 67 before workflow hooks, global parameters and the workflow's spec fields came. */
const ROUND_TRIPS = 82;

describe("round trip: every example's manifest", () => {
  for (const f of exampleFiles()) {
    it(`${f}: fromManifest(manifest).compile() is the same manifest`, async () => {
      const { manifest } = await loadWorkflow(path.join(EXAMPLES_DIR, f), { bundles: false });
      const back = Workflow.fromManifest(manifest).compile(quiet);
      expect(canonicalManifest(back)).toEqual(canonicalManifest(manifest));
      // The graph templates came back as Steps and DAG objects, not verbatim.
      const rebuilt = rebuildManifest(manifest);
      for (const t of manifest.spec.templates ?? []) {
        const made = rebuilt.templates.get(t.name);
        if (!made) continue;
        if (t.steps) expect(made).toBeInstanceOf(Steps);
        else if (t.dag) expect(made).toBeInstanceOf(DAG);
        else expect(made).toBeInstanceOf(ManifestTemplate);
      }
    });
  }
});

describe("round trip: the upstream Argo corpus", () => {
  for (const f of upstream) {
    if (refused[f]) {
      it(`${f}: refused, naming ${refused[f]}`, () => {
        const m = readUpstream(f);
        expect(() => Workflow.fromManifest(m)).toThrow(ManifestImportError);
        expect(() => Workflow.fromManifest(m)).toThrow(refused[f]);
      });
      continue;
    }
    if (differs[f]) {
      it(`${f}: rebuilt, compiles to a manifest that differs (${differs[f]})`, () => {
        const text = fs.readFileSync(path.join(upstreamDir, f), "utf8");
        const back = Workflow.fromYaml(text, { source: f }).compile(quiet);
        expect(canonicalManifest(back)).not.toEqual(canonicalManifest(parseManifestText(text, f)));
        expect(JSON.stringify(canonicalManifest(back), null, 1)).toContain(differs[f]);
      });
      continue;
    }
    it(`${f}: fromYaml(text).compile() is the same manifest`, () => {
      const text = fs.readFileSync(path.join(upstreamDir, f), "utf8");
      const back = Workflow.fromYaml(text, { source: f }).compile(quiet);
      expect(canonicalManifest(back)).toEqual(canonicalManifest(parseManifestText(text, f)));
    });
  }

  it(`${ROUND_TRIPS} of the ${upstream.length} manifests round-trip; the others are refused`, () => {
    expect(upstream.length - Object.keys(refused).length - Object.keys(differs).length).toBe(ROUND_TRIPS);
  });

  it("rebuilds global parameters as globalParams, workflow hooks as lifecycle hooks, the spec fields as options", () => {
    const g = rebuildManifest(readUpstream("global-parameters.yaml"));
    expect(g.globals?.map((p) => [p.name, p.toArgoParameter()])).toEqual([["message", { name: "message", value: "hello world" }]]);
    const cm = rebuildManifest(readUpstream("global-parameters-from-configmap.yaml"));
    expect(cm.globals?.[0]?.toArgoParameter().valueFrom?.configMapKeyRef).toEqual({ name: "simple-parameters", key: "msg" });
    const v = rebuildManifest(readUpstream("variables-showcase.yaml"));
    expect(v.priority).toBe(readUpstream("variables-showcase.yaml").spec.priority);
  });

  it("life-cycle-hooks-wf-level.yaml (upstream, kept apart: it needs the network): workflow hooks round-trip", () => {
    const text = fs.readFileSync(path.join(fixtures, "roundtrip/life-cycle-hooks-wf-level.yaml"), "utf8");
    const m = parseManifestText(text) as ArgoWorkflow;
    const rebuilt = rebuildManifest(m);
    expect(Object.keys(rebuilt.hooks ?? {}).sort()).toEqual(["exit", "running"]);
    expect(canonicalManifest(Workflow.fromYaml(text).compile(quiet))).toEqual(canonicalManifest(m));
  });

  it("rebuilds most of the corpus's graph templates as Steps and DAG objects", () => {
    let graphs = 0;
    let rebuilt = 0;
    for (const f of upstream.filter((x) => !refused[x] && !differs[x])) {
      const m = readUpstream(f);
      const { templates } = rebuildManifest(m);
      for (const t of m.spec.templates ?? []) {
        if (!t.steps && !t.dag) continue;
        if (!templates.has(t.name)) continue;
        graphs++;
        if (!(templates.get(t.name) instanceof ManifestTemplate)) rebuilt++;
      }
    }
    expect(graphs).toBeGreaterThan(40);
    expect(rebuilt / graphs).toBeGreaterThan(0.9);
  });
});

/** A manifest using everything the rebuild covers: Steps, DAG, loops, conditions, hooks, keys, exit handlers, outputs. */
const every = parseManifestText(fs.readFileSync(path.join(fixtures, "roundtrip/every.yaml"), "utf8"), "every.yaml") as ArgoWorkflow & { spec: { templates: ArgoWorkflow["spec"]["templates"] & object[] } };

describe("what is rebuilt, and how", () => {
  it("rebuilds Steps and DAG with their arguments, loops, conditions, hooks, keys, depends and outputs", () => {
    const rebuilt = rebuildManifest(every);
    expect(rebuilt.templates.get("main")).toBeInstanceOf(Steps);
    expect(rebuilt.templates.get("diamond")).toBeInstanceOf(DAG);
    expect(rebuilt.templates.get("echo")).toBeInstanceOf(ManifestTemplate);
    expect(rebuilt.templates.has("unused")).toBe(false);
    const back = Workflow.fromManifest(every).compile(quiet);
    expect(canonicalManifest(back)).toEqual(canonicalManifest(every));
    // `dependencies` comes back as the equivalent depends logic; the step key as the key input.
    const d = (back.spec.templates ?? []).find((t) => t.name === "diamond");
    expect(d?.dag?.tasks.find((t) => t.name === "b")?.depends).toBe("a");
    const main = (back.spec.templates ?? []).find((t) => t.name === "main");
    expect(main?.inputs?.parameters?.find((p) => p.name === "mode")).toEqual({ name: "mode", default: "fast", enum: ["fast", "exact"] });
    expect(main?.outputs?.parameters?.find((p) => p.name === "twice")?.valueFrom).toEqual({ expression: "steps.gen.outputs.result + steps.gen.outputs.result" });
  });

  it("keeps a graph template verbatim when it uses a field Steps and DAG do not express, with its callees", () => {
    const m = structuredClone(every);
    (m.spec.templates[1] as Record<string, unknown>)["retryStrategy"] = { limit: "1" };
    const rebuilt = rebuildManifest(m);
    expect(rebuilt.templates.get("diamond")).toBeInstanceOf(ManifestTemplate);
    expect(rebuilt.templates.get("make")).toBeInstanceOf(ManifestTemplate);
    expect(canonicalManifest(Workflow.fromManifest(m).compile(quiet))).toEqual(canonicalManifest(m));
  });

  it("reads YAML text, and refuses several documents", () => {
    const text = YAML.stringify(every);
    expect(canonicalManifest(Workflow.fromYaml(text).compile(quiet))).toEqual(canonicalManifest(every));
    expect(() => Workflow.fromYaml(`${text}\n---\n${text}`, { source: "two.yaml" })).toThrow(/two\.yaml: expects one YAML document holding a Workflow, got 2/);
  });
});

describe("bad manifests", () => {
  const variant = (edit: (m: typeof every & Record<string, unknown>) => void): unknown => {
    const m = structuredClone(every) as typeof every & Record<string, unknown>;
    edit(m);
    return m;
  };
  it("refuses other kinds and non-objects", () => {
    expect(() => Workflow.fromManifest({ ...every, kind: "WorkflowTemplate" })).toThrow(/kind must be "Workflow", got "WorkflowTemplate"/);
    expect(() => Workflow.fromManifest("hello")).toThrow(/expects an Argo Workflow object, got "hello"/);
    expect(() => Workflow.fromManifest({ kind: "Workflow" })).toThrow(/spec is missing/);
  });
  it("names an entrypoint or exit handler that is no template", () => {
    expect(() => Workflow.fromManifest(variant((m) => (m.spec.entrypoint = "nope")))).toThrow(/spec\.entrypoint "nope" names no template/);
    expect(() => Workflow.fromManifest(variant((m) => (m.spec.onExit = "nope")))).toThrow(/spec\.onExit "nope" names no template/);
  });
  it("names the step and field that call a missing template", () => {
    const m = variant((m) => ((m.spec.templates[1] as { dag: { tasks: { template: string }[] } }).dag.tasks[1] as { template: string }).template = "gone");
    expect(() => Workflow.fromManifest(m)).toThrow(/template "diamond": dag\.tasks "b"\.template names template "gone", which the manifest does not hold/);
  });
  it("names an argument the called template does not declare", () => {
    const m = variant((m) => ((m.spec.templates[0] as { steps: { arguments: { parameters: { name: string }[] } }[][] }).steps[0]?.[0]?.arguments.parameters[0] as { name: string }).name = "typo");
    expect(() => Workflow.fromManifest(m)).toThrow(/template "main": step "gen": arguments\.parameters "typo" is not an input of template "echo"/);
  });
  it("names workflow-level fields and arguments the Workflow cannot hold", () => {
    expect(() => Workflow.fromManifest(variant((m) => ((m.spec as unknown as Record<string, unknown>)["podSpecPatch"] = "{}")))).toThrow(/spec\.podSpecPatch cannot be expressed/);
    expect(() => Workflow.fromManifest(variant((m) => ((m.spec as unknown as Record<string, unknown>)["hooks"] = { later: { template: "echo" } })))).toThrow(/spec\.hooks\.later: has no expression/);
    expect(() => Workflow.fromManifest(variant((m) => ((m.spec as unknown as Record<string, unknown>)["hooks"] = { x: { template: "gone", expression: "true" } })))).toThrow(/spec\.hooks\.x\.template "gone" names no template/);
    expect(() => Workflow.fromManifest(variant((m) => (m.spec.retryStrategy = { limit: 2, retryPolicy: "OnTransientError" })))).toThrow(/spec\.retryStrategy\.retryPolicy "OnTransientError" cannot be expressed/);
    expect(() => Workflow.fromManifest(variant((m) => m.spec.arguments?.parameters?.push({ name: "g" })))).toThrow(/spec\.arguments\.parameters "g": a global parameter .* has no value/);
    expect(() => Workflow.fromManifest(variant((m) => m.spec.arguments?.parameters?.push({ name: "g", value: "c", enum: ["a", "b"] })))).toThrow(/spec\.arguments\.parameters "g": value "c" is not among its enum/);
    expect(() => Workflow.fromManifest(variant((m) => ((m.metadata as Record<string, unknown>)["finalizers"] = [])))).toThrow(/metadata\.finalizers cannot be expressed/);
    expect(() => Workflow.fromManifest(variant((m) => m.spec.arguments?.artifacts?.push({ name: "data2", git: {} } as never)))).toThrow(/spec\.arguments\.artifacts "data2": artifact "data2" \(git\) is not one of/);
  });
});

describe("rebuilt workflows run on the local engine as the originals", () => {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-roundtrip-"));
  afterAll(() => fs.rmSync(workdir, { recursive: true, force: true }));
  process.env["PATH"] = `${path.join(fixtures, "bin")}:${process.env["PATH"] ?? "/usr/bin:/bin"}`;
  const summary = (r: Awaited<ReturnType<typeof runWorkflow>>): unknown => ({
    phase: r.status.phase,
    nodes: Object.values(r.status.nodes ?? {})
      .map((n) => `${(n.displayName ?? "").replace(r.name, "(workflow)")}:${n.type}:${n.phase}`)
      .sort(),
  });
  for (const f of ["steps.yaml", "dag-diamond.yaml", "loops.yaml", "exit-handlers.yaml", "conditionals.yaml", "parameter-aggregation.yaml", "artifact-passing.yaml", "global-parameters.yaml", "loops-sequence.yaml", "dag-targets.yaml", "volumes-pvc.yaml", "label-value-from-workflow.yaml"]) {
    it(`${f}`, async () => {
      const original = readUpstream(f);
      const a = await runWorkflow(original, { workdir: path.join(workdir, "a") });
      const b = await runWorkflow(Workflow.fromManifest(original).compile(quiet), { workdir: path.join(workdir, "b") });
      expect(summary(b)).toEqual(summary(a));
    }, 60_000);
  }
});
