/**
 * Typed references to Argo variables: template inputs, step/task outputs, `item`, workflow
 * parameters. A reference knows where it points; the compiler decides how it renders in the
 * template where it is used (and rejects it where it is out of scope).
 */
import { MISSING_PART_PREFIX } from "../contract.ts";
import { CompileError, ValidationError } from "../errors.ts";
import { type NestedAt, type NestedKeys, type NestedLayout, type NestedSegment, type NestedTree, layoutBelow, splitNestedKey } from "./nested-layout.ts";
import { Expr, type RenderContext, VarRef, type ValueKind, type Variable, at as atIndex, quoteString } from "./tree.ts";

/** Shape of an artifact (see `op/signature.ts`). */
export type RefArtifactShape = "path" | "list" | "record" | "nested";

/** Phantom value type of an artifact reference. */
export interface ArtifactHandle<K extends RefArtifactShape = RefArtifactShape> {
  readonly __artifact: K;
}

/** A reference to a parameter-like value of type T. */
export type ParamRef<T> = VarRef<T>;

/** Something that owns inputs: a template. */
export interface RefOwner {
  readonly name: string;
}

/** Something that produces outputs: a step or a task. */
export interface RefProducer {
  readonly name: string;
  /** `steps` for a Step, `tasks` for a DAG Task. */
  readonly scope: "steps" | "tasks";
  /** The template (Steps/DAG) the producer was added to, once added. */
  readonly parentTemplate: RefOwner | undefined;
}

/** Where a reference points. */
export type RefSource =
  | { readonly type: "input"; readonly owner: RefOwner; readonly io: "parameters" | "artifacts"; readonly name: string }
  | {
      readonly type: "output";
      readonly producer: RefProducer;
      readonly io: "parameters" | "artifacts" | "result" | "exitCode" | "status" | "id";
      readonly name?: string;
    }
  | { readonly type: "workflow"; readonly path: readonly string[] }
  | { readonly type: "item"; readonly path: readonly string[] };

/** A variable with a known source. */
export interface SourcedVariable extends Variable {
  readonly source: RefSource;
}

/** The Argo path of a reference source, as written in its own template. */
export function sourcePath(source: RefSource): string[] {
  switch (source.type) {
    case "input":
      return ["inputs", source.io, source.name];
    case "output":
      // Argo's node references: `steps.x.exitCode` (no `outputs.` before it), `steps.x.outputs.result`.
      if (source.io === "status" || source.io === "id" || source.io === "exitCode") return [source.producer.scope, source.producer.name, source.io];
      if (source.io === "result") return [source.producer.scope, source.producer.name, "outputs", source.io];
      return [source.producer.scope, source.producer.name, "outputs", source.io, source.name as string];
    case "workflow":
      return ["workflow", ...source.path];
    case "item":
      return ["item", ...source.path];
  }
}

function describeSource(source: RefSource): string {
  switch (source.type) {
    case "input":
      return `input ${source.io === "parameters" ? "parameter" : "artifact"} "${source.name}" of template "${source.owner.name}"`;
    case "output":
      return `${source.io === "parameters" || source.io === "artifacts" ? `output ${source.io.slice(0, -1)} "${source.name}"` : source.io} of ${source.producer.scope === "steps" ? "step" : "task"} "${source.producer.name}"`;
    case "workflow":
      return `workflow.${source.path.join(".")}`;
    case "item":
      return ["item", ...source.path].join(".");
  }
}

/** Makes a variable for a source. */
export function variableOf(source: RefSource, kind: ValueKind): SourcedVariable {
  return {
    source,
    kind,
    resolve: () => sourcePath(source),
    describe: () => describeSource(source),
  };
}

/** A typed reference to a parameter-like value. */
export function paramRef<T>(source: RefSource, kind: ValueKind): ParamRef<T> {
  return new VarRef<T>(variableOf(source, kind));
}

/** A reference to an artifact of shape K. */
export class ArtifactRef<K extends RefArtifactShape = RefArtifactShape> extends VarRef<ArtifactHandle<K>> {
  /**
   * The artifact's catalog (a list's or record's item paths, `op/catalog.ts`), when its
   * producer records one: an output of an OP template.
   */
  readonly catalog: Expr<unknown> | undefined;
  /**
   * Why the artifact's items cannot be addressed at all (`at`, `key`), when they cannot: e.g.
   * the output of a looped step, which Argo does not gather into one artifact.
   */
  readonly unaddressable: string | undefined;

