import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { UnsafeArchiveError, checkArchive, packArtifact, unpackArtifact } from "./archive.ts";

let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "opflow-archive-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** One tar entry for {@link tarball}: written with raw ustar headers, so nothing is sanitised. */
interface RawEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "chardev";
  linkname?: string;
  body?: string;
}

function header(entry: RawEntry): Buffer {
  const h = Buffer.alloc(512, 0);
  const body = Buffer.from(entry.body ?? "");
  const put = (value: string, offset: number, length: number): void => {
    h.write(value, offset, Math.min(length, Buffer.byteLength(value)), "utf8");
  };
  const octal = (value: number, offset: number, length: number): void => {
    put(value.toString(8).padStart(length - 1, "0") + "\0", offset, length);
  };
  const flag = { file: "0", hardlink: "1", symlink: "2", chardev: "3", dir: "5" }[entry.type ?? "file"];
  put(entry.name, 0, 100);
  octal(entry.type === "dir" ? 0o755 : 0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(entry.type === "file" || entry.type === undefined ? body.length : 0, 124, 12);
  octal(1_700_000_000, 136, 12);
  h.fill(0x20, 148, 156);
  put(flag, 156, 1);
  put(entry.linkname ?? "", 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

/** A gzip-compressed tarball of raw entries. */
function tarball(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    blocks.push(header(entry));
    const body = Buffer.from(entry.type === "file" || entry.type === undefined ? entry.body ?? "" : "");
    if (body.length > 0) blocks.push(Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      out.push(r);
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), r);
    }
  };
  await walk(root, "");
  return out.sort();
}

describe("packArtifact / unpackArtifact", () => {
  it("round-trips a directory with Argo's layout (one top entry named after the source)", async () => {
    const src = path.join(work, "rt", "model");
    await mkdir(path.join(src, "sub"), { recursive: true });
    await writeFile(path.join(src, "a.txt"), "A");
    await writeFile(path.join(src, "sub", "b.txt"), "B");
    await symlink("../a.txt", path.join(src, "sub", "link"));
    const tgz = path.join(work, "rt", "model.tgz");
    const packed = await packArtifact(src, tgz);
    expect(packed).toMatchObject({ archive: "tar", file: tgz, type: "directory" });
    const dest = path.join(work, "rt", "out", "inputs", "model");
    expect(await unpackArtifact(tgz, dest)).toBe("directory");
    expect(await listTree(dest)).toEqual(["a.txt", "sub", "sub/b.txt", "sub/link"]);
    expect(await readFile(path.join(dest, "sub", "b.txt"), "utf8")).toBe("B");
    expect(await readlink(path.join(dest, "sub", "link"))).toBe("../a.txt");
    expect(await readdir(path.dirname(dest))).toEqual(["model"]);
  });

  it("round-trips a single file, and copies with archive none", async () => {
    const file = path.join(work, "single.txt");
    await writeFile(file, "just me");
    await packArtifact(file, path.join(work, "single.tgz"));
    await unpackArtifact(path.join(work, "single.tgz"), path.join(work, "single-out", "renamed.txt"));
    expect(await readFile(path.join(work, "single-out", "renamed.txt"), "utf8")).toBe("just me");
    await packArtifact(file, path.join(work, "single.raw"), { archive: "none" });
    await unpackArtifact(path.join(work, "single.raw"), path.join(work, "single-raw-out"));
    expect(await readFile(path.join(work, "single-raw-out"), "utf8")).toBe("just me");
    await expect(packArtifact(work, path.join(work, "x"), { archive: "none" })).rejects.toThrow(ValidationError);
  });

  it("extracts an archive with several top entries into a directory, and refuses an existing destination", async () => {
    const tgz = path.join(work, "multi.tgz");
    await writeFile(tgz, tarball([{ name: "one.txt", body: "1" }, { name: "two.txt", body: "2" }]));
    const dest = path.join(work, "multi-out");
    await unpackArtifact(tgz, dest);
    expect(await listTree(dest)).toEqual(["one.txt", "two.txt"]);
    await expect(unpackArtifact(tgz, dest)).rejects.toThrow(/already exists/);
    await unpackArtifact(tgz, dest, { overwrite: true });
    expect(await listTree(dest)).toEqual(["one.txt", "two.txt"]);
  });

  it("treats a gzip file that is not a tarball as a plain artifact in auto mode", async () => {
    const gz = path.join(work, "data.gz");
    await writeFile(gz, gzipSync(Buffer.from("not a tar")));
    expect(await unpackArtifact(gz, path.join(work, "data-out.gz"))).toBe("file");
    await expect(unpackArtifact(gz, path.join(work, "data-out2"), { archive: "tar" })).rejects.toThrow(/cannot be read as a tarball/);
  });
});

