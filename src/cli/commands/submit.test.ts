/**
 * Every example (Argo's upstream examples in ../shared/argo/examples, and this repo's
 * examples/*.ts when present) is submitted with `opflow submit`, driven Pending → Running →
 * Succeeded on the fake API server (one to Failed), and checked through `wait()`,
 * `querySteps()` and `opflow get`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Workflow } from "../../argo/model.ts";
import { workflowHandle } from "../../argo/workflow-handle.ts";
import { KEY_PARAMETER } from "../../contract.ts";
import { FakeKubeServer, SHARED_ARGO_DIR, crdValidation } from "../../../test/fake-kube-server.ts";
import { argoStatus, buildNodes, type DrivePhase } from "../../../test/fake-argo-status.ts";
import { opflow } from "../../../test/cli-capture.ts";
import { EXAMPLES_DIR, exampleFiles } from "../../../test/example-files.ts";

const TOKEN = "fake-sa-token-examples-91b2";
const upstream = path.join(SHARED_ARGO_DIR, "examples");
const files = [
  ...(fs.existsSync(upstream) ? fs.readdirSync(upstream).filter((f) => f.endsWith(".yaml")).map((f) => path.join(upstream, f)) : []),
  ...exampleFiles().map((f) => path.join(EXAMPLES_DIR, f)),
].sort();
const FAIL = "dag-diamond.yaml";

let server: FakeKubeServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  server = await FakeKubeServer.start({ token: TOKEN });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-argo-ex-"));
  kubeconfig = server.writeKubeconfig(dir, { token: TOKEN, namespace: "examples" });
  if (files.length === 0) console.warn("SKIPPED: no examples found (../shared/argo/examples and examples/ are absent)");
  if (!crdValidation()) console.warn("SKIPPED: strict CRD validation (../shared/argo is absent)");
});

afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function drive(name: string, phase: DrivePhase): void {
  const wf = server.workflow("examples", name) as Workflow;
  const { status, logs } = argoStatus(wf, phase);
  for (const [pod, text] of logs) server.setPodLog("examples", pod, text);
  server.setStatus("examples", name, status);
}

describe.skipIf(files.length === 0)("examples on a fake cluster", { timeout: 120_000 }, () => {
  it.each(files.map((f) => [path.basename(f), f]))("%s: submit, drive, wait, querySteps, opflow get", async (base, file) => {
    const submitted = await opflow("submit", file, "--kubeconfig", kubeconfig, "--json");
    expect(submitted.stderr).toBe("");
    expect(submitted.code).toBe(0);
    const created = JSON.parse(submitted.stdout) as Workflow;
    const name = created.metadata.name as string;
    expect(created.metadata.namespace).toBe("examples");
    expect(JSON.stringify(server.workflow("examples", name))).not.toContain(TOKEN);

    const final: DrivePhase = base === FAIL ? "Failed" : "Succeeded";
    const handle = workflowHandle(name, { kubeconfig, env: {} });
    const phases: string[] = [];
    // The cluster moves on once the client has seen each phase, so every phase is observed
    // however slowly this machine runs.
    const next: Record<string, DrivePhase> = { "": "Pending", Pending: "Running", Running: final };
    const done = await handle.wait({
      timeout: "20s",
      pollInterval: "30ms",
      onUpdate: (s) => {
        const phase = s.phase ?? "";
        phases.push(phase);
        const to = next[phase];
        if (to !== undefined) setTimeout(() => drive(name, to), 10);
      },
    });
    expect(done.status?.phase).toBe(final);
    expect(phases.filter((p, i) => p !== phases[i - 1]), phases.join(",")).toEqual(["", "Pending", "Running", final]);

    const leaves = buildNodes(done).leaves.filter((n) => n.type === "Pod");
    const pods = await handle.querySteps({ type: "Pod" });
    expect(pods).toHaveLength(leaves.length);
    if (final === "Succeeded") {
      expect(pods.every((s) => s.phase === "Succeeded")).toBe(true);
      expect((await handle.querySteps({ phase: ["Failed", "Error"] })).length).toBe(0);
    } else {
      expect((await handle.querySteps({ phase: "Failed", type: "Pod" })).length).toBe(1);
    }
    for (const step of pods) {
      const template = done.spec.templates?.find((t) => t.name === step.templateName);
      if (step.phase !== "Succeeded") continue;
      for (const p of template?.outputs?.parameters ?? []) expect(step.outputs.parameters[p.name]).toBeDefined();
      for (const a of template?.outputs?.artifacts ?? []) expect(step.outputs.artifacts[a.name]?.s3?.key).toMatch(new RegExp(`^${name}/`));
    }

    // Keyed steps (the compiler passes the key as an input parameter) are found by key.
    for (const step of await handle.querySteps({ type: ["Pod", "Retry"] })) {
      const key = step.inputs.parameters[KEY_PARAMETER];
      if (key === undefined || key.includes("{{")) continue;
      expect((await handle.querySteps({ key })).map((s) => s.id)).toContain(step.id);
    }

    const get = await opflow("get", name, "--kubeconfig", kubeconfig, "--json");
    expect(get.code).toBe(0);
    const report = JSON.parse(get.stdout) as { phase: string; progress: string; steps: { displayName: string; phase: string }[] };
    expect(report.phase).toBe(final);
    expect(report.progress).toBe(done.status?.progress);
    expect(report.steps).toEqual(JSON.parse(JSON.stringify(await handle.querySteps())));

    const table = await opflow("get", name, "--kubeconfig", kubeconfig);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^Name:\\s+${name}\\n`));
    expect(table.stdout).toMatch(new RegExp(`Status:\\s+${final}\\n`));
    expect(table.stdout).toMatch(/STEP\s+TEMPLATE\s+PODNAME\s+DURATION\s+MESSAGE/);
    for (const p of pods) expect(table.stdout).toContain(p.displayName);
    if (final === "Failed") expect(table.stdout).toContain("✖");

    const watch = await opflow("watch", name, "--kubeconfig", kubeconfig, "--no-redraw");
    expect(watch.code).toBe(final === "Succeeded" ? 0 : 1);
    expect(watch.stdout).toContain(`${name}  ${final}`);
  });
});