  constructor(
    readonly source: RefSource,
    readonly shape: K,
    catalog?: Expr<unknown>,
    unaddressable?: string,
  ) {
    super(variableOf(source, "unknown"));
    this.catalog = catalog;
    this.unaddressable = unaddressable;
  }

  /**
   * The file or directory at `relPath` inside this artifact (Argo's artifact `subPath`), as a
   * single-path artifact for a step's or task's arguments. Only what is needed is fetched.
   *
   * @example
   * new Step("plot", plotT, { artifacts: { data: train.outputs.artifacts.run.subPath("metrics/loss.csv") } })
   */
  subPath(relPath: string): ArtifactPart {
    return new ArtifactPart(this, relPath);
  }

  /**
   * Item `index` of a list artifact (dflow's `art[i]`), as a single-path artifact: exactly the
   * file or directory the producer listed there, read from the artifact's catalog at run time
   * (Argo's artifact `subPath`). Negative indices count from the end.
   *
   * Where no catalog is recorded (a template's input, a script's output), the list's layout
   * (`<artifact>/<index>/<entry>`) gives the item's folder, `subPath: "<index>"`: the step gets
   * a directory holding the item. Counting from the end then needs the length, which only a
   * catalog knows: a negative index is refused.
   *
   * @example
   * new Step("first", readT, { artifacts: { f: split.outputs.artifacts.shards.at(0) } })
   */
  at<R extends ArtifactRef<"list"> | NestedArtifactRef<unknown>>(this: R, index: IndexArg<R>): AtResult<R>;
  at(index: number | Expr<number>): unknown {
    if (this instanceof NestedArtifactRef) return address(this, [], this.layout, [index], "at()");
    this.needShape("list", "at()");
    if (typeof index === "number" && !Number.isInteger(index)) {
      throw new ValidationError(`${this.variable.describe()}: at() takes an integer index, got ${index}`);
    }
    this.needAddressable("at()");
    if (this.catalog) return new ArtifactPart(this, new CatalogEntry(this.catalog, index, this));
    if (typeof index === "number" && index < 0) throw new ValidationError(negativeWithoutCatalog(this, index));
    return new ArtifactPart(this, typeof index === "number" ? String(index) : new IndexText(index));
  }

  /**
   * Entry `key` of a record artifact (dflow's `art["key"]`), as a single-path artifact, read
   * from the artifact's catalog at run time (Argo's artifact `subPath`). Where no catalog is
   * recorded, the record's layout (`<artifact>/<key>/<entry>`) gives the entry's folder,
   * `subPath: "<key>"`.
   *
   * @example
   * new Step("train", trainT, { artifacts: { data: split.outputs.artifacts.sets.key("train") } })
   */
  key<R extends ArtifactRef<"record"> | NestedArtifactRef<unknown>, const P extends string>(this: R, key: P & KeyArg<R>): KeyResult<R, P>;
  key(key: string): unknown {
    if (this instanceof NestedArtifactRef) return address(this, [], this.layout, splitNestedKey(key, this.variable.describe()), "key()");
    this.needShape("record", "key()");
    if (typeof key !== "string" || !key || key.includes("/") || key.includes("\\") || key === "." || key === "..") {
      throw new ValidationError(`${this.variable.describe()}: key() takes the name of a record entry (no "/", not "." or ".."), got ${JSON.stringify(key)}`);
    }
    this.needAddressable("key()");
    if (this.catalog) return new ArtifactPart(this, new CatalogEntry(this.catalog, key, this));
    return new ArtifactPart(this, key);
  }

  /** Throws, naming this artifact and the reason, when its items cannot be addressed. */
  protected needAddressable(what: string): void {
    if (this.unaddressable) throw new ValidationError(`${this.variable.describe()}: ${what} cannot address its items: ${this.unaddressable}`);
  }

  protected needShape(shape: RefArtifactShape, what: string): void {
    if (this.shape !== shape) throw new ValidationError(`${this.variable.describe()}: ${what} addresses an item of a ${shape} artifact; this is a ${this.shape} artifact`);
  }

}

/** The message refusing a negative index where no catalog gives the list's length. */
export function negativeWithoutCatalog(artifact: ArtifactRef, index: number): string {
  return (
    `${artifact.variable.describe()}: at(${index}) counts from the end, which needs the list's length; ` +
    `only a catalog knows it (recorded for the list outputs of OP templates), and this artifact has none: use an index from the start`
  );
}