describe("tar-slip corpus", () => {
  const outside = (): string => path.join(work, "slip", "outside");
  const corpus: { title: string; entries: () => RawEntry[]; rule: RegExp }[] = [
    { title: "a ../ path", entries: () => [{ name: "../evil.txt", body: "x" }], rule: /'\.\.' segment/ },
    { title: "a ../ hidden inside a path", entries: () => [{ name: "a/../../evil.txt", body: "x" }], rule: /'\.\.' segment/ },
    { title: "an absolute path", entries: () => [{ name: path.join(outside(), "abs.txt"), body: "x" }], rule: /absolute path/ },
    {
      title: "a symlink escaping with ../ then a file written through it",
      entries: () => [
        { name: "link", type: "symlink", linkname: "../../outside" },
        { name: "link/evil.txt", body: "x" },
      ],
      rule: /escapes the destination/,
    },
    {
      title: "a symlink to an absolute path",
      entries: () => [{ name: "link", type: "symlink", linkname: outside() }],
      rule: /absolute path/,
    },
    {
      title: "a chain of in-archive symlinks that escapes (a -> ., b -> a/..)",
      entries: () => [
        { name: "a", type: "symlink", linkname: "." },
        { name: "b", type: "symlink", linkname: "a/.." },
        { name: "b/outside/evil.txt", body: "x" },
      ],
      rule: /escapes the destination/,
    },
    {
      title: "a file written through a symlink that escapes, listed before the link",
      entries: () => [
        { name: "d/evil.txt", body: "x" },
        { name: "d", type: "symlink", linkname: "../.." },
      ],
      rule: /outside the destination|escapes/,
    },
    {
      title: "a hardlink escaping with ../",
      entries: () => [{ name: "hl", type: "hardlink", linkname: "../../outside/secret.txt" }],
      rule: /escapes the destination/,
    },
    {
      title: "a hardlink to an absolute path",
      entries: () => [{ name: "hl", type: "hardlink", linkname: "/etc/passwd" }],
      rule: /absolute path/,
    },
    {
      title: "a hardlink through an escaping symlink",
      entries: () => [
        { name: "up", type: "symlink", linkname: ".." },
        { name: "hl", type: "hardlink", linkname: "up/up/outside/secret.txt" },
      ],
      rule: /escapes the destination/,
    },
    {
      title: "a link that stays in the archive but leaves its single top-level folder (promoted to the destination)",
      entries: () => [
        { name: "art/", type: "dir" },
        { name: "art/x", type: "symlink", linkname: "../secret.txt" },
      ],
      rule: /escapes the destination/,
    },
    {
      title: "a single top-level entry that is a symbolic link",
      entries: () => [{ name: "art", type: "symlink", linkname: "elsewhere" }],
      rule: /escapes the destination|single top-level entry is a symbolic link/,
    },
    { title: "a character device", entries: () => [{ name: "tty", type: "chardev" }], rule: /CharacterDevice is not allowed/ },
  ];

  for (const item of corpus) {
    it(`rejects ${item.title} and writes nothing`, async () => {
      const base = path.join(work, "slip");
      await rm(base, { recursive: true, force: true });
      await mkdir(outside(), { recursive: true });
      await writeFile(path.join(outside(), "secret.txt"), "secret");
      const tgz = path.join(base, "evil.tgz");
      await writeFile(tgz, tarball(item.entries()));
      const dest = path.join(base, "dest", "artifact");
      const err = await unpackArtifact(tgz, dest).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsafeArchiveError);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toMatch(item.rule);
      expect((err as Error).message).toContain("nothing was extracted");
      await expect(checkArchive(tgz)).rejects.toThrow(UnsafeArchiveError);
      // Nothing outside changed, nothing was created at or beside the destination.
      expect(await listTree(outside())).toEqual(["secret.txt"]);
      expect(await readFile(path.join(outside(), "secret.txt"), "utf8")).toBe("secret");
      expect((await listTree(base)).sort()).toEqual(["evil.tgz", "outside", "outside/secret.txt"]);
      await expect(lstat(path.join(work, "evil.txt"))).rejects.toThrow();
    });
  }
});
