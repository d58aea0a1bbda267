/**
 * OP signatures (dflow's OPIOSign): the declared inputs and outputs of an OP. Parameters are
 * JSON values checked by a zod schema; artifacts are files and directories. The static types
 * of an OP's `execute` input and output are derived from these declarations.
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import type { ValueKind } from "../expr/tree.ts";
import { type NestedLayout, type NestedRootLayout, type NestedTree, type NestedValue, checkNestedLayout } from "../expr/nested-layout.ts";

/** Options of a parameter. */
export interface ParamOptions<T> {
  /** What the parameter means; emitted as the Argo parameter's `description`. */
  readonly description?: string;
  /**
   * Value used when the caller gives none. Makes the parameter optional for callers.
   * @default no default: the parameter is required unless its schema is optional
   */
  readonly default?: T;
  /**
   * Name under which an output parameter is also published as a workflow-global output
   * (`{{workflow.outputs.parameters.<globalName>}}`).
   * @default not published
   */
  readonly globalName?: string;
}

/** A parameter: a JSON value checked by a zod schema. */
export interface ParamSpec<S extends z.ZodType = z.ZodType, Opt extends boolean = boolean> {
  readonly kind: "parameter";
  readonly schema: S;
  readonly description: string | undefined;
  /** Whether the caller may leave it out (schema optional, or a default given). */
  readonly optional: Opt;
  /** Whether a default was given (then {@link ParamSpec.defaultValue} holds it). */
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly globalName: string | undefined;
  /** Stored as an artifact to escape Argo's parameter size limits (dflow's BigParameter). */
  readonly big: boolean;
  /** How the value converts in expressions. */
  readonly valueKind: ValueKind;
}

/**
 * Shape of an artifact: one path, an ordered list of paths, a record of named paths, or a
 * nested tree of records and lists with paths at the leaves.
 */
export type ArtifactShape = "path" | "list" | "record" | "nested";

/** Options of an artifact. */
export interface ArtifactOptions {
  /** What the artifact holds. */
  readonly description?: string;
  /**
   * The caller (input) or the OP (output) may leave it out.
   * @default false
   */
  readonly optional?: boolean;
  /**
   * Archive format in the artifact repository: `tar` (tar.gz, Argo's default) or `none`.
   * @default "tar"
   */
  readonly archive?: "tar" | "none";
  /**
   * Name under which an output artifact is also published as a workflow-global output.
   * @default not published
   */
  readonly globalName?: string;
  /**
   * Where an output artifact is saved in the artifact repository, instead of the default
   * `<workflow>/<pod>/<name>.tgz`. May contain Argo tags, e.g.
   * `"results/{{workflow.name}}/model.tgz"`.
   * @default the repository's key format
   */
  readonly saveAs?: string;
}

/** An artifact: one or more files or directories. */
export interface ArtifactSpec<K extends ArtifactShape = ArtifactShape, Opt extends boolean = boolean, L = unknown> {
  readonly kind: "artifact";
  readonly shape: K;
  /** The declared layout of a nested artifact; `undefined` for any tree and for other shapes. */
  readonly layout: NestedLayout | undefined;
  /** Phantom: the nested layout's static type. Never set. */
  readonly __layout?: L;
  readonly description: string | undefined;
  readonly optional: Opt;
  readonly archive: "tar" | "none";
  readonly globalName: string | undefined;
  /** Explicit repository key of an output artifact. */
  readonly saveAs: string | undefined;
}

/** One field of a signature. */
export type IOSpec = ParamSpec | ArtifactSpec;

/** A signature: field name → parameter or artifact. */
export type Signature = { readonly [name: string]: IOSpec };

/** Classifies a zod schema into the value kind used by expressions. */
export function valueKindOf(schema: z.ZodType): ValueKind {
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { unrepresentable: "any", io: "input" }) as Record<string, unknown>;
  } catch {
    return "unknown";
  }
  const t = json["type"];
  if (t === "string") return "string";
  if (t === "integer") return "integer";
  if (t === "number") return "number";
  if (t === "boolean") return "boolean";
  if (t === "array" || t === "object") return "json";
  if (Array.isArray(json["enum"]) && (json["enum"] as unknown[]).every((v) => typeof v === "string")) return "string";
  return "unknown";
}

