import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BundleError, bundleModule, packageOf, zodLocalesIndex, type OpBundle } from "./bundle.ts";

const repo = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const hello = path.join(repo, "examples", "hello.ts");

/** A scratch folder inside the repository (so that `import "opflow"` resolves), removed after. */
let scratch: string;
/** A scratch project outside the repository, with its own node_modules. */
let project: string;
let helloBundle: OpBundle;

async function write(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

beforeAll(async () => {
  await fs.mkdir(path.join(repo, ".opflow"), { recursive: true });
  scratch = await fs.mkdtemp(path.join(repo, ".opflow", "bundle-test-"));
  project = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-project-"));
  await write(path.join(project, "package.json"), JSON.stringify({ name: "scratch-project", type: "module" }));
  helloBundle = await bundleModule(hello);
});

afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.rm(project, { recursive: true, force: true });
});

const OP_SOURCE = (greeting: string): string => `
import { z } from "zod";
import { defineOp, param, OPTemplate } from "@opflow/core";
export const greet = defineOp({
  name: "greet",
  inputs: { who: param(z.string()) },
  outputs: { text: param(z.string()) },
  async execute({ who }) { return { text: \`${greeting}, \${who}\` }; },
});
export const shout = defineOp({
  name: "shout",
  inputs: { who: param(z.string()) },
  outputs: { text: param(z.string()) },
  async execute({ who }) { return { text: who.toUpperCase() }; },
});
export const greetTemplate = OPTemplate.fromOp(greet);
`;

