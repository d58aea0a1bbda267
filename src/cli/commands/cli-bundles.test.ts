/**
 * The commands that deal with OP bundles: `opflow render` writes them next to the manifest (or
 * says which keys it needs), and `opflow run --executor container` runs pods in podman
 * containers, OP templates through their bundles.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { NODE_IMAGE, ensureImage, podmanSkipReason } from "../../executors/_test-images.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const opflow = (args: string[], cwd: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [path.join(repo, "bin/opflow.mjs"), ...args], { cwd, encoding: "utf8", timeout: 180_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const made: string[] = [];
afterAll(() => Promise.all(made.map((d) => fs.rm(d, { recursive: true, force: true }))));
async function tmp(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-cli-bundles-"));
  made.push(d);
  return d;
}

describe("opflow render", () => {
  it("writes the manifest and, beside it, the bundles it names, with the one command that uploads them", async () => {
    const cwd = await tmp();
    const r = opflow(["render", path.join(repo, "examples/hello.ts"), "-o", "out/hello.yaml"], cwd);
    expect(r.status).toBe(0);
    const yaml = await fs.readFile(path.join(cwd, "out/hello.yaml"), "utf8");
    const key = /key: (opflow-bundles\/[0-9a-f]{20}\.mjs)/.exec(yaml)?.[1] as string;
    expect(key).toBeDefined();
    expect(await fs.readdir(path.join(cwd, "out/opflow-bundles"))).toEqual([path.basename(key)]);
    expect(r.stderr).toContain(`opflow render: wrote 1 OP bundle(s) to out/opflow-bundles; put them in the artifact repository once with:\n  opflow upload out/opflow-bundles --key opflow-bundles --archive none`);
    // Without a place to write them: the keys the manifest needs.
    const printed = opflow(["render", path.join(repo, "examples/hello.ts")], cwd);
    expect(printed.stdout).toBe(yaml);
    expect(printed.stderr).toContain(`the manifest runs 1 OP bundle(s) from the artifact repository (${key})`);
    // Installed mode for every OP template.
    const installed = opflow(["render", path.join(repo, "examples/hello.ts"), "--no-bundles"], cwd);
    expect(installed.stdout).toContain("- npx");
    expect(installed.stdout).not.toContain("opflow-bundles/");
    expect(opflow(["render", path.join(repo, "examples/hello.ts"), "--no-bundles", "--bundles", "x"], cwd).status).toBe(2);
  }, 240_000);
});

const skip = podmanSkipReason();
if (skip) console.warn(`opflow run --executor container skipped: ${skip}`);

describe("opflow run --executor", () => {
  it("refuses an unknown executor, and images without the container executor", async () => {
    const cwd = await tmp();
    const bad = opflow(["run", path.join(repo, "examples/hello.ts"), "--executor", "docker"], cwd);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--executor must be local or container, got "docker"');
    const image = opflow(["run", path.join(repo, "examples/hello.ts"), "--image", "a=b"], cwd);
    expect(image.status).toBe(2);
    expect(image.stderr).toContain("--image maps images for --executor container");
    const map = opflow(["run", path.join(repo, "examples/hello.ts"), "--executor", "container", "--image", "nonsense"], cwd);
    expect(map.status).toBe(2);
    expect(map.stderr).toMatch(/--image: expects NAME=LOCAL_IMAGE .*got "nonsense"|--executor container: podman/);
  }, 120_000);

  it.skipIf(skip !== undefined)(`runs hello's pod in ${NODE_IMAGE} from its bundle${skip ? ` (skipped: ${skip})` : ""}`, async () => {
    ensureImage(NODE_IMAGE);
    const cwd = await tmp();
    const r = opflow(["run", path.join(repo, "examples/hello.ts"), "--executor", "container", "--json"], cwd, { OPFLOW_IMAGES: `node:20-slim=${NODE_IMAGE}` });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { phase: string; dir: string; nodes: Record<string, { displayName: string; outputs?: { parameters?: { name: string; value: string }[] } }> };
    expect(doc.phase).toBe("Succeeded");
    const hello = Object.values(doc.nodes).find((n) => n.displayName === "hello");
    expect(hello?.outputs?.parameters).toContainEqual({ name: "greeting", value: "Hello, opflow! Hello, opflow!" });
    const [step] = (await fs.readdir(doc.dir)).filter((d) => d.endsWith("hello"));
    expect(await fs.readFile(path.join(doc.dir, step as string, "script"), "utf8")).toMatch(/^node \/tmp\/opflow\/[0-9a-f]{20}\.mjs --op hello\n$/);
  }, 180_000);
});
