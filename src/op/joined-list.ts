/**
 * A list input joined from parts that are themselves lists (dflow's `artifacts={"x": [l1, l2]}`
 * with list artifacts): every part arrives in its own folder, `<input>/<part>/`, a single path
 * as `<input>/<part>/<entry>` and a list as `<input>/<part>/<item>/<entry>` (or where its
 * catalog says). The step tells the runner which part is which through the input parameter
 * `opflow-join-<input>`, a JSON list with one element per part:
 *
 * - `"path"`: a single path, the one entry of the part's folder;
 * - `"list"`: a list without a catalog, read by its index layout (`<item>/<entry>`, in index order);
 * - a list of relative paths: a list's catalog (`op/catalog.ts`), the items in that order
 *   (`null` entries, items a sliced step did not produce, are left out).
 *
 * The OP sees one flat list: the parts in order, each list's items in order.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ValidationError } from "../errors.ts";
import { pathExists } from "../files.ts";
import { onlyEntry } from "./_item-entry.ts";

/** Prefix of the input parameter describing a joined list input's parts. */
export const JOIN_PARAMETER_PREFIX = "opflow-join-";

/** The input parameter describing the parts of the joined list input `input`. */
export function joinParameter(input: string): string {
  return `${JOIN_PARAMETER_PREFIX}${input}`;
}

/** What one part of a joined list input is (see the module comment). */
export type JoinedPart = "path" | "list" | readonly (string | null)[];

/** Parses the value of a join parameter, naming the input in errors. */
export function parseJoinedParts(input: string, text: string): JoinedPart[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError(`joined list input "${input}": parameter "${joinParameter(input)}" must be a JSON list, got ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (!Array.isArray(value)) throw new ValidationError(`joined list input "${input}": parameter "${joinParameter(input)}" must be a JSON list, got ${JSON.stringify(text.slice(0, 80))}`);
  return value.map((p: unknown, i) => {
    if (p === "path" || p === "list") return p;
    if (Array.isArray(p) && p.every((x) => x === null || (typeof x === "string" && x !== "" && !x.startsWith("/") && !x.split("/").includes("..")))) return p as (string | null)[];
    throw new ValidationError(`joined list input "${input}": part ${i} must be "path", "list" or a catalog (a list of relative paths), got ${JSON.stringify(p)}`);
  });
}

/** The paths of a joined list input laid out under `dir`, in part order then item order. */
export async function readJoinedList(input: string, dir: string, parts: readonly JoinedPart[]): Promise<string[]> {
  const out: string[] = [];
  for (const [i, part] of parts.entries()) {
    const partDir = path.join(dir, String(i));
    const what = `joined list input "${input}": part ${i}`;
    if (part === "path") {
      out.push(await onlyEntry(partDir, what));
      continue;
    }
    // A list produced empty (or an optional output left out) may arrive as no folder at all.
    if (!(await pathExists(partDir))) continue;
    if (part === "list") {
      const indices = (await fs.readdir(partDir)).filter((e) => /^\d+$/.test(e)).sort((a, b) => Number(a) - Number(b));
      for (const x of indices) out.push(await onlyEntry(path.join(partDir, x), `${what}, item ${x}`));
      continue;
    }
    for (const [k, rel] of part.entries()) {
      if (rel === null) continue;
      const item = path.join(partDir, rel);
      if (!(await pathExists(item))) throw new ValidationError(`${what}: item ${k} of its catalog, ${JSON.stringify(rel)}, is missing (${item})`);
      out.push(item);
    }
  }
  return out;
}
