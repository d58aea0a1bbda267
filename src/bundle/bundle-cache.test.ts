import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bundleModule, cachedBundle } from "./bundle.ts";
import { CACHE_DIR_ENV, bundleCacheDir, cacheRoot, clearBundleCache, lookupBundle } from "./bundle-cache.ts";

const repo = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const FROM_SOURCES = true; // these tests run from opflow's TypeScript sources

/** A scratch folder inside the repository (so that `@opflow/core` resolves), removed after. */
let scratch: string;
let cacheDir: string;
const savedEnv = process.env[CACHE_DIR_ENV];

const OP_SOURCE = (greeting: string): string => `
import { z } from "zod";
import { defineOp, param } from "@opflow/core";
export const greet = defineOp({
  name: "greet",
  inputs: { who: param(z.string()) },
  outputs: { text: param(z.string()) },
  async execute({ who }) { return { text: \`${greeting}, \${who}\` }; },
});
`;

const keyOf = (module: string) => ({ module, externals: [], minify: true, fromSources: FROM_SOURCES });

beforeAll(async () => {
  await fs.mkdir(path.join(repo, ".opflow"), { recursive: true });
  scratch = await fs.mkdtemp(path.join(repo, ".opflow", "bundle-cache-test-"));
});

beforeEach(async () => {
  // A cold cache for each test.
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-cache-"));
  process.env[CACHE_DIR_ENV] = cacheDir;
});

afterAll(async () => {
  if (savedEnv === undefined) delete process.env[CACHE_DIR_ENV];
  else process.env[CACHE_DIR_ENV] = savedEnv;
  await fs.rm(scratch, { recursive: true, force: true });
});

async function moduleFile(name: string, greeting: string): Promise<string> {
  const file = path.join(scratch, name, "ops.ts");
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, OP_SOURCE(greeting));
  return file;
}

