import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { opflow } from "../../../test/cli-capture.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-new-op-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("opflow new-op", () => {
  it("creates an OP package depending on this opflow, with a .gitignore, and says what to run next", async () => {
    const run = await opflow("new-op", "my-ops", "--dir", dir, "--description", "Chemistry OPs");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("npm install");
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "my-ops", "package.json"), "utf8"));
    const own = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../../package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "my-ops", description: "Chemistry OPs", dependencies: { "@opflow/core": `^${own.version}` } });
    expect(fs.readFileSync(path.join(dir, "my-ops", ".gitignore"), "utf8")).toContain("node_modules/");
  });

  it("refuses an invalid name and an existing non-empty folder", async () => {
    const bad = await opflow("new-op", "My Ops", "--dir", dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('package name "My Ops" is invalid');
    const again = await opflow("new-op", "my-ops", "--dir", dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists and is not empty");
    expect((await opflow("new-op")).code).toBe(2);
  });
});
