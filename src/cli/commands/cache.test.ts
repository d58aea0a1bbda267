import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CACHE_DIR_ENV } from "../../bundle/bundle-cache.ts";
import cache from "./cache.ts";

let work: string;
const saved = process.env[CACHE_DIR_ENV];
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "opflow-cli-cache-"));
});
afterAll(async () => {
  if (saved === undefined) delete process.env[CACHE_DIR_ENV];
  else process.env[CACHE_DIR_ENV] = saved;
  await rm(work, { recursive: true, force: true });
});

function capture(): { out: () => string; err: () => string; restore: () => void } {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  const l = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void (out += `${args.join(" ")}\n`));
  return { out: () => out, err: () => err, restore: () => (o.mockRestore(), e.mockRestore(), l.mockRestore()) };
}

describe("opflow cache", () => {
  it("prints the folder and what it holds, and clears it", async () => {
    process.env[CACHE_DIR_ENV] = path.join(work, "c");
    const dir = path.join(work, "c", "bundles");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${"a".repeat(64)}.mjs`), "x".repeat(2048));
    await writeFile(path.join(dir, `${"b".repeat(32)}.json`), "{}");
    await writeFile(path.join(dir, "keep.txt"), "not the cache's");
    const io = capture();
    try {
      expect(await cache.run([])).toBe(0);
      expect(io.out()).toContain(`${dir}\n1 bundle(s), 2.0 KB`);
      expect(await cache.run(["clear"])).toBe(0);
      expect(io.out()).toContain(`removed 2 file(s) from ${dir}`);
      expect(await readdir(dir)).toEqual(["keep.txt"]);
      expect(await cache.run(["dir"])).toBe(0);
      expect(io.out()).toContain("0 bundle(s)");
    } finally {
      io.restore();
    }
  });

  it("uses node_modules/.cache/opflow of the project when OPFLOW_CACHE_DIR is not set", async () => {
    delete process.env[CACHE_DIR_ENV];
    const project = path.join(work, "project");
    await mkdir(path.join(project, "node_modules"), { recursive: true });
    const io = capture();
    try {
      expect(await cache.run(["dir", "--project", project])).toBe(0);
      expect(io.out()).toContain(path.join(project, "node_modules", ".cache", "opflow", "bundles"));
    } finally {
      io.restore();
    }
  });

  it("refuses an unknown action with the usage", async () => {
    const io = capture();
    try {
      expect(await cache.run(["purge"])).toBe(2);
      expect(io.err()).toContain('opflow cache: unknown action "purge": expected dir or clear');
      expect(io.err()).toContain("usage: opflow cache");
      expect(await cache.run(["dir", "clear"])).toBe(2);
    } finally {
      io.restore();
    }
  });
});