/** An integer index as the text of a path segment (`string(int(i))`). */
export class IndexText extends Expr<string> {
  readonly kind: ValueKind = "string";
  constructor(readonly index: Expr<number>) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    return `string(int(${this.index.renderExpr(ctx)}))`;
  }
}

/** The path of one entry of an artifact's catalog, evaluated at run time. */
class CatalogEntry extends Expr<string> {
  readonly kind: ValueKind = "string";
  constructor(
    readonly catalog: Expr<unknown>,
    readonly slot: number | string | Expr<number>,
    readonly artifact: ArtifactRef,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    const slot = this.slot;
    const list = this.catalog as Expr<unknown[]>;
    if (typeof slot === "number" && slot < 0) return atIndex(list, new LengthPlus(this.catalog, slot)).renderExpr(ctx);
    return (typeof slot === "string" ? atIndex(this.catalog as Expr<Record<string, unknown>>, slot as never) : atIndex(list, slot)).renderExpr(ctx);
  }
}

/** `len(list) + offset`, for indices counted from the end. */
class LengthPlus extends Expr<number> {
  readonly kind: ValueKind = "integer";
  constructor(
    readonly list: Expr<unknown>,
    readonly offset: number,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    return `(len(${this.list.renderExpr(ctx)}) - ${-this.offset})`;
  }
}

/**
 * A part of an artifact: what lies at a relative path inside it (see {@link ArtifactRef.subPath}):
 * a single path, or (`K` = `"nested"`) a level of a nested artifact.
 */
export class ArtifactPart<K extends RefArtifactShape = "path"> extends Expr<ArtifactHandle<K>> {
  readonly kind = "unknown" as const;
  /** What the part is: a single path, or a level of a nested artifact. */
  get shape(): K {
    return "path" as K;
  }
  /** The relative path, or an expression giving it at run time (an item of a catalog). */
  readonly subPath: string | Expr<string>;
  /** The list index or record key addressed through the catalog (`at`, `key`), if static. */
  readonly slot: number | string | undefined;
  constructor(
    readonly artifact: ArtifactRef,
    relPath: string | Expr<string>,
  ) {
    super();
    if (relPath instanceof Expr) {
      this.subPath = relPath;
      this.slot = relPath instanceof CatalogEntry && typeof relPath.slot !== "object" ? relPath.slot : undefined;
      return;
    }
    this.slot = undefined;
    const parts = typeof relPath === "string" ? relPath.split("/").filter((p) => p !== "" && p !== ".") : [];
    if (typeof relPath !== "string" || !parts.length || relPath.startsWith("/") || parts.includes("..")) {
      throw new ValidationError(`${artifact.variable.describe()}: subPath must be a relative path inside the artifact without "..", got ${JSON.stringify(relPath)}`);
    }
    this.subPath = parts.join("/");
  }
  /** The `subPath` of the argument, as Argo text (a tag when read from a catalog). */
  renderSubPath(ctx: RenderContext): string {
    return typeof this.subPath === "string" ? this.subPath : this.subPath.renderTag(ctx);
  }
  renderExpr(): string {
    throw new CompileError(`${this.artifact.variable.describe()}: a subPath of an artifact can be passed to a step or task, not used inside an expression`);
  }
  override renderTag(): string {
    return this.renderExpr();
  }
}

/** Whether a variable carries its source. */
export function isSourced(variable: Variable): variable is SourcedVariable {
  return (variable as SourcedVariable).source !== undefined;
}

/**
 * The loop item of a step with `withItems` / `withParam` / `withSequence`, typed by the list.
 * `.field(name)` reaches into an object item (`{{item.name}}`).
 */
export class ItemRef<T> extends VarRef<T> {
  constructor(
    readonly itemPath: readonly string[] = [],
    kind: ValueKind = "unknown",
  ) {
    super(variableOf({ type: "item", path: itemPath }, kind));
  }
  /** A field of an object item: `{{item.<name>}}`. */
  field<K extends keyof T & string>(name: K): ItemRef<T[K]> {
    return new ItemRef<T[K]>([...this.itemPath, name]);
  }
}

