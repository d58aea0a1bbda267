/**
 * Examples are tests: every example in examples/ loads, compiles reproducibly and (where
 * ../shared/argo is present) passes the upstream CRD check.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadWorkflow } from "../../src/cli/load.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { EXAMPLES_DIR, exampleFiles } from "../../test/example-files.ts";

const dir = EXAMPLES_DIR;
const files = exampleFiles();

describe("examples", () => {
  it("has the examples the README promises", () => {
    expect(files).toEqual(expect.arrayContaining(["hello.ts", "steps.ts", "dag.ts", "conditional.ts", "loop.ts", "fan-out.ts"]));
  });

  for (const f of files) {
    it(`${f} compiles to the same manifest twice`, async () => {
      const a = await loadWorkflow(path.join(dir, f));
      const b = await loadWorkflow(path.join(dir, f));
      expect(JSON.stringify(a.manifest)).toBe(JSON.stringify(b.manifest));
      expect(a.manifest.kind).toBe("Workflow");
    });
  }

  it.skipIf(!haveArgoCheck)("every example passes the upstream CRD check (needs ../shared/argo)", async () => {
    const manifests = await Promise.all(files.map(async (f) => (await loadWorkflow(path.join(dir, f))).manifest));
    const r = await argoCheck(manifests);
    expect(r.output).toMatch(new RegExp(`${files.length} passed, 0 failed`));
  }, 120_000); // loads every example and the whole CRD: slow on a busy machine
});
