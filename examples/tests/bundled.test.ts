/**
 * Every example compiled for a cluster — OP templates running their bundles — passes the
 * upstream Argo v4 CRD check (where ../shared/argo is present), names one bundle per module,
 * and stays about the size it was without bundles.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Workflow } from "../../src/workflow/workflow.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { EXAMPLES_DIR, exampleFiles } from "../../test/example-files.ts";

const dir = EXAMPLES_DIR;
const files = exampleFiles();

async function prepared(f: string) {
  const wf = ((await import(path.join(dir, f))) as { default: Workflow }).default;
  return { bundled: wf.prepare({ warn: () => {} }), plain: wf.prepare({ warn: () => {}, bundles: false }) };
}

describe("examples compiled with OP bundles", () => {
  it("run every OP template from its module's bundle, and add little to the manifest", async () => {
    for (const f of files) {
      const { bundled, plain } = await prepared(f);
      // One bundle per module that defines OP templates (script-only examples have none).
      const opTemplates = (plain.manifest.spec.templates ?? []).filter((t) => t.container?.args?.includes("--op"));
      expect(bundled.bundles, f).toHaveLength(opTemplates.length > 0 ? 1 : 0);
      const key = bundled.bundles[0]?.key as string;
      const ops = (bundled.manifest.spec.templates ?? []).filter((t) => t.container?.command?.[0] === "node");
      expect(ops.length, f).toBe(opTemplates.length);
      for (const t of ops) expect(t.inputs?.artifacts?.find((a) => a.name === "opflow-bundle")?.s3?.key, `${f}: ${t.name}`).toBe(key);
      const grew = JSON.stringify(bundled.manifest).length - JSON.stringify(plain.manifest).length;
      expect(grew, f).toBeLessThanOrEqual(200 * ops.length);
    }
  }, 120_000);

  it.skipIf(!haveArgoCheck)("pass the upstream CRD check (needs ../shared/argo)", async () => {
    const manifests = await Promise.all(files.map(async (f) => (await prepared(f)).bundled.manifest));
    const r = await argoCheck(manifests);
    expect(r.output).toMatch(new RegExp(`${files.length} passed, 0 failed`));
  }, 120_000);
});