describe("bundleModule", () => {
  it("names the bundle by the hash of its bytes, and the same sources give the same bytes", async () => {
    expect(helloBundle.fileName).toBe(`${helloBundle.hash}.mjs`);
    expect(helloBundle.hash).toMatch(/^[0-9a-f]{20}$/);
    // esbuild again (not this process's cached bundle): the same bytes.
    const again = await bundleModule(hello, { cache: false });
    expect(again.hash).toBe(helloBundle.hash);
    expect(await bundleModule(hello)).toBe(again); // unchanged files: the bundle this process made
    expect(Buffer.from(again.contents).equals(Buffer.from(helloBundle.contents))).toBe(true);
  });

  it("gives a new hash when an OP changes, and the old one when the change is undone", async () => {
    const file = path.join(scratch, "ops.ts");
    await write(file, OP_SOURCE("Hello"));
    const first = await bundleModule(file);
    await write(file, OP_SOURCE("Bonjour"));
    const changed = await bundleModule(file);
    expect(changed.hash).not.toBe(first.hash);
    await write(file, OP_SOURCE("Hello"));
    expect((await bundleModule(file)).hash).toBe(first.hash);
    expect((await bundleModule(file, { cache: false })).hash).toBe(first.hash);
  });

  it("holds no cluster, S3, engine or CLI code, no absolute paths, and stays small", () => {
    const text = Buffer.from(helloBundle.contents).toString("utf8");
    // (`runWorkflow` is named where Workflow.run imports it, but the engine itself is left out.)
    for (const absent of ["@kubernetes/client-node", "KubeConfig", "minio", "S3StorageClient", "\"Scheduler\"", "tsx/esm/api", "esbuild"]) {
      // "@kubernetes/client-node" etc. may appear only inside the messages of left-out imports.
      const code = text.replace(/(["'`])opflow: (?:(?!\1)[^\\]|\\.)*\1/g, "");
      expect(code.includes(absent), `bundle contains ${absent}`).toBe(false);
    }
    expect(text).not.toContain(repo);
    expect(helloBundle.contents.length).toBeLessThan(400_000);
  });

  it("runs each OP of its module by name, with nothing installed beside it", async () => {
    const file = path.join(scratch, "two-ops.ts");
    await write(file, OP_SOURCE("Hi"));
    const b = await bundleModule(file);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-run-"));
    try {
      const bundleFile = path.join(dir, b.fileName);
      await fs.writeFile(bundleFile, b.contents);
      for (const [op, expected] of [["greet", "Hi, ada"], ["shout", "ADA"]] as const) {
        const root = path.join(dir, op);
        await fs.mkdir(root);
        const r = spawnSync(process.execPath, [bundleFile, "--op", op], { cwd: root, env: { PATH: process.env["PATH"], OPFLOW_ROOT: root, who: "ada" }, encoding: "utf8" });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(await fs.readFile(path.join(root, "outputs", "parameters", "text"), "utf8")).toBe(expected);
      }
      const unknown = spawnSync(process.execPath, [bundleFile, "--op", "nope"], { cwd: dir, encoding: "utf8" });
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain('exports no OP named "nope"');
      const missing = spawnSync(process.execPath, [bundleFile], { cwd: dir, encoding: "utf8" });
      expect(missing.status).toBe(2);
      expect(missing.stderr).toMatch(/option --op is required\nusage: node <bundle>.mjs --op <name>/);
      const noInput = spawnSync(process.execPath, [bundleFile, "--op", "greet", "--root", path.join(dir, "empty")], { cwd: dir, env: { PATH: process.env["PATH"] }, encoding: "utf8" });
      expect(noInput.status).toBe(3);
      expect(noInput.stderr).toMatch(/ValidationError: .*greet.*who/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("bundles opflow's heavier dependencies only when the OP uses them", async () => {
    const file = path.join(scratch, "uses-yaml.ts");
    await write(
      file,
      `import { z } from "zod";
import { defineOp, param, toYaml } from "@opflow/core";
export const dump = defineOp({
  name: "dump",
  inputs: { n: param(z.number()) },
  outputs: { text: param(z.string()) },
  async execute({ n }) { return { text: toYaml({ n, list: [1, 2] }) }; },
});
`,
    );
    const b = await bundleModule(file);
    expect(Buffer.from(b.contents).toString("utf8")).not.toMatch(/from\s*"yaml"/);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-yaml-"));
    try {
      await fs.writeFile(path.join(dir, b.fileName), b.contents);
      const r = spawnSync(process.execPath, [path.join(dir, b.fileName), "--op", "dump", "--root", dir], { cwd: dir, env: { PATH: process.env["PATH"], n: "3" }, encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(await fs.readFile(path.join(dir, "outputs", "parameters", "text"), "utf8")).toBe('"n": 3\nlist:\n  - 1\n  - 2\n');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("runs the OP, not the module's own main code, when the module checks whether it is the program", async () => {
    const file = path.join(scratch, "has-main.ts");
    await write(
      file,
      `import { fileURLToPath } from "node:url";
import { z } from "zod";
import { defineOp, param } from "@opflow/core";
export const twice = defineOp({
  name: "twice",
  inputs: { n: param(z.number()) },
  outputs: { n: param(z.number()) },
  async execute({ n }) { return { n: n * 2 }; },
});
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.error("the module's main code ran");
  process.exit(7);
}
`,
    );
    const b = await bundleModule(file);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-main-"));
    try {
      await fs.writeFile(path.join(dir, b.fileName), b.contents);
      const r = spawnSync(process.execPath, [path.join(dir, b.fileName), "--op", "twice", "--root", dir], { cwd: dir, env: { PATH: process.env["PATH"], n: "21" }, encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(await fs.readFile(path.join(dir, "outputs", "parameters", "n"), "utf8")).toBe("42");
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("leaves manifest reading (and the yaml package) out unless the module names it", async () => {
    const file = path.join(scratch, "reads-a-manifest.ts");
    await write(
      file,
      `import { z } from "zod";
import { Workflow, defineOp, param } from "@opflow/core";
export const echo = defineOp({
  name: "echo",
  inputs: { s: param(z.string()) },
  outputs: { s: param(z.string()) },
  async execute({ s }) { return { s: s + "!" }; },
});
// Read when the module loads, in the pod too.
export const rebuilt = Workflow.fromYaml("apiVersion: argoproj.io/v1alpha1\\nkind: Workflow\\nmetadata: {name: w}\\nspec:\\n  entrypoint: main\\n  templates:\\n  - name: main\\n    container: {image: busybox, command: [sh, -c, 'true']}\\n");
`,
    );
    const b = await bundleModule(file);
    const helloText = Buffer.from(helloBundle.contents).toString("utf8");
    expect(helloText).toContain("(workflow/from-manifest.");
    expect(b.contents.length - helloBundle.contents.length).toBeGreaterThan(50_000);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-yaml-read-"));
    try {
      await fs.writeFile(path.join(dir, b.fileName), b.contents);
      const r = spawnSync(process.execPath, [path.join(dir, b.fileName), "--op", "echo", "--root", dir], { cwd: dir, env: { PATH: process.env["PATH"], s: "hi" }, encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(await fs.readFile(path.join(dir, "outputs", "parameters", "s"), "utf8")).toBe("hi!");
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("leaves zod's compile and fromJSONSchema out unless the module names them, and says so when reached", async () => {
    const source = (call: string): string => `import { z } from "zod";
import { defineOp, param } from "@opflow/core";
export const check = defineOp({
  name: "check",
  inputs: { schema: param(z.string()) },
  outputs: { ok: param(z.string()) },
  async execute({ schema }) { const t = ${call}(JSON.parse(schema)); return { ok: String(t.safeParse(3).success) }; },
});
`;
    const named = path.join(scratch, "names-from-json-schema.ts");
    await write(named, source("z.fromJSONSchema"));
    const hidden = path.join(scratch, "hides-from-json-schema.ts");
    await write(hidden, source('(z as unknown as Record<string, (s: unknown) => z.ZodType>)["from" + "JSONSchema"]'));
    const withIt = await bundleModule(named);
    const without = await bundleModule(hidden);
    expect(withIt.contents.length - without.contents.length).toBeGreaterThan(20_000);
    const helloText = Buffer.from(helloBundle.contents).toString("utf8");
    expect(helloText).toContain("(core/compile.js) is not in this OP bundle");
    expect(helloText).toContain("(classic/from-json-schema.js) is not in this OP bundle");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-zod-"));
    try {
      for (const [b, name] of [[withIt, "with"], [without, "without"]] as const) {
        const root = path.join(dir, name);
        await fs.mkdir(root);
        await fs.writeFile(path.join(root, b.fileName), b.contents);
        const r = spawnSync(process.execPath, [path.join(root, b.fileName), "--op", "check", "--root", root], { cwd: root, env: { PATH: process.env["PATH"], schema: '{"type":"number"}' }, encoding: "utf8" });
        if (name === "with") {
          expect(r.stderr).toBe("");
          expect(await fs.readFile(path.join(root, "outputs", "parameters", "ok"), "utf8")).toBe("true");
        } else {
          expect(r.status).not.toBe(0);
          expect(r.stderr).toContain("zod's fromJSONSchema (classic/from-json-schema.js) is not in this OP bundle");
        }
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("reports a native addon at compile time, naming the package and the way out", async () => {
    await write(path.join(project, "node_modules", "fast-hash", "package.json"), JSON.stringify({ name: "fast-hash", version: "1.2.3", main: "index.js" }));
    await write(path.join(project, "node_modules", "fast-hash", "index.js"), 'module.exports = require("bindings")("fast_hash");\n');
    await write(path.join(project, "node_modules", "bindings", "package.json"), JSON.stringify({ name: "bindings", version: "1.5.0", main: "bindings.js" }));
    await write(path.join(project, "node_modules", "bindings", "bindings.js"), "module.exports = () => ({});\n");
    await write(path.join(project, "node_modules", "raw-addon", "package.json"), JSON.stringify({ name: "raw-addon", version: "0.1.0", main: "index.js" }));
    await write(path.join(project, "node_modules", "raw-addon", "index.js"), 'module.exports = require("./build/Release/raw.node");\n');
    await write(path.join(project, "node_modules", "raw-addon", "build", "Release", "raw.node"), "not really an ELF file");
    await write(path.join(project, "uses-native.mjs"), 'import h from "fast-hash";\nimport r from "raw-addon";\nexport const x = [h, r];\n');
    const error = await bundleModule(path.join(project, "uses-native.mjs")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    const message = (error as Error).message;
    expect(message).toContain('OP bundle of uses-native.mjs: package "fast-hash" is a native addon (it loads its compiled code through "bindings")');
    expect(message).toContain('package "raw-addon" loads the native addon "./build/Release/raw.node"');
    expect(message).toMatch(/Way out: list the package in the OP template's `externals` option \(it is then installed from package-lock.json into the bundle's directory\), or use installed mode \(`code: "installed"`\)/);
  });

  it("reports a require of a computed name, naming the package", async () => {
    await write(path.join(project, "node_modules", "plugin-loader", "package.json"), JSON.stringify({ name: "plugin-loader", version: "2.0.0", main: "index.js" }));
    await write(path.join(project, "node_modules", "plugin-loader", "index.js"), 'const name = "plugin-" + process.env.KIND;\nmodule.exports = require(name);\n');
    await write(path.join(project, "uses-loader.mjs"), 'import p from "plugin-loader";\nexport const x = p;\n');
    const error = await bundleModule(path.join(project, "uses-loader.mjs")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(/package "plugin-loader" imports a module whose name is computed at run time \(node_modules\/plugin-loader\/index.js:2: module.exports = require\(name\);\)/);
  });

  it("leaves listed externals out of the bundle, and accepts their native code then", async () => {
    const lock = { lockfileVersion: 3, packages: { "": {}, "node_modules/fast-hash": { version: "1.2.3", dependencies: { bindings: "^1.5.0" } }, "node_modules/bindings": { version: "1.5.0" }, "node_modules/raw-addon": { version: "0.1.0" } } };
    await write(path.join(project, "package-lock.json"), JSON.stringify(lock));
    const b = await bundleModule(path.join(project, "uses-native.mjs"), { externals: ["fast-hash", "raw-addon"] });
    expect(b.locked?.packages.map((p) => p.key)).toEqual(["node_modules/bindings", "node_modules/fast-hash", "node_modules/raw-addon"]);
    const text = Buffer.from(b.contents).toString("utf8");
    expect(text).toMatch(/from"fast-hash"/);
    expect(b.externals).toEqual(["fast-hash", "raw-addon"]);
    await expect(bundleModule(path.join(project, "uses-native.mjs"), { externals: ["./local"] })).rejects.toThrow(/externals: "\.\/local" is not an npm package name/);
  });

  it("refuses a module that does not exist, and reports a syntax error with its place", async () => {
    await expect(bundleModule(path.join(project, "nope.ts"))).rejects.toThrow(/OP bundle: module .*nope.ts does not exist/);
    await write(path.join(project, "broken.ts"), "export const x = ;\n");
    await expect(bundleModule(path.join(project, "broken.ts"))).rejects.toThrow(/OP bundle of broken.ts: esbuild failed: broken.ts:1: Unexpected ";"/);
  });
});

describe("packageOf", () => {
  it("names plain and scoped packages from node_modules paths, nothing elsewhere", () => {
    expect(packageOf("/p/node_modules/a/index.js")).toBe("a");
    expect(packageOf("/p/node_modules/@s/b/lib/x.js")).toBe("@s/b");
    expect(packageOf("/p/node_modules/a/node_modules/c/x.js")).toBe("c");
    expect(packageOf("/p/src/x.ts")).toBeUndefined();
  });
});

describe("zodLocalesIndex", () => {
  it("keeps English and turns every other locale into a function naming its own import", async () => {
    const out = zodLocalesIndex('export { default as ar } from "./ar.js";\nexport { default as en } from "./en.js";\nexport { default as zhCN } from "./zh-CN.js";\n');
    expect(out).toContain('export { default as en } from "./en.js";');
    expect(out).not.toContain("./ar.js");
    // The stubs throw, naming the import that brings the locale in.
    const mod = (await import(`data:text/javascript,${encodeURIComponent(out.replace(/^export \{ default as en \}.*$/m, ""))}`)) as Record<string, () => unknown>;
    expect(() => mod["zhCN"]?.()).toThrow('zod locale "zhCN" is not in OP bundles (they keep English only, to stay small): import it by its own path, import zhCN from "zod/v4/locales/zh-CN.js"');
    expect(() => mod["ar"]?.()).toThrow('import ar from "zod/v4/locales/ar.js"');
  });
});
