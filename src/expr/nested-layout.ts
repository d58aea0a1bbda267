/**
 * Nested artifacts (dflow's `NestedDict[Path]` and nested lists of dicts): records and lists
 * of paths to any depth. Their layout may be declared (`artifact.nested({ a: { b: "path" } })`)
 * so that `execute`'s value and every address (`key("a.b")`, `at(i)`) are typed; left out,
 * the tree is any nesting of records and lists with paths at the leaves.
 *
 * Inside the artifact a record level is a directory of `<key>/…`, a list level one of
 * `<index>/…`, and each level directory holds a marker file, `.opflow-level`, saying which it
 * is (`record` or `list`): any part of the tree is a nested artifact of its own. A leaf is a
 * folder holding exactly one entry, the file or directory given.
 */
import { ValidationError } from "../errors.ts";

/**
 * The layout of one level of a nested artifact: `"path"` (a leaf: one file or directory), a
 * one-element list `[L]` (a list whose items are laid out as `L`), or a record of fixed keys.
 */
export type NestedLayout = "path" | readonly [NestedLayout] | { readonly [key: string]: NestedLayout };

/** The layout of a whole nested artifact: a list or a record (a single path is `artifact()`). */
export type NestedRootLayout = readonly [NestedLayout] | { readonly [key: string]: NestedLayout };

/** Phantom layout of a nested artifact whose layout was not declared: any tree. */
export interface NestedTree {
  readonly __nestedTree: true;
}

/** A tree of paths: what a nested artifact of undeclared layout holds at any level. */
export type NestedPaths = string | NestedPaths[] | { [key: string]: NestedPaths };

/** Run-time value of a nested artifact laid out as `L`: absolute paths at the leaves. */
export type NestedValue<L> = [L] extends [NestedTree]
  ? NestedPaths[] | { [key: string]: NestedPaths }
  : L extends "path"
    ? string
    : L extends readonly [infer I]
      ? NestedValue<I>[]
      : { -readonly [K in keyof L]: NestedValue<L[K]> };

/** Layout of level `K` (a record key or, on a list level, an index) below `L`. */
type Below<L, K extends string> = [L] extends [NestedTree]
  ? NestedTree
  : L extends readonly [infer I]
    ? K extends `${number}`
      ? I
      : never
    : K extends keyof L
      ? L[K]
      : never;

/** Layout reached by the dotted path `P` from `L`. */
export type NestedAt<L, P extends string> = P extends `${infer H}.${infer R}` ? NestedAt<Below<L, H>, R> : Below<L, P>;

/** Dotted paths (`"a.b"`, `"runs.0.x"`) that may follow a record level `L`. */
export type NestedKeys<L> = [L] extends [NestedTree]
  ? string
  : L extends "path" | readonly unknown[]
    ? never
    : { [K in keyof L & string]: K | `${K}.${NestedSubKeys<L[K]>}` }[keyof L & string];

type NestedSubKeys<L> = L extends readonly [infer I] ? `${number}` | `${number}.${NestedSubKeys<I>}` : NestedKeys<L>;

/** The marker file of a level directory: `record` or `list`. */
export const LEVEL_MARKER = ".opflow-level";

const KEY_RULE = 'a record key of a nested artifact is a plain name: not empty, no "/", no "." (dotted paths address levels), not ".."';

/** Throws unless `key` may name an entry of a nested record level. */
export function checkNestedKey(key: string, where: string): void {
  if (typeof key !== "string" || !key || key.includes("/") || key.includes("\\") || key.includes(".") || key === "..") {
    throw new ValidationError(`${where}: ${KEY_RULE}; got ${JSON.stringify(key)}`);
  }
}