function isOptionalSchema(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

/**
 * Declares a parameter.
 *
 * @example
 * const inputs = {
 *   epochs: param(z.number().int().positive(), { default: 10, description: "training epochs" }),
 *   tags: param(z.array(z.string()).optional()),
 * };
 */
export function param<S extends z.ZodType>(
  schema: S,
  options: ParamOptions<z.output<S>> & { readonly default: z.output<S> },
): ParamSpec<S, true>;
export function param<S extends z.ZodType>(
  schema: S,
  options?: ParamOptions<z.output<S>>,
): ParamSpec<S, undefined extends z.input<S> ? true : false>;
export function param<S extends z.ZodType>(schema: S, options: ParamOptions<z.output<S>> = {}): ParamSpec<S> {
  if (!(schema instanceof z.ZodType)) {
    throw new ValidationError(`param(): expected a zod schema, got ${typeof schema}`);
  }
  const hasDefault = Object.prototype.hasOwnProperty.call(options, "default") && options.default !== undefined;
  if (hasDefault) {
    const r = schema.safeParse(options.default);
    if (!r.success) {
      throw new ValidationError(`param(): default ${JSON.stringify(options.default)} does not match the schema: ${r.error.issues[0]?.message ?? "invalid"}`);
    }
    if (JSON.stringify(options.default) === undefined) {
      throw new ValidationError(`param(): default must be JSON-serialisable`);
    }
  }
  return {
    kind: "parameter",
    schema,
    description: options.description,
    optional: hasDefault || isOptionalSchema(schema),
    hasDefault,
    defaultValue: options.default,
    globalName: options.globalName,
    big: false,
    valueKind: valueKindOf(schema),
  };
}

/**
 * Declares a big parameter: a JSON value that travels as an artifact instead of an Argo
 * parameter, to escape Argo's parameter size limits. Read and written like a parameter.
 */
export function bigParameter<S extends z.ZodType>(
  schema: S,
  options: ParamOptions<z.output<S>> & { readonly default: z.output<S> },
): ParamSpec<S, true>;
export function bigParameter<S extends z.ZodType>(
  schema: S,
  options?: ParamOptions<z.output<S>>,
): ParamSpec<S, undefined extends z.input<S> ? true : false>;
export function bigParameter<S extends z.ZodType>(schema: S, options: ParamOptions<z.output<S>> = {}): ParamSpec<S> {
  return { ...param(schema, options), big: true };
}

function artifactSpec<K extends ArtifactShape>(shape: K, options: ArtifactOptions, layout?: NestedLayout): ArtifactSpec<K> {
  if (options.saveAs !== undefined && (typeof options.saveAs !== "string" || !options.saveAs || options.saveAs.startsWith("/"))) {
    throw new ValidationError(`artifact(): saveAs must be a relative repository key, got ${JSON.stringify(options.saveAs)}`);
  }
  if (options.archive !== undefined && options.archive !== "tar" && options.archive !== "none") {
    throw new ValidationError(`artifact(): archive must be "tar" or "none", got ${JSON.stringify(options.archive)}`);
  }
  return {
    kind: "artifact",
    shape,
    layout,
    description: options.description,
    optional: options.optional ?? false,
    archive: options.archive ?? "tar",
    globalName: options.globalName,
    saveAs: options.saveAs,
  };
}

/**
 * Declares an artifact holding one file or directory (a path at run time).
 * `artifact.list()` holds an ordered list of paths, `artifact.record()` named paths.
 *
 * @example
 * const outputs = { model: artifact(), frames: artifact.list({ optional: true }) };
 */
export function artifact<O extends ArtifactOptions = {}>(options?: O): ArtifactSpec<"path", OptionalFlag<O>> {
  return artifactSpec("path", options ?? {}) as ArtifactSpec<"path", OptionalFlag<O>>;
}
artifact.list = <O extends ArtifactOptions = {}>(options?: O): ArtifactSpec<"list", OptionalFlag<O>> =>
  artifactSpec("list", options ?? {}) as ArtifactSpec<"list", OptionalFlag<O>>;
artifact.record = <O extends ArtifactOptions = {}>(options?: O): ArtifactSpec<"record", OptionalFlag<O>> =>
  artifactSpec("record", options ?? {}) as ArtifactSpec<"record", OptionalFlag<O>>;

/**
 * Declares a nested artifact (dflow's `NestedDict[Path]`): records and lists of paths to any
 * depth. With a layout — `"path"` for a leaf, `[layout]` for a list, `{ key: layout }` for a
 * record — the value in `execute` and every address (`key("a.b")`, `at(i)`) are typed;
 * without one the tree is any nesting of records and lists.
 *
 * @example
 * const outputs = {
 *   run: artifact.nested({ model: { weights: "path", config: "path" }, frames: ["path"] }),
 *   any: artifact.nested(),
 * };
 */
function nested(): ArtifactSpec<"nested", false, NestedTree>;
function nested<const L extends NestedRootLayout, O extends ArtifactOptions = {}>(layout: L, options?: O): ArtifactSpec<"nested", OptionalFlag<O>, L>;
function nested<O extends ArtifactOptions>(layout: undefined, options: O): ArtifactSpec<"nested", OptionalFlag<O>, NestedTree>;
function nested(layout?: NestedRootLayout, options: ArtifactOptions = {}): ArtifactSpec<"nested"> {
  return artifactSpec("nested", options, layout === undefined ? undefined : checkNestedLayout(layout));
}
artifact.nested = nested;

/** `true` when the options say `optional: true`. */
export type OptionalFlag<O> = O extends { readonly optional: true } ? true : false;

// ---------------------------------------------------------------------------------------
// Static types derived from signatures

/** Run-time value of an artifact of shape K (nested: laid out as L): absolute path(s). */
export type ArtifactValue<K extends ArtifactShape, L = NestedTree> = K extends "path"
  ? string
  : K extends "list"
    ? string[]
    : K extends "nested"
      ? NestedValue<L>
      : Record<string, string>;

/** Run-time value of one signature field. */
export type SpecValue<S> =
  S extends ParamSpec<infer Z, boolean>
    ? z.output<Z>
    : S extends ArtifactSpec<infer K, infer O, infer L>
      ? O extends true
        ? ArtifactValue<K, L> | undefined
        : ArtifactValue<K, L>
      : never;

/** Keys whose field is optional (callers may leave them out; OPs may not return them). */
export type OptionalKeys<S extends Signature> = {
  [K in keyof S]: S[K]["optional"] extends true ? K : never;
}[keyof S];

/** Keys whose field is required. */
export type RequiredKeys<S extends Signature> = Exclude<keyof S, OptionalKeys<S>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The value `execute` receives: every parameter (defaults applied) and artifact path(s).
 * Optional artifacts the caller did not give are `undefined`.
 */
export type OPInput<S extends Signature> = Simplify<{ -readonly [K in keyof S]: SpecValue<S[K]> }>;

/** The value `execute` returns: optional outputs may be left out. */
export type OPOutput<S extends Signature> = Simplify<
  { -readonly [K in RequiredKeys<S>]: SpecValue<S[K]> } & { -readonly [K in OptionalKeys<S>]?: SpecValue<S[K]> }
>;

/** Parameter names of a signature. */
export type ParamKeys<S extends Signature> = { [K in keyof S]: S[K] extends ParamSpec ? K : never }[keyof S] & string;
/** Artifact names of a signature. */
export type ArtifactKeys<S extends Signature> = { [K in keyof S]: S[K] extends ArtifactSpec ? K : never }[keyof S] &
  string;

/** Splits a signature into its parameters and artifacts. */
export function splitSignature(sig: Signature): { parameters: [string, ParamSpec][]; artifacts: [string, ArtifactSpec][] } {
  const parameters: [string, ParamSpec][] = [];
  const artifacts: [string, ArtifactSpec][] = [];
  for (const [name, spec] of Object.entries(sig)) {
    if (spec.kind === "parameter") parameters.push([name, spec]);
    else if (spec.kind === "artifact") artifacts.push([name, spec]);
    else throw new ValidationError(`signature field ${JSON.stringify(name)}: expected param(...) or artifact(...)`);
  }
  return { parameters, artifacts };
}
