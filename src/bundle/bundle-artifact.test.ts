import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadArtifact, uploadArtifact } from "../artifacts/transfer.ts";
import { LocalStorageClient } from "../storage/local.ts";
import { BundleError, bundleModule, type OpBundle } from "./bundle.ts";
import { BUNDLE_INPUT, BundleArtifact, uploadBundles } from "./bundle-artifact.ts";
import { installExternals, lockedClosure } from "./externals.ts";

const repo = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
let project: string;
let work: string;
let hello: OpBundle;

async function write(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

function run(entry: string, op: string, root: string, env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [entry, "--op", op, "--root", root], { cwd: root, env: { PATH: process.env["PATH"], ...env }, encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

/**
 * A project outside the repository: `loader` loads its implementation by a computed name (so
 * it must be an external) and depends on `helper` 2.0.0, nested under it, while the project
 * has `helper` 1.0.0 at the top.
 */
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-artifact-"));
  project = path.join(work, "project");
  await write(path.join(project, "package.json"), JSON.stringify({ name: "p", type: "module", dependencies: { loader: "^1.0.0", helper: "^1.0.0" } }));
  await write(
    path.join(project, "package-lock.json"),
    JSON.stringify({
      name: "p",
      lockfileVersion: 3,
      packages: {
        "": { name: "p", dependencies: { loader: "^1.0.0", helper: "^1.0.0" } },
        "node_modules/loader": { version: "1.0.0", dependencies: { helper: "^2.0.0" } },
        "node_modules/loader/node_modules/helper": { version: "2.0.0" },
        "node_modules/helper": { version: "1.0.0" },
      },
    }),
  );
  const pkg = (name: string, version: string): string => JSON.stringify({ name, version, main: "index.js" });
  await write(path.join(project, "node_modules/loader/package.json"), pkg("loader", "1.0.0"));
  await write(path.join(project, "node_modules/loader/index.js"), 'const impl = ["./", "impl.js"].join("");\nmodule.exports = { ...require(impl), helper: require("helper").version };\n');
  await write(path.join(project, "node_modules/loader/impl.js"), 'module.exports = { greeting: "loaded" };\n');
  await write(path.join(project, "node_modules/loader/node_modules/helper/package.json"), pkg("helper", "2.0.0"));
  await write(path.join(project, "node_modules/loader/node_modules/helper/index.js"), 'module.exports = { version: "2" };\n');
  await write(path.join(project, "node_modules/helper/package.json"), pkg("helper", "1.0.0"));
  await write(path.join(project, "node_modules/helper/index.js"), 'module.exports = { version: "1" };\n');
  // opflow and zod as the project would have them installed.
  await fs.symlink(repo, path.join(project, "node_modules/opflow"));
  await fs.symlink(path.join(repo, "node_modules/zod"), path.join(project, "node_modules/zod"));
  await write(
    path.join(project, "ops.mjs"),
    `import { z } from "zod";
import { defineOp, param } from "opflow";
import loader from "loader";
export const useLoader = defineOp({
  name: "use-loader",
  inputs: {},
  outputs: { text: param(z.string()) },
  async execute() { return { text: loader.greeting + " with helper " + loader.helper }; },
});
`,
  );
  hello = await bundleModule(path.join(repo, "examples/hello.ts"));
}, 60_000);

afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe("BundleArtifact", () => {
  it("is stored under its hash and reaches the pod as the template's input artifact", () => {
    const a = new BundleArtifact(hello);
    expect(a.key).toBe(`opflow-bundles/${hello.hash}.mjs`);
    expect(a.podEntry).toBe(`/tmp/opflow/${hello.hash}.mjs`);
    expect(a.toInputArtifact()).toEqual({ name: BUNDLE_INPUT, path: `/tmp/opflow/${hello.hash}.mjs`, s3: { key: `opflow-bundles/${hello.hash}.mjs` } });
  });

  it("uploads once: a key that exists is the same bytes", async () => {
    const storage = new LocalStorageClient({ root: path.join(work, "store-1") });
    const a = new BundleArtifact(hello);
    expect(await uploadBundles([a, new BundleArtifact(hello), { other: true }], storage)).toEqual({ uploaded: [a.key], present: [] });
    expect(await uploadBundles([a], storage)).toEqual({ uploaded: [], present: [a.key] });
    expect(Buffer.from(await fs.readFile(storage.pathOf(a.key))).equals(Buffer.from(hello.contents))).toBe(true);
  });

  it("installs externals from the lock file into the bundle's folder, and the bundle runs from it", async () => {
    await expect(bundleModule(path.join(project, "ops.mjs"))).rejects.toThrow(/package "loader" imports a module whose name is computed at run time/);
    const b = await bundleModule(path.join(project, "ops.mjs"), { externals: ["loader"] });
    expect(b.locked?.packages.map((p) => `${p.key}@${p.version}`)).toEqual(["node_modules/loader@1.0.0", "node_modules/loader/node_modules/helper@2.0.0"]);
    const a = new BundleArtifact(b);
    expect(a.key).toBe(`opflow-bundles/${b.hash}.tgz`);
    expect(a.podEntry).toBe(`/tmp/opflow/${b.hash}/${b.hash}.mjs`);

    const folder = await a.writeTo(path.join(work, "written"));
    await expect(fs.stat(path.join(folder, "node_modules/helper"))).rejects.toThrow();
    const root = path.join(work, "root-1");
    await fs.mkdir(root);
    expect(run(path.join(folder, b.fileName), "use-loader", root)).toEqual({ status: 0, stderr: "" });
    expect(await fs.readFile(path.join(root, "outputs/parameters/text"), "utf8")).toBe("loaded with helper 2");

    // Through the artifact repository, as a pod gets it.
    const storage = new LocalStorageClient({ root: path.join(work, "store-2") });
    expect(await a.upload(storage)).toBe(true);
    expect(await a.upload(storage)).toBe(false);
    const pod = path.join(work, "pod");
    await downloadArtifact(storage, a.key, path.join(pod, "opflow", b.hash));
    const root2 = path.join(work, "root-2");
    await fs.mkdir(root2);
    expect(run(path.join(pod, "opflow", b.hash, b.fileName), "use-loader", root2).status).toBe(0);
    expect(await fs.readFile(path.join(root2, "outputs/parameters/text"), "utf8")).toBe("loaded with helper 2");
  });

  it("writes bundles as their stored objects, which one upload of the folder puts under their keys", async () => {
    const withExternals = new BundleArtifact(await bundleModule(path.join(project, "ops.mjs"), { externals: ["loader"] }));
    const plain = new BundleArtifact(hello);
    const dir = path.join(work, "rendered", "opflow-bundles");
    expect(path.basename(await plain.writeObject(dir))).toBe(`${hello.hash}.mjs`);
    expect(path.basename(await withExternals.writeObject(dir))).toBe(`${withExternals.bundle.hash}.tgz`);
    // What `opflow upload <dir> --key opflow-bundles --archive none` does.
    const storage = new LocalStorageClient({ root: path.join(work, "store-3") });
    await uploadArtifact(storage, dir, { key: "opflow-bundles", archive: "none" });
    expect((await storage.list("opflow-bundles/")).sort()).toEqual([plain.key, withExternals.key].sort());
    expect(await uploadBundles([plain, withExternals], storage)).toEqual({ uploaded: [], present: [plain.key, withExternals.key] });
    const pod = path.join(work, "pod-2");
    await downloadArtifact(storage, withExternals.key, path.join(pod, "b"));
    const root = path.join(work, "root-3");
    await fs.mkdir(root);
    expect(run(path.join(pod, "b", withExternals.bundle.fileName), "use-loader", root).status).toBe(0);
  });

  it("refuses externals the lock file does not have, or that are installed at another version", async () => {
    await expect(bundleModule(path.join(project, "ops.mjs"), { externals: ["loader", "missing-pkg"] })).rejects.toThrow(
      `OP bundle externals: package "missing-pkg" is not in ${project}/package-lock.json; add it to the project (npm install missing-pkg)`,
    );
    expect(() => lockedClosure(project, ["nope"])).toThrow(BundleError);
    const lock = JSON.parse(await fs.readFile(path.join(project, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    const changed = structuredClone(lock);
    (changed.packages["node_modules/loader"] as { version: string }).version = "1.0.1";
    const other = path.join(work, "project-changed");
    await fs.cp(project, other, { recursive: true, verbatimSymlinks: true });
    await fs.writeFile(path.join(other, "package-lock.json"), JSON.stringify(changed));
    await expect(installExternals(other, ["loader"], path.join(work, "dest"))).rejects.toThrow(
      `OP bundle externals: package "loader" is installed at 1.0.0 but the lock file pins 1.0.1 (${other}/node_modules/loader); run npm ci`,
    );
  });
});
