/**
 * Typed references to Argo variables: template inputs, step/task outputs, `item`, workflow
 * parameters. A reference knows where it points; the compiler decides how it renders in the
 * template where it is used (and rejects it where it is out of scope).
 */
import { CompileError, ValidationError } from "../errors.ts";
import { Expr, type RenderContext, VarRef, type ValueKind, type Variable, at as atIndex } from "./tree.ts";

/** Shape of an artifact (see `op/signature.ts`). */
export type RefArtifactShape = "path" | "list" | "record";

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

  constructor(
    readonly source: RefSource,
    readonly shape: K,
    catalog?: Expr<unknown>,
  ) {
    super(variableOf(source, "unknown"));
    this.catalog = catalog;
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
   * @example
   * new Step("first", readT, { artifacts: { f: split.outputs.artifacts.shards.at(0) } })
   */
  at(this: ArtifactRef<"list">, index: number | Expr<number>): ArtifactPart {
    this.needShape("list", "at()");
    if (typeof index === "number" && !Number.isInteger(index)) {
      throw new ValidationError(`${this.variable.describe()}: at() takes an integer index, got ${index}`);
    }
    return new ArtifactPart(this, new CatalogEntry(this.needCatalog("at()"), index, this));
  }

  /**
   * Entry `key` of a record artifact (dflow's `art["key"]`), as a single-path artifact, read
   * from the artifact's catalog at run time (Argo's artifact `subPath`).
   *
   * @example
   * new Step("train", trainT, { artifacts: { data: split.outputs.artifacts.sets.key("train") } })
   */
  key(this: ArtifactRef<"record">, key: string): ArtifactPart {
    this.needShape("record", "key()");
    if (typeof key !== "string" || !key || key.includes("/") || key === "." || key === "..") {
      throw new ValidationError(`${this.variable.describe()}: key() takes the name of a record entry (no "/"), got ${JSON.stringify(key)}`);
    }
    return new ArtifactPart(this, new CatalogEntry(this.needCatalog("key()"), key, this));
  }

  private needShape(shape: RefArtifactShape, what: string): void {
    if (this.shape !== shape) throw new ValidationError(`${this.variable.describe()}: ${what} addresses an item of a ${shape} artifact; this is a ${this.shape} artifact`);
  }

  private needCatalog(what: string): Expr<unknown> {
    if (this.catalog) return this.catalog;
    throw new ValidationError(
      `${this.variable.describe()}: ${what} reads the artifact's catalog, which only an output of an OP template records; ` +
        `use subPath("<index or key>") for the item's folder, or pass the whole artifact`,
    );
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

/** A part of an artifact: what lies at a relative path inside it (see {@link ArtifactRef.subPath}). */
export class ArtifactPart extends Expr<ArtifactHandle<"path">> {
  readonly kind = "unknown" as const;
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
    return typeof this.subPath === "string" ? this.subPath : `{{=${this.subPath.renderExpr(ctx)}}}`;
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
