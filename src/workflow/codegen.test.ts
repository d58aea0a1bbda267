/**
 * `generateWorkflowCode` / `opflow codegen`: the module generated for a manifest, imported and
 * compiled, gives the same manifest (`canonicalManifest`); the generated modules type-check.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Workflow as ArgoWorkflow } from "../argo/model.ts";
import { loadWorkflow } from "../cli/load.ts";
import { opflow } from "../../test/cli-capture.ts";
import { EXAMPLES_DIR } from "../../test/example-files.ts";
import { generateWorkflowCode } from "./codegen.ts";
import { parseManifestText } from "./from-manifest.ts";
import { canonicalManifest } from "./manifest-equality.ts";
import { ManifestImportError } from "./manifest-plan.ts";
import type { Workflow } from "./workflow.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = path.join(repo, "test/fixtures");
// Inside the repository, so that the generated modules resolve zod; outside tsconfig's include.
const out = fs.mkdtempSync(path.join(repo, ".codegen-test-"));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
const index = path.join(repo, "src/index.ts");
const quiet = { warn: () => {}, bundles: false } as const;

const upstream = ["dag-diamond.yaml", "steps.yaml", "loops-maps.yaml", "exit-handlers.yaml", "conditional-artifacts.yaml", "artifact-passing-subpath.yaml", "coinflip-recursive.yaml", "dag-conditional-parameters.yaml", "life-cycle-hooks-tmpl-level.yaml", "retry-script.yaml", "global-parameters.yaml", "global-parameters-from-configmap.yaml", "label-value-from-workflow.yaml", "pod-metadata-wf-field.yaml", "synchronization-mutex-wf-level.yaml", "volumes-pvc.yaml", "default-pdb-support.yaml", "dns-config.yaml"];
const cases: [string, () => Promise<ArgoWorkflow>][] = [
  ...["every.yaml", "life-cycle-hooks-wf-level.yaml"].map((f) => [f, async () => parseManifestText(fs.readFileSync(path.join(fixtures, "roundtrip", f), "utf8")) as ArgoWorkflow] as [string, () => Promise<ArgoWorkflow>]),
  ...upstream.map((f) => [f, async () => parseManifestText(fs.readFileSync(path.join(fixtures, "upstream-argo", f), "utf8"), f) as ArgoWorkflow] as [string, () => Promise<ArgoWorkflow>]),
  ...["slices.ts", "dag.ts", "reuse.ts", "script-slices.ts"].map((f) => [f, async () => (await loadWorkflow(path.join(EXAMPLES_DIR, f), { bundles: false })).manifest] as [string, () => Promise<ArgoWorkflow>]),
];
const written: string[] = [];

describe("generated modules compile to the manifest they were generated from", () => {
  for (const [name, load] of cases) {
    it(name, async () => {
      const manifest = await load();
      const file = path.join(out, `${name.replace(/\W/g, "-")}.ts`);
      fs.writeFileSync(file, generateWorkflowCode(manifest, { importFrom: path.relative(out, index), source: name }));
      written.push(file);
      const mod = (await import(file)) as { default: Workflow };
      expect(canonicalManifest(mod.default.compile(quiet))).toEqual(canonicalManifest(manifest));
    }, 60_000);
  }

  it("the generated modules type-check (tsc, strict)", async () => {
    expect(written.length).toBe(cases.length);
    fs.writeFileSync(path.join(out, "tsconfig.json"), JSON.stringify({ extends: "../tsconfig.json", compilerOptions: { noEmit: true }, include: ["*.ts"] }));
    const tsc = path.join(repo, "node_modules/typescript/bin/tsc");
    const r = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile(process.execPath, [tsc, "-p", path.join(out, "tsconfig.json")], { cwd: repo }, (e, stdout, stderr) => resolve({ code: e ? 1 : 0, output: `${stdout}${stderr}` })),
    );
    expect(r.output).toBe("");
    expect(r.code).toBe(0);
  }, 180_000);
});

describe("generated code", () => {
  it("builds Steps and DAG objects, keeps leaves verbatim, and says what it left out", () => {
    const m = parseManifestText(fs.readFileSync(path.join(fixtures, "roundtrip/every.yaml"), "utf8")) as ArgoWorkflow;
    const code = generateWorkflowCode(m, { source: "every.yaml" });
    expect(code).toContain('import { z } from "zod";');
    expect(code).toMatch(/from "@opflow\/core";/);
    expect(code).toContain('const main = new Steps({');
    expect(code).toContain('mode: param(z.enum(["fast", "exact"]), { default: "fast" })');
    expect(code).toContain('const diamond = new DAG({');
    expect(code).toContain('const echo = new ManifestTemplate(');
    expect(code).toContain('key: rawArgo("k-{{inputs.parameters.num}}")');
    expect(code).toContain("withSequence: argoSequence({ count: rawArgo<number>(\"{{inputs.parameters.num}}\"), format: \"%02d\" })");
    expect(code).toContain("// Left out (nothing runs them): unused.");
    expect(code).toMatch(/export default new Workflow\(\{\n {2}generateName: "every-",\n {2}entrypoint: main,\n {2}onExit: bye,/);
  });

  it("refuses what fromManifest refuses", () => {
    expect(() => generateWorkflowCode({ kind: "Workflow", spec: { entrypoint: "a", templates: [{ name: "a", container: { image: "x" } }], podSpecPatch: "{}" } })).toThrow(ManifestImportError);
  });

  it("writes global parameters as globalParams and workflow hooks as lifecycle hooks", () => {
    const g = generateWorkflowCode(parseManifestText(fs.readFileSync(path.join(fixtures, "upstream-argo/global-parameters.yaml"), "utf8")));
    expect(g).toContain('const messageParam = globalParam("message", z.string(), { default: "hello world" });');
    expect(g).toContain("globals: [messageParam],");
    const h = generateWorkflowCode(parseManifestText(fs.readFileSync(path.join(fixtures, "roundtrip/life-cycle-hooks-wf-level.yaml"), "utf8")));
    expect(h).toContain('hooks: { exit: lifecycleHook(http, { parameters: {} }), running: lifecycleHook(http, { when: "workflow.status == \\"Running\\"", parameters: {} }) },');
  });
});

describe("opflow codegen", () => {
  it("prints the module, or writes it with -o", async () => {
    const file = path.join(fixtures, "upstream-argo/dag-diamond.yaml");
    const r = await opflow("codegen", file);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("const diamond = new DAG({");
    const target = path.join(out, "cli.ts");
    const w = await opflow("codegen", file, "-o", target, "--import", "../src/index.ts");
    expect(w.code).toBe(0);
    expect(fs.readFileSync(target, "utf8")).toContain('from "../src/index.ts";');
  });

  it("--help, and usage errors", async () => {
    const h = await opflow("codegen", "--help");
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("usage: opflow codegen MANIFEST.yaml");
    const none = await opflow("codegen");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("expects one MANIFEST, got 0");
  });

  it("names the field it cannot express", async () => {
    const bad = path.join(out, "bad.yaml");
    fs.writeFileSync(bad, "kind: Workflow\nmetadata: {generateName: x-}\nspec:\n  entrypoint: a\n  podPriority: 3\n  templates:\n  - {name: a, container: {image: x}}\n");
    const r = await opflow("codegen", bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.podPriority cannot be expressed");
  });
});
