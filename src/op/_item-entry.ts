/**
 * The one entry of a list item's or record entry's folder (`<artifact>/<slot>/<entry>`), the
 * layout the runner writes list, record and joined artifacts in.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ValidationError } from "../errors.ts";

/**
 * The path of the one entry in `itemDir`; opflow's own entries (`.opflow…`: temporaries, level
 * markers) do not count.
 * @throws ValidationError naming `what` when the folder is missing or holds no or several entries
 */
export async function onlyEntry(itemDir: string, what: string): Promise<string> {
  let entries: string[];
  try {
    entries = (await fs.readdir(itemDir)).filter((e) => !e.startsWith(".opflow"));
  } catch {
    throw new ValidationError(`${what} is missing (${itemDir})`);
  }
  if (entries.length !== 1) throw new ValidationError(`${what} must hold exactly one entry, has ${entries.length} (${itemDir})`);
  return path.join(itemDir, entries[0] as string);
}