/** Checks a declared layout (`artifact.nested(layout)`); returns it. */
export function checkNestedLayout(layout: unknown, where = "artifact.nested()", root = true): NestedLayout {
  if (layout === "path") {
    if (root) throw new ValidationError(`${where}: the layout's top level is a list ([…]) or a record ({…}); a single path is artifact()`);
    return layout;
  }
  if (Array.isArray(layout)) {
    if (layout.length !== 1) throw new ValidationError(`${where}: a list level is written [layout of its items], with one element; got ${layout.length}`);
    checkNestedLayout(layout[0], `${where}[0]`, false);
    return layout as unknown as NestedLayout;
  }
  if (typeof layout === "object" && layout !== null) {
    const keys = Object.keys(layout);
    if (!keys.length) throw new ValidationError(`${where}: a record level needs at least one key`);
    for (const k of keys) {
      checkNestedKey(k, where);
      checkNestedLayout((layout as Record<string, unknown>)[k], `${where}.${k}`, false);
    }
    return layout as NestedLayout;
  }
  throw new ValidationError(`${where}: a layout level is "path", [layout] or { key: layout }; got ${JSON.stringify(layout)}`);
}

/** One step down a nested artifact: a record key, or a list index (negative from the end). */
export type NestedSegment = string | number;

/**
 * Splits a dotted key (`"a.b"`, `"runs.0.x"`) into its segments; integers address list levels.
 * Throws, naming `where`, for an empty segment, `..` or `/`.
 */
export function splitNestedKey(key: string, where: string): NestedSegment[] {
  if (typeof key !== "string" || !key) throw new ValidationError(`${where}: key() takes a record key or a dotted path ("a.b"), got ${JSON.stringify(key)}`);
  if (key.includes("/") || key.includes("\\") || key.split(".").some((s) => s === "")) {
    throw new ValidationError(`${where}: key() takes a record key or a dotted path ("a.b") without "/", ".." or empty parts, got ${JSON.stringify(key)}`);
  }
  return key.split(".").map((s) => (/^-?\d+$/.test(s) ? Number(s) : s));
}

/** The layout one segment below `layout` (`undefined`: an undeclared tree), or a message why none. */
export function layoutBelow(layout: NestedLayout | undefined, segment: NestedSegment | "index"): NestedLayout | undefined | { error: string } {
  if (layout === undefined) return undefined;
  if (layout === "path") return { error: "a leaf (a single path) has no levels below it" };
  if (Array.isArray(layout)) {
    if (typeof segment === "string" && segment !== "index") return { error: `a list level is addressed by index, not by key ${JSON.stringify(segment)}` };
    return (layout as readonly [NestedLayout])[0];
  }
  if (typeof segment !== "string" || segment === "index") return { error: `a record level is addressed by key, not by index${typeof segment === "number" ? ` ${segment}` : ""}` };
  const below = (layout as Record<string, NestedLayout>)[segment];
  if (below === undefined) return { error: `the record level has no key ${JSON.stringify(segment)} (keys: ${Object.keys(layout).join(", ")})` };
  return below;
}

/** The catalog of a nested artifact: the same tree, with each leaf's path relative to the artifact. */
export type NestedCatalog = NestedPaths;

/** Checks a value against a declared layout (`undefined`: any tree); throws naming the place. */
export function checkNestedValue(value: unknown, layout: NestedLayout | undefined, where: string): void {
  if (layout === "path" || (layout === undefined && typeof value === "string")) {
    if (typeof value !== "string") throw new ValidationError(`${where}: expects a path (string), got ${describe(value)}`);
    return;
  }
  if (Array.isArray(layout) || (layout === undefined && Array.isArray(value))) {
    if (!Array.isArray(value)) throw new ValidationError(`${where}: expects a list, got ${describe(value)}`);
    value.forEach((v, i) => checkNestedValue(v, layout === undefined ? undefined : (layout as readonly [NestedLayout])[0], `${where}[${i}]`));
    return;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ValidationError(`${where}: expects a record, got ${describe(value)}`);
  for (const [k, v] of Object.entries(value)) {
    checkNestedKey(k, where);
    const below = layout === undefined ? undefined : (layout as Record<string, NestedLayout>)[k];
    if (layout !== undefined && below === undefined) throw new ValidationError(`${where}: unexpected key ${JSON.stringify(k)} (the layout has ${Object.keys(layout).join(", ")})`);
    checkNestedValue(v, below, `${where}.${k}`);
  }
  if (layout !== undefined) {
    for (const k of Object.keys(layout)) if (!(k in value)) throw new ValidationError(`${where}: key ${JSON.stringify(k)} is missing`);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return JSON.stringify(v);
  return typeof v === "object" ? "a record" : `${typeof v} ${String(v)}`;
}
