import { mkdtempSync, rmSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iterate, plusOne } from "../../examples/reuse.ts";
import slices, { countRows, makeShards, report } from "../../examples/slices.ts";
import { ClusterApiError } from "../argo/api-errors.ts";
import { ValidationError } from "../errors.ts";
import type { Workflow as ArgoWorkflow } from "../argo/model.ts";
import type { ArgoStepFilter, QueriedStep } from "../argo/query.ts";
import { FakeKubeServer } from "../../test/fake-kube-server.ts";
import { opflow } from "../../test/cli-capture.ts";
import { manifestToResubmit, opTemplates, openRun } from "./from-run.ts";
import { canonicalManifest } from "./manifest-equality.ts";
import { ManifestImportError } from "./manifest-plan.ts";
import { Workflow } from "./workflow.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-fromrun-"));
  dirs.push(d);
  return d;
}

/** The plus-one steps of a run: `key=iter`, marked when reused. */
async function plusOnes(h: (filter: ArgoStepFilter) => Promise<QueriedStep[]>): Promise<string[]> {
  return (await h({ name: "plus-one", type: "Pod" })).map((s) => `${s.key}=${s.values["iter"]}${s.message?.startsWith("reused") ? " reused" : ""}`).sort();
}

describe("Workflow.fromRun on the local engine: a past run rebuilt from its name alone", () => {
  let workdir: string;
  let first: string;
  beforeAll(async () => {
    workdir = await tmp();
    const h = await iterate(3).submit({ mode: "debug", workdir });
    await h.wait();
    first = h.name;
  }, 120_000);

  it("compiles to the manifest the run stored", async () => {
    const wf = await Workflow.fromRun(first, { mode: "debug", workdir });
    const stored = YAML.parse(await fs.readFile(path.join(workdir, first, "manifest.yaml"), "utf8")) as ArgoWorkflow;
    const compiled = wf.compile({ bundles: false, warn: () => {} });
    expect(canonicalManifest(compiled.spec)).toEqual(canonicalManifest(stored.spec));
    // A new run: a generated name after the old one's, labelled as resubmitted from it.
    expect(compiled.metadata).toEqual({ generateName: `${first}-`, labels: { "workflows.argoproj.io/resubmitted-from-workflow": first } });
    expect((await Workflow.fromRun(first, { mode: "debug", workdir, keepName: true })).compile({ bundles: false, warn: () => {} }).metadata).toEqual({ name: first });
  });

  it("queries the run's steps and resubmits it with two steps reused, one output replaced", { timeout: 120_000 }, async () => {
    // A fresh-process setting: nothing of the first run but its name and the OP's code.
    const wf = await Workflow.fromRun(first, { mode: "debug", workdir, ops: [plusOne], parameters: { limit: 6 } });
    const old = await wf.replay(first, { mode: "debug", workdir });
    expect(await old.phase()).toBe("Succeeded");
    const steps = await old.querySteps({ key: ["iter-0", "iter-1"] });
    // Read by plus-one's signature (ops): numbers. Without ops, the manifest's strings.
    expect(steps.map((s) => [s.key, s.values["iter"]])).toEqual([
      ["iter-0", 1],
      ["iter-1", 2],
    ]);
    const untyped = await (await Workflow.fromRun(first, { mode: "debug", workdir })).replay(first, { mode: "debug", workdir });
    expect((await untyped.querySteps({ key: "iter-0" })).map((s) => s.values["iter"])).toEqual(["1"]);
    const second = await wf.submit({ mode: "debug", workdir, reuse: [steps[0]!, steps[1]!.modifyOutputParameter("iter", 4)] });
    expect((await second.wait()).status?.phase).toBe("Succeeded");
    expect(second.name.startsWith(`${first}-`)).toBe(true);
    expect(await plusOnes((f) => second.querySteps(f))).toEqual(["iter-0=1 reused", "iter-1=4 reused", "iter-4=5", "iter-5=6"]);
  });

  it("resumes the run itself under keepName: every step's digest is unchanged, nothing runs again", { timeout: 120_000 }, async () => {
    const wf = await Workflow.fromRun(first, { mode: "debug", workdir, ops: [plusOne], keepName: true });
    const times = async (h: { querySteps: (f: ArgoStepFilter) => Promise<QueriedStep[]> }): Promise<string[]> =>
      (await h.querySteps({ name: "plus-one", type: "Pod" })).map((s) => `${s.key} ${s.startedAt} ${s.finishedAt}`).sort();
    const before = await times(await openRun(first, { mode: "debug", workdir }));
    expect(before).toHaveLength(3);
    const again = await wf.submit({ mode: "debug", workdir });
    expect(again.name).toBe(first);
    expect((await again.wait()).status?.phase).toBe("Succeeded");
    // Taken over as recorded: the same start and end times (a step that ran again has new ones).
    expect(await times(again)).toEqual(before);
  });

  it("openRun gives the steps without rebuilding, also of a run fromRun cannot rebuild", { timeout: 60_000 }, async () => {
    const h = await openRun(first, { mode: "debug", workdir });
    expect((await h.querySteps({ key: "iter-2" })).map((s) => s.values["iter"])).toEqual([3]);
    // The same run with a workflow-level field the DSL does not express.
    const dir = path.join(workdir, "hooked");
    await fs.cp(path.join(workdir, first), dir, { recursive: true });
    const m = YAML.parse(await fs.readFile(path.join(dir, "manifest.yaml"), "utf8")) as ArgoWorkflow;
    await fs.writeFile(path.join(dir, "manifest.yaml"), YAML.stringify({ ...m, spec: { ...m.spec, podSpecPatch: "{}" } }));
    const err = await Workflow.fromRun("hooked", { mode: "debug", workdir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestImportError);
    expect((err as Error).message).toMatch(/^run "hooked" \(.*hooked\/manifest\.yaml\): manifest: spec\.podSpecPatch cannot be expressed .*openRun\("hooked"\)/);
    expect((await (await openRun("hooked", { mode: "debug", workdir })).querySteps({ key: "iter-0" })).length).toBe(1);
  });

  it("says which run and which folder when there is none, the folder holds no manifest, or the manifest is corrupted", async () => {
    const nope = await Workflow.fromRun("reuse-nope", { mode: "debug", workdir }).catch((e: unknown) => e);
    expect(nope).toBeInstanceOf(ClusterApiError);
    expect((nope as Error).message).toBe(`run "reuse-nope": not found (404): the local engine's workdir ${workdir} has no folder reuse-nope/`);
    expect(await openRun("reuse-nope", { mode: "debug", workdir }).catch((e: unknown) => (e as Error).message)).toMatch(/run "reuse-nope": not found/);
    expect(await Workflow.fromRun("../etc", { mode: "debug", workdir }).catch((e: unknown) => (e as Error).message)).toMatch(/run "\.\.\/etc": not a workflow name/);

    await fs.mkdir(path.join(workdir, "empty"));
    expect(await Workflow.fromRun("empty", { mode: "debug", workdir }).catch((e: unknown) => (e as Error).message)).toBe(
      `run "empty": the folder ${path.join(workdir, "empty")} holds no manifest.yaml, so it is no run of the local engine (or one killed before it started)`,
    );

    await fs.mkdir(path.join(workdir, "broken"));
    await fs.writeFile(path.join(workdir, "broken", "manifest.yaml"), "spec: [unclosed\n");
    const broken = await Workflow.fromRun("broken", { mode: "debug", workdir }).catch((e: unknown) => e);
    expect((broken as Error).message).toContain(path.join(workdir, "broken", "manifest.yaml"));
    await fs.writeFile(path.join(workdir, "broken", "manifest.yaml"), "just: text\n");
    const notWf = await Workflow.fromRun("broken", { mode: "debug", workdir }).catch((e: unknown) => e);
    expect(notWf).toBeInstanceOf(ManifestImportError);
    expect((notWf as Error).message).toBe(`${path.join(workdir, "broken", "manifest.yaml")}: expects an Argo Workflow (kind: Workflow, spec), got {"just":"text"}`);

    const unknownParam = await Workflow.fromRun(first, { mode: "debug", workdir, parameters: { limt: 6 } }).catch((e: unknown) => e);
    expect(unknownParam).toBeInstanceOf(ManifestImportError);
    expect((unknownParam as Error).message).toBe(`${path.join(workdir, first, "manifest.yaml")}: parameters: "limt" is no input of the entrypoint "iterate"; it takes: iter, limit`);
  });
});

describe("ops: OP templates of a rebuilt workflow run in-process", () => {
  it("binds the templates running an OP given, sliced ones with their slices, and runs the rebuilt workflow", { timeout: 120_000 }, async () => {
    const workdir = await tmp();
    const h = await slices.submit({ mode: "debug", workdir });
    expect((await h.wait()).status?.phase).toBe("Succeeded");
    const manifest = slices.compile({ bundles: false, warn: () => {} });
    const sliced = manifest.spec.templates?.find((t) => t.container?.env?.some((e) => e.name === "OPFLOW_SLICES"))?.name;
    expect(sliced).toBeDefined();
    const { bindings: bound, outputs } = opTemplates(manifest, [makeShards, countRows, report]);
    expect([...outputs.keys()].sort()).toEqual([...bound.keys()].sort());
    expect([...bound.keys()].sort()).toEqual(
      (manifest.spec.templates ?? []).filter((t) => t.container?.args?.includes("--op")).map((t) => t.name).sort(),
    );
    expect(bound.has(sliced as string)).toBe(true);
    expect(() => opTemplates(manifest, [makeShards, plusOne], "slices.yaml")).toThrow(
      new ValidationError('slices.yaml: ops: no template runs OP "plus-one"; the OPs it runs: "make-shards", "count-rows", "report"'),
    );

    const wf = await Workflow.fromRun(h.name, { mode: "debug", workdir, ops: [makeShards, countRows, report] });
    const again = await wf.submit({ mode: "debug", workdir });
    expect((await again.wait()).status?.phase).toBe("Succeeded");
    // The same results; as strings (the rebuilt templates have string signatures), where the original decodes them by type.
    const typed = (await h.outputs()) as Record<string, unknown>;
    expect(typed["total"]).toBe(5);
    // openRun reads them as JSON, without any Workflow.
    expect(await (await openRun(h.name, { mode: "debug", workdir })).outputs()).toEqual(typed);
    expect(await again.outputs()).toEqual(Object.fromEntries(Object.entries(typed).map(([k, v]) => [k, JSON.stringify(v)])));
  });
});

describe("opflow codegen --run: code for a past local run", () => {
  let workdir: string;
  let name: string;
  // Inside the repository, so that the generated module resolves zod.
  const out = mkdtempSync(path.join(repo, ".fromrun-test-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  beforeAll(async () => {
    workdir = await tmp();
    const h = await iterate(2).submit({ mode: "debug", workdir });
    await h.wait();
    name = h.name;
  }, 120_000);

  it("writes a module whose workflow compiles to the run's manifest, as a new run of it", { timeout: 60_000 }, async () => {
    const target = path.join(out, "again.ts");
    const r = await opflow("codegen", "--run", name, "--workdir", workdir, "-o", target, "--import", path.relative(out, path.join(repo, "src/index.ts")));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const code = await fs.readFile(target, "utf8");
    expect(code).toContain(`run ${name} (${path.join(workdir, name, "manifest.yaml")})`);
    const mod = (await import(target)) as { default: Workflow };
    const compiled = mod.default.compile({ bundles: false, warn: () => {} });
    const stored = YAML.parse(await fs.readFile(path.join(workdir, name, "manifest.yaml"), "utf8")) as ArgoWorkflow;
    expect(canonicalManifest(compiled.spec)).toEqual(canonicalManifest(stored.spec));
    expect(compiled.metadata.generateName).toBe(`${name}-`);
  });

  it("names the run and the folder it searched; refuses a MANIFEST with --run, --workdir without it", async () => {
    const r = await opflow("codegen", "--run", "reuse-nope", "--workdir", workdir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`opflow codegen: run "reuse-nope": not found (404): the local engine's workdir ${workdir} has no folder reuse-nope/\n`);
    const both = await opflow("codegen", "x.yaml", "--run", name);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(`expects MANIFEST or --run NAME, not both (got "x.yaml" and --run ${name})`);
    const stray = await opflow("codegen", "x.yaml", "--workdir", workdir);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("--workdir goes with --run NAME");
  });
});

describe("Workflow.fromRun on a cluster (an HTTP server playing the Kubernetes and Argo Server APIs)", () => {
  const TOKEN = "fake-sa-token-fromrun-41d2";
  let server: FakeKubeServer;
  let kubeconfig: string;
  beforeAll(async () => {
    server = await FakeKubeServer.start({ token: TOKEN });
    kubeconfig = server.writeKubeconfig(await tmp(), { token: TOKEN, namespace: "argo" });
  });
  afterAll(async () => server.close());

  it("fetches the Workflow object and rebuilds it, through either API", async () => {
    const submitted = await iterate(3).submit({ mode: "cluster", kubeconfig, env: {}, bundles: false });
    server.setStatus("argo", submitted.name, { phase: "Succeeded", startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:01:00Z" });
    const original = iterate(3).compile({ bundles: false, warn: () => {} });
    for (const opts of [{ kubeconfig, env: {} }, { argoServer: server.url, token: TOKEN, namespace: "argo", env: {} }]) {
      const wf = await Workflow.fromRun(submitted.name, opts);
      const compiled = wf.compile({ bundles: false, warn: () => {} });
      expect(canonicalManifest(compiled.spec)).toEqual(canonicalManifest(original.spec));
      expect(compiled.metadata).toEqual({ generateName: "reuse-", labels: { "workflows.argoproj.io/resubmitted-from-workflow": submitted.name } });
      expect(await (await openRun(submitted.name, opts)).phase()).toBe("Succeeded");
    }
    const missing = await Workflow.fromRun("reuse-gone", { kubeconfig, env: {} }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ClusterApiError);
    expect((missing as ClusterApiError).status).toBe(404);
    expect((missing as Error).message).toMatch(/reuse-gone/);
  });

  it("rebuilds a workflowTemplateRef run from status.storedWorkflowTemplateSpec, as Argo's resubmit", () => {
    const spec = iterate(3).compile({ bundles: false, warn: () => {} }).spec;
    const run: ArgoWorkflow = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { name: "from-tmpl-abcde", generateName: "from-tmpl-", namespace: "argo", uid: "u1", labels: { "workflows.argoproj.io/phase": "Failed", team: "chem" } },
      spec: { workflowTemplateRef: { name: "iterate" }, arguments: { parameters: [{ name: "iter", value: "0" }, { name: "limit", value: "5" }] }, shutdown: "Terminate", activeDeadlineSeconds: 0 },
      status: { phase: "Failed", storedWorkflowTemplateSpec: { ...spec, workflowTemplateRef: { name: "iterate" } } } as ArgoWorkflow["status"],
    };
    const m = manifestToResubmit(run, "workflow");
    expect(m.metadata).toEqual({ generateName: "from-tmpl-", labels: { team: "chem", "workflows.argoproj.io/resubmitted-from-workflow": "from-tmpl-abcde" } });
    expect(m.spec.workflowTemplateRef).toBeUndefined();
    expect(m.spec.shutdown).toBeUndefined();
    expect(m.spec.activeDeadlineSeconds).toBeUndefined();
    expect(m.spec.arguments?.parameters).toEqual([{ name: "iter", value: "0" }, { name: "limit", value: "5" }]);
    expect(Workflow.fromManifest(m).compile({ bundles: false, warn: () => {} }).spec.templates?.length).toBe(spec.templates?.length);
    const { status: _s, ...bare } = run;
    expect(() => manifestToResubmit(bare, 'workflow "from-tmpl-abcde"')).toThrow(
      'workflow "from-tmpl-abcde": spec.workflowTemplateRef "iterate": the run\'s status holds no storedWorkflowTemplateSpec to rebuild from (openRun reads its steps without rebuilding)',
    );
  });
});