describe("the bundle cache", () => {
  it("lives in $OPFLOW_CACHE_DIR/bundles, else in node_modules/.cache/opflow, else the user's cache folder", async () => {
    expect(bundleCacheDir(path.join(repo, "examples", "hello.ts"))).toBe(path.join(cacheDir, "bundles"));
    delete process.env[CACHE_DIR_ENV];
    expect(cacheRoot(path.join(repo, "examples"))).toBe(path.join(repo, "node_modules", ".cache", "opflow"));
    const bare = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-no-node-modules-"));
    try {
      const root = cacheRoot(bare);
      expect(root.endsWith(path.join("", "opflow")) || root.endsWith(path.join("opflow", "Cache"))).toBe(true);
      expect(root.includes("node_modules")).toBe(false);
    } finally {
      await fs.rm(bare, { recursive: true, force: true });
    }
  });

  it("gives back the same bytes while no input changed, and a new bundle when one did", async () => {
    const file = await moduleFile("change", "Hello");
    expect(lookupBundle(keyOf(file))).toBeUndefined(); // cold
    const first = await bundleModule(file);
    const hit = lookupBundle(keyOf(file));
    expect(hit?.hash).toBe(first.hash);
    expect(Buffer.from(hit?.contents ?? []).equals(Buffer.from(first.contents))).toBe(true);
    // Touched but not changed (a checkout): still a hit.
    const later = new Date(Date.now() + 5000);
    await fs.utimes(file, later, later);
    expect(lookupBundle(keyOf(file))?.hash).toBe(first.hash);
    // Changed: a miss, and a new bundle.
    await fs.writeFile(file, OP_SOURCE("Bonjour"));
    expect(lookupBundle(keyOf(file))).toBeUndefined();
    expect(cachedBundle(file)).toBeUndefined();
    const changed = await bundleModule(file);
    expect(changed.hash).not.toBe(first.hash);
    expect(lookupBundle(keyOf(file))?.hash).toBe(changed.hash);
    // Undone: the first bundle again, from the cache.
    await fs.writeFile(file, OP_SOURCE("Hello"));
    expect(lookupBundle(keyOf(file))?.hash).toBe(first.hash);
  });

  it("does not trust the size and time of a file changed within the clock tick of its bundle", async () => {
    const file = await moduleFile("racy", "Hej");
    const tick = new Date();
    await fs.utimes(file, tick, tick);
    const first = await bundleModule(file);
    // The same size and the same modification time, other content: only the content tells.
    await fs.writeFile(file, OP_SOURCE("Hoi"));
    await fs.utimes(file, tick, tick);
    expect(lookupBundle(keyOf(file))).toBeUndefined();
    expect((await bundleModule(file)).hash).not.toBe(first.hash);
  });

  it("misses when a new file appears beside an input (it could change what an import resolves to)", async () => {
    const file = await moduleFile("listing", "Hi");
    await bundleModule(file);
    expect(lookupBundle(keyOf(file))).toBeDefined();
    await fs.writeFile(path.join(path.dirname(file), "util.ts"), "export const x = 1;\n");
    expect(lookupBundle(keyOf(file))).toBeUndefined();
  });

  it("never uses a corrupt entry or object: it bundles again and repairs the cache", async () => {
    const file = await moduleFile("corrupt", "Salut");
    const good = await bundleModule(file);
    const dir = bundleCacheDir(file);
    const names = await fs.readdir(dir);
    const object = names.find((n) => n.endsWith(".mjs")) as string;
    const entry = names.find((n) => n.endsWith(".json")) as string;
    // Bytes that do not match their recorded hash.
    await fs.writeFile(path.join(dir, object), "export {}; // not the bundle\n");
    expect(lookupBundle(keyOf(file))).toBeUndefined();
    const again = await bundleModule(file, { cache: false });
    expect(again.hash).toBe(good.hash);
    expect(lookupBundle(keyOf(file))?.hash).toBe(good.hash);
    // A torn entry.
    const text = await fs.readFile(path.join(dir, entry), "utf8");
    await fs.writeFile(path.join(dir, entry), text.slice(0, text.length / 2));
    expect(lookupBundle(keyOf(file))).toBeUndefined();
    // An entry whose recorded hash was tampered with.
    await fs.writeFile(path.join(dir, entry), text.replace(/"contents":"[0-9a-f]{64}"/, `"contents":"${"0".repeat(64)}"`));
    expect(lookupBundle(keyOf(file))).toBeUndefined();
    await bundleModule(file, { cache: false });
    expect(lookupBundle(keyOf(file))?.hash).toBe(good.hash);
    expect((await fs.readdir(dir)).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("is shared by processes: a bundle made by one is found by the next, bundling at once corrupts nothing", async () => {
    const file = await moduleFile("processes", "Hallo");
    const script = `import { bundleModuleSync } from ${JSON.stringify(path.join(repo, "src", "bundle", "bundle-sync.ts"))}; process.stdout.write(bundleModuleSync(${JSON.stringify(file)}).hash);`;
    const runner = path.join(repo, "bin", "run-ts.mjs");
    const scriptFile = path.join(scratch, "processes", "bundle-once.ts");
    await fs.writeFile(scriptFile, script);
    // Two processes at once, both cold: both bundle and write the same entry.
    const spawnOne = () =>
      new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [runner, scriptFile], { encoding: "utf8", env: { ...process.env, [CACHE_DIR_ENV]: cacheDir } }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}: ${stderr}`));
          else resolve(stdout.trim());
        });
      });
    const hashes = await Promise.all([spawnOne(), spawnOne()]);
    expect(hashes[0]).toMatch(/^[0-9a-f]{20}$/);
    expect(hashes[1]).toBe(hashes[0]);
    expect(lookupBundle(keyOf(file))?.hash).toBe(hashes[0]);
    expect((await fs.readdir(bundleCacheDir(file))).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("keeps the last four bundles of a module, and drops the bytes of older ones", async () => {
    const file = await moduleFile("kept", "v0");
    const hashes: string[] = [];
    for (const v of ["v0", "v1", "v2", "v3", "v4"]) {
      await fs.writeFile(file, OP_SOURCE(v));
      hashes.push((await bundleModule(file)).hash);
    }
    const objects = (await fs.readdir(bundleCacheDir(file))).filter((n) => n.endsWith(".mjs"));
    expect(objects).toHaveLength(4);
    await fs.writeFile(file, OP_SOURCE("v1"));
    expect(lookupBundle(keyOf(file))?.hash).toBe(hashes[1]);
    await fs.writeFile(file, OP_SOURCE("v0"));
    expect(lookupBundle(keyOf(file))).toBeUndefined();
  });

  it("is emptied by clearBundleCache, and a missing folder is no error", async () => {
    const file = await moduleFile("clear", "Ciao");
    await bundleModule(file);
    const dir = bundleCacheDir(file);
    expect(clearBundleCache(dir)).toBeGreaterThanOrEqual(2);
    expect(await fs.readdir(dir)).toEqual([]);
    expect(lookupBundle(keyOf(file))).toBeUndefined();
    expect(clearBundleCache(path.join(dir, "no-such-folder"))).toBe(0);
  });
});