/** A workflow-level variable (`{{workflow.name}}`, `{{workflow.parameters.x}}`, …). */
export function workflowVar<T = string>(...path: string[]): ParamRef<T> {
  return paramRef<T>({ type: "workflow", path }, "string");
}

/** One step of an address: a record key, a list index, or an index computed at run time. */
type Segment = NestedSegment | Expr<number>;

/** What an address reaching layout `L` gives: a single path at a leaf, else a nested part. */
export type NestedAddress<L> = [L] extends [never] ? never : L extends "path" ? ArtifactPart : NestedArtifactPart<L>;

/** The item layout of a list level. */
type ItemOf<L> = [L] extends [NestedTree] ? NestedTree : L extends readonly [infer I] ? I : never;

/** A reference to a nested artifact (`artifact.nested(layout)`) laid out as `L`; address it with `key` and `at`. */
export class NestedArtifactRef<L = NestedTree> extends ArtifactRef<"nested"> {
  /** Phantom: the static layout. Never set. */
  declare readonly __layout?: L;

  constructor(
    source: RefSource,
    /** The declared layout; `undefined` for any tree. */
    readonly layout: NestedLayout | undefined,
    catalog?: Expr<unknown>,
    unaddressable?: string,
  ) {
    super(source, "nested", catalog, unaddressable);
  }
}

/** The layout of a nested artifact reference `R`. */
type LayoutOf<R> = R extends { readonly __layout?: infer L } ? ([unknown] extends [L] ? NestedTree : L) : NestedTree;
/** Whether `R` is a nested artifact reference. */
type IsNested<R> = R extends { readonly shape: "nested" } ? true : false;
/** The index `at()` takes on `R`: `never` where `R` has no list level. */
export type IndexArg<R> = IsNested<R> extends true ? ([ItemOf<LayoutOf<R>>] extends [never] ? never : number | Expr<number>) : number | Expr<number>;
/** What `at()` gives on `R`. */
export type AtResult<R> = IsNested<R> extends true ? NestedAddress<ItemOf<LayoutOf<R>>> : ArtifactPart;
/** The keys `key()` takes on `R`: a record's entry, or a dotted path through a nested artifact's levels. */
export type KeyArg<R> = IsNested<R> extends true ? NestedKeys<LayoutOf<R>> : string;
/** What `key()` gives on `R`. */
export type KeyResult<R, P extends string> = IsNested<R> extends true ? NestedAddress<NestedAt<LayoutOf<R>, P>> : ArtifactPart;

/** A level of a nested artifact, laid out as `L`: passes to a nested input as the subtree. */
export class NestedArtifactPart<L = NestedTree> extends ArtifactPart<"nested"> {
  /** Phantom: the static layout. Never set. */
  declare readonly __layout?: L;

  constructor(
    readonly root: NestedArtifactRef<unknown>,
    /** The address from the root. */
    readonly segments: readonly Segment[],
    /** The layout of this level; `undefined` for any tree. */
    readonly layout: NestedLayout | undefined,
  ) {
    super(root, new NestedPath(root, segments, "level"));
  }

  override get shape(): "nested" {
    return "nested";
  }

  /** The level or leaf at a record key or a dotted path below this level. */
  key<P extends NestedKeys<L>>(path: P): NestedAddress<NestedAt<L, P>>;
  key(path: string): unknown {
    return address(this.root, this.segments, this.layout, splitNestedKey(path, `${this.root.variable.describe()}`), "key()");
  }

  /** Item `index` of this list level (negative from the end). */
  at(index: [ItemOf<L>] extends [never] ? never : number | Expr<number>): NestedAddress<ItemOf<L>>;
  at(index: number | Expr<number>): unknown {
    return address(this.root, this.segments, this.layout, [index], "at()");
  }

  /**
   * This part as a single path (a leaf), when the layout was not declared and the consumer
   * takes one path: the file the producer's catalog lists here.
   */
  leaf(): ArtifactPart {
    return leafPart(this.root, this.segments);
  }
}

function dotted(segments: readonly Segment[]): string {
  return segments.map((s) => (s instanceof Expr ? "<index>" : String(s))).join(".");
}

