import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseJoinedParts, readJoinedList } from "./joined-list.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function layout(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-joined-list-"));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), text);
  }
  return dir;
}

describe("reading a list joined from lists", () => {
  it("flattens the parts in order: single paths, lists by index, lists by catalog (null items left out)", async () => {
    const dir = await layout({
      "0/10/b.txt": "", // index order is numeric: 2 before 10
      "0/2/a.txt": "",
      "1/model": "",
      "2/x/0/c.txt": "",
      "2/x/1/d.txt": "",
    });
    const got = await readJoinedList("files", dir, parseJoinedParts("files", JSON.stringify(["list", "path", ["x/1/d.txt", null, "x/0/c.txt"], "list"])));
    expect(got.map((p) => path.relative(dir, p))).toEqual(["0/2/a.txt", "0/10/b.txt", "1/model", "2/x/1/d.txt", "2/x/0/c.txt"]);
  });

  it("refuses a bad description and a layout that does not match it, naming the input and the part", async () => {
    expect(() => parseJoinedParts("files", "nope")).toThrow(/joined list input "files": parameter "opflow-join-files" must be a JSON list, got "nope"/);
    expect(() => parseJoinedParts("files", '{"a":1}')).toThrow(/must be a JSON list/);
    expect(() => parseJoinedParts("files", '["path", 3]')).toThrow(/joined list input "files": part 1 must be "path", "list" or a catalog \(a list of relative paths\), got 3/);
    expect(() => parseJoinedParts("files", '[["../etc/passwd"]]')).toThrow(/part 0 must be/);
    const dir = await layout({ "0/a": "", "0/b": "", "1/0/c": "" });
    await expect(readJoinedList("files", dir, ["path"])).rejects.toThrow(/joined list input "files": part 0 must hold exactly one entry, has 2/);
    await expect(readJoinedList("files", dir, [["a"], ["0/gone"]])).rejects.toThrow(/joined list input "files": part 1: item 0 of its catalog, "0\/gone", is missing/);
    const items = await layout({ "0/0/a": "", "0/1/b": "", "0/1/c": "" });
    await expect(readJoinedList("files", items, ["list"])).rejects.toThrow(/joined list input "files": part 0, item 1 must hold exactly one entry, has 2/);
    await expect(readJoinedList("files", items, ["path", "path"])).rejects.toThrow(/joined list input "files": part 0 must hold exactly one entry, has 2/);
  });

  it("takes a list part that never arrived (an empty list) as no items", async () => {
    const dir = await layout({ "1/m": "" });
    expect((await readJoinedList("files", dir, ["list", "path", [], "list"])).map((p) => path.relative(dir, p))).toEqual(["1/m"]);
  });
});
