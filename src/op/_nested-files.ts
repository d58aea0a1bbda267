/**
 * Nested artifacts on disk (see `expr/nested-layout.ts`): the OP runner writes an output's
 * tree as level directories, each with its `.opflow-level` marker, and the leaves in folders of
 * one entry; it reads an input's tree back from the directory, by the markers or, where they
 * are missing (a script wrote the tree), by the declared layout.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ValidationError } from "../errors.ts";
import { LEVEL_MARKER, type NestedLayout, type NestedPaths, checkNestedKey } from "../expr/nested-layout.ts";
import { pathExists } from "../files.ts";

/** Copies the file or directory given as a leaf to its place; gives its absolute source path. */
export type PlaceLeaf = (given: string, slot: string, dest: string) => Promise<string>;

/**
 * Writes `value` under `root` (a fresh directory): levels as `<key>/…` and `<index>/…` with
 * their markers, leaves as `<slot>/<basename>`. Gives the catalog: the same tree with each
 * leaf's path relative to `root`.
 */
export async function writeNested(root: string, value: NestedPaths, layout: NestedLayout | undefined, place: PlaceLeaf, rel = ""): Promise<NestedPaths> {
  const slot = rel || ".";
  if (typeof value === "string") {
    const src = await place(value, slot, path.join(root, rel));
    return `${rel}/${path.basename(src)}`;
  }
  const dir = path.join(root, rel);
  await fs.mkdir(dir, { recursive: true });
  const join = (k: string): string => (rel ? `${rel}/${k}` : k);
  if (Array.isArray(value)) {
    await fs.writeFile(path.join(dir, LEVEL_MARKER), "list");
    const item = Array.isArray(layout) ? (layout as readonly [NestedLayout])[0] : undefined;
    const out: NestedPaths[] = [];
    for (let i = 0; i < value.length; i++) out.push(await writeNested(root, value[i] as NestedPaths, item, place, join(String(i))));
    return out;
  }
  await fs.writeFile(path.join(dir, LEVEL_MARKER), "record");
  const out: Record<string, NestedPaths> = {};
  for (const [k, v] of Object.entries(value)) {
    checkNestedKey(k, `output artifact level "${slot}"`);
    const below = layout && typeof layout === "object" && !Array.isArray(layout) ? (layout as Record<string, NestedLayout>)[k] : undefined;
    out[k] = await writeNested(root, v, below, place, join(k));
  }
  return out;
}

/**
 * Reads the tree of a nested artifact from `dir`. `oneEntry` gives the one entry of a leaf's
 * folder. `what` names the artifact in messages.
 */
export async function readNested(dir: string, layout: NestedLayout | undefined, oneEntry: (folder: string, what: string) => Promise<string>, what: string, rel = ""): Promise<NestedPaths> {
  const here = rel ? `${what} at "${rel.split("/").join(".")}"` : what;
  if (layout === "path") return oneEntry(dir, here);
  const marker = path.join(dir, LEVEL_MARKER);
  let kind: string | undefined = (await pathExists(marker)) ? (await fs.readFile(marker, "utf8")).trim() : undefined;
  if (kind === undefined && layout !== undefined) kind = Array.isArray(layout) ? "list" : "record";
  if (kind === undefined) {
    if (!rel) throw new ValidationError(`${what}: ${dir} is not a nested artifact: it has no ${LEVEL_MARKER} marker and the input declares no layout`);
    return oneEntry(dir, here);
  }
  if (layout !== undefined && kind !== (Array.isArray(layout) ? "list" : "record")) {
    throw new ValidationError(`${here}: the layout declares a ${Array.isArray(layout) ? "list" : "record"}, the artifact holds a ${kind}`);
  }
  let entries: string[];
  try {
    entries = (await fs.readdir(dir)).filter((e) => !e.startsWith("."));
  } catch {
    throw new ValidationError(`${here} is missing (${dir})`);
  }
  const sub = (k: string): string => (rel ? `${rel}/${k}` : k);
  if (kind === "list") {
    const item = Array.isArray(layout) ? (layout as readonly [NestedLayout])[0] : undefined;
    const indices = entries.filter((e) => /^\d+$/.test(e)).sort((a, b) => Number(a) - Number(b));
    return Promise.all(indices.map((i) => readNested(path.join(dir, i), item, oneEntry, what, sub(i))));
  }
  if (kind !== "record") throw new ValidationError(`${here}: ${LEVEL_MARKER} says ${JSON.stringify(kind)}; expected "list" or "record"`);
  const declared = layout && typeof layout === "object" && !Array.isArray(layout) ? (layout as Record<string, NestedLayout>) : undefined;
  const keys = declared ? Object.keys(declared) : entries.sort();
  const out: Record<string, NestedPaths> = {};
  for (const k of keys) {
    if (declared && !entries.includes(k)) throw new ValidationError(`${here}: key "${k}" is missing (the layout declares ${keys.join(", ")})`);
    out[k] = await readNested(path.join(dir, k), declared?.[k], oneEntry, what, sub(k));
  }
  return out;
}
