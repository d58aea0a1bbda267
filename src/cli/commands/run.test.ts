import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const opflow = (args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [path.join(repo, "bin/opflow.mjs"), ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const made: string[] = [];
afterAll(() => Promise.all(made.map((d) => fs.rm(d, { recursive: true, force: true }))));

describe("opflow run / opflow status", () => {
  it("runs an Argo manifest, prints Argo's status.nodes with --json, and shows it again with status", async () => {
    const cwd = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-cli-"));
    made.push(cwd);
    const run = opflow(["run", path.join(repo, "test/fixtures/steps.yaml"), "--json", "--name", "steps-cli"], cwd);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout) as { name: string; dir: string; phase: string; nodes: Record<string, { displayName: string; type: string; phase: string; outputs?: { result?: string } }> };
    expect(doc).toMatchObject({ name: "steps-cli", dir: path.join(await fs.realpath(cwd), "opflow-runs", "steps-cli"), phase: "Succeeded" });
    const byName = Object.fromEntries(Object.values(doc.nodes).map((n) => [n.displayName, n]));
    expect(byName["hello2b"]).toMatchObject({ type: "Pod", phase: "Succeeded", outputs: { result: "hello2b" } });
    expect(byName["[1]"]?.type).toBe("StepGroup");

    const status = opflow(["status", "opflow-runs/steps-cli"], cwd);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain("steps-cli  Succeeded");
    expect(status.stdout).toContain("✔ hello2a  Succeeded");
    const byNameOnly = opflow(["status", "steps-cli", "--json"], cwd);
    expect(JSON.parse(byNameOnly.stdout).nodes).toEqual(doc.nodes);
  });

  it("exits 1 on a failed workflow and tells how to resume", async () => {
    const cwd = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-cli-"));
    made.push(cwd);
    await fs.writeFile(
      path.join(cwd, "bad.yaml"),
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: bad-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: x, command: [sh, -c, 'exit 2']}\n",
    );
    const run = opflow(["run", "bad.yaml", "--quiet"], cwd);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/Workflow bad-\w{5} Failed/);
    expect(run.stdout).toMatch(/Resume with: opflow run bad.yaml --name bad-\w{5}/);
    expect(opflow(["run", "--nope"], cwd).status).toBe(2);
  });
});
