/**
 * The catalog of a list or record artifact (dflow records one for every list or dict
 * artifact): where each item lies inside the artifact, as relative paths. The OP runner writes
 * it as an output parameter beside the artifact, `opflow-catalog-<artifact>`, so that the
 * manifest can address one item (`art.at(i)`, `art.key("k")`: Argo's artifact `subPath`) and
 * slice over the list without being told its length (`withParam` over the catalog).
 *
 * - a list: a JSON list of the items' paths, in order: `["0/a.txt", "1/b.txt"]`;
 * - a record: a JSON object of the entries' paths: `{"train": "train/data.csv"}`;
 * - a nested artifact: the same tree as its value, each leaf's path in place:
 *   `{"model": {"weights": "model/weights/w.bin"}, "frames": ["frames/0/a.png"]}`.
 */

/** Prefix of the output parameter holding an artifact's catalog. */
export const CATALOG_PARAMETER_PREFIX = "opflow-catalog-";

/** The output parameter holding the catalog of output artifact `name`. */
export function catalogParameter(name: string): string {
  return `${CATALOG_PARAMETER_PREFIX}${name}`;
}

/** The catalog of an artifact not produced (an optional output left out): empty. */
export function emptyCatalog(shape: "list" | "record" | "nested", layout?: unknown): string {
  return shape === "list" || (shape === "nested" && Array.isArray(layout)) ? "[]" : "{}";
}