/** Walks `more` segments down from `segments` (at `layout`); gives the level or the leaf reached. */
function address(root: NestedArtifactRef<unknown>, segments: readonly Segment[], layout: NestedLayout | undefined, more: readonly Segment[], what: string): ArtifactPart | NestedArtifactPart<unknown> {
  const where = root.variable.describe();
  if (root.unaddressable) throw new ValidationError(`${where}: ${what} cannot address its parts: ${root.unaddressable}`);
  let here = layout;
  const path = [...segments];
  for (const seg of more) {
    if (typeof seg === "number" && !Number.isInteger(seg)) throw new ValidationError(`${where}: at() takes an integer index, got ${seg}`);
    const below = layoutBelow(here, seg instanceof Expr ? "index" : seg);
    if (below !== undefined && typeof below === "object" && "error" in below) {
      const at = path.length ? `at "${dotted(path)}"` : "at the top";
      throw new ValidationError(`${where}: ${what} cannot go to "${dotted([...path, seg])}": ${at}, ${String(below.error)}`);
    }
    if (typeof seg === "number" && seg < 0 && !root.catalog) throw new ValidationError(negativeWithoutCatalog(root, seg));
    path.push(seg);
    here = below as NestedLayout | undefined;
  }
  return here === "path" ? leafPart(root, path) : new NestedArtifactPart(root, path, here);
}

function leafPart(root: NestedArtifactRef<unknown>, segments: readonly Segment[]): ArtifactPart {
  // Without a catalog the leaf's file name is unknown: the step gets the leaf's folder.
  return new ArtifactPart(root, root.catalog ? new NestedPath(root, segments, "leaf") : new NestedPath(root, segments, "level"));
}

/**
 * The `subPath` of a part of a nested artifact. A level's folder follows from the address
 * (`a/runs/2`); a leaf's path is read from the catalog. With a catalog, an address that does
 * not exist at run time gives `opflow-missing: …` naming the key and the artifact.
 */
class NestedPath extends Expr<string> {
  readonly kind: ValueKind = "string";
  constructor(
    readonly root: NestedArtifactRef<unknown>,
    readonly segments: readonly Segment[],
    readonly target: "level" | "leaf",
  ) {
    super();
  }

  /** The folder as plain text when nothing in it is known only at run time. */
  get staticPath(): string | undefined {
    if (this.target === "leaf" || this.root.catalog) return undefined;
    if (this.segments.some((s) => s instanceof Expr)) return undefined;
    return this.segments.join("/") || undefined;
  }

  override renderTag(ctx: RenderContext): string {
    return this.staticPath ?? `{{=${this.renderExpr(ctx)}}}`;
  }

  renderExpr(ctx: RenderContext): string {
    const catalog = this.root.catalog;
    const nav: string[] = [];
    let node = catalog ? catalog.renderExpr(ctx) : "";
    for (const seg of this.segments) {
      let text: string;
      let key: string;
      if (typeof seg === "string") {
        text = quoteString(seg);
        key = text;
      } else if (typeof seg === "number") {
        text = seg >= 0 ? quoteString(String(seg)) : `string(len(${node}) - ${-seg})`;
        key = String(seg);
      } else {
        const i = `int(${seg.renderExpr(ctx)})`;
        text = catalog ? `string(${i} < 0 ? len(${node}) + ${i} : ${i})` : new IndexText(seg).renderExpr(ctx);
        key = i;
      }
      nav.push(text);
      if (catalog) node = `get(${node}, ${key})`;
    }
    if (!catalog) return nav.length ? nav.join(' + "/" + ') : quoteString(".");
    const missing = quoteString(`${MISSING_PART_PREFIX} no "${dotted(this.segments)}" in ${this.root.variable.describe()}${this.target === "leaf" ? " (or not a single path)" : ""}`);
    if (this.target === "leaf") return `(type(${node}) == "string" ? ${node} : ${missing})`;
    const folder = nav.length ? nav.join(' + "/" + ') : quoteString(".");
    return `(type(${node}) in ["map", "array"] ? ${folder} : ${missing})`;
  }
}

/**
 * A reference to an artifact of the given shape: a {@link NestedArtifactRef} for a nested one
 * (with its declared layout), else an {@link ArtifactRef}.
 */
export function artifactRefOf(
  source: RefSource,
  spec: { readonly shape: RefArtifactShape; readonly layout?: NestedLayout | undefined },
  catalog?: Expr<unknown>,
  unaddressable?: string,
): ArtifactRef {
  return spec.shape === "nested" ? new NestedArtifactRef(source, spec.layout, catalog, unaddressable) : new ArtifactRef(source, spec.shape, catalog, unaddressable);
}
