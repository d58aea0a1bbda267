/**
 * `Step`: one call of a template inside a `Steps` template (and the base of DAG `Task`s).
 * Its arguments are type-checked against the template's input signature; its outputs are
 * typed references other steps can read.
 */
import type { Arguments, Artifact, ContinueOn, Item as ArgoItem, LifecycleHook, Parameter, Sequence, WorkflowStep } from "../argo/model.ts";
import { KEY_PARAMETER } from "../contract.ts";
import { CompileError, ValidationError } from "../errors.ts";
import type { NestedTree } from "../expr/nested-layout.ts";
import { checkStepName } from "../names.ts";
import {
  ArtifactPart,
  ArtifactRef,
  type ArtifactHandle,
  ItemRef,
  NestedArtifactPart,
  type NestedArtifactRef,
  artifactRefOf,
  type ParamRef,
  type RefArtifactShape,
  type RefOwner,
  type RefProducer,
  paramRef,
} from "../expr/refs.ts";
import { type DeepOperand, Expr, type Operand, RawTag, containsExpr, type RenderContext, VarRef, renderCondition, renderExpression, renderValue, toExpr } from "../expr/tree.ts";
import { formatIssues, schemaIssues } from "../op/op.ts";
import { encodeParameter } from "../op/parameter-codec.ts";
import type {
  ArtifactKeys,
  ArtifactSpec,
  OptionalKeys,
  ParamKeys,
  RequiredKeys,
  Signature,
  SpecValue,
} from "../op/signature.ts";
import { splitSignature } from "../op/signature.ts";
import type { Template, TemplateCompiler } from "../template/template.ts";
import type { ResultOf } from "../template/result-type.ts";
import { compact } from "../template/compact.ts";
import { type ArtifactSource, isArtifactSource } from "./artifact-source.ts";

export { type ArtifactSource, httpArtifact, rawArtifact, s3Artifact } from "./artifact-source.ts";
import { LocalArtifact } from "./local-artifact.ts";
import { JoinedInputsTemplate, type PartLayout, checkJoinable, hasOpRunner, joinedPartName } from "./joined-inputs.ts";
import { EXIT_CODE_PARAMETER, JoinedListsTemplate, RESULT_PARAMETER } from "./joined-lists.ts";
import { joinParameter } from "../op/joined-list.ts";
import { ParallelLoop } from "./parallel-loop.ts";
import { quorumOf } from "./quorum.ts";
import { StackedArtifactRef, StackedParam } from "./stacked.ts";
import { catalogParameter } from "../op/catalog.ts";

type ShapeOf<S> = S extends ArtifactSpec<infer K> ? K : never;

/** The reference type of an artifact declared as `S`: nested ones carry their layout. */
export type ArtifactRefOf<S> = S extends ArtifactSpec<"nested", boolean, infer L> ? NestedArtifactRef<L> : ArtifactRef<ShapeOf<S>>;

/**
 * What may be passed to a parameter of type T: a literal, an expression of type T, or — for
 * lists and objects — a literal with expressions inside (built at run time).
 */
export type ParamArg<T> = DeepOperand<Exclude<T, undefined>>;

/** A single-path artifact: a reference, a part of one, or a source outside the workflow. */
export type SinglePathArg = Expr<ArtifactHandle<"path">> | ArtifactSource;

/** A part of a joined list input: a single-path artifact or a whole list artifact. */
export type JoinPartArg = SinglePathArg | Expr<ArtifactHandle<"list">>;

/**
 * A source for an artifact argument. A list input also takes several artifacts, `[a1, a2]`,
 * single paths and lists alike: the input is their concatenation, in order — each single
 * path one item, each list its items (dflow's `artifacts={"x": [a1, a2]}`).
 */
export type ArtifactArg<K extends RefArtifactShape> =
  | Expr<ArtifactHandle<K>>
  | ArtifactSource
  | (K extends "list" ? readonly JoinPartArg[] : never)
  // A part of a nested artifact of undeclared layout: a leaf when the input takes one path.
  | (K extends "path" ? NestedArtifactPart<NestedTree> : never);

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Parameter arguments for a template with inputs I. */
export type ParamArgs<I extends Signature> = Simplify<
  { readonly [K in ParamKeys<I> & RequiredKeys<I>]: ParamArg<SpecValue<I[K]>> } & {
    readonly [K in ParamKeys<I> & OptionalKeys<I>]?: ParamArg<SpecValue<I[K]>>;
  }
>;

/** Artifact arguments for a template with inputs I. */
export type ArtifactArgs<I extends Signature> = Simplify<
  { readonly [K in ArtifactKeys<I> & RequiredKeys<I>]: ArtifactArg<ShapeOf<I[K]>> } & {
    readonly [K in ArtifactKeys<I> & OptionalKeys<I>]?: ArtifactArg<ShapeOf<I[K]>>;
  }
>;

type HasRequired<I extends Signature, Keys> = [Keys & RequiredKeys<I>] extends [never] ? false : true;

/** The `parameters` / `artifacts` options, required exactly when the template has required inputs. */
export type StepArguments<I extends Signature, Item> = (HasRequired<I, ParamKeys<I>> extends true
  ? { readonly parameters: ParamArgs<I> | ((item: ItemRef<Item>) => ParamArgs<I>) }
  : { readonly parameters?: ParamArgs<I> | ((item: ItemRef<Item>) => ParamArgs<I>) }) &
  (HasRequired<I, ArtifactKeys<I>> extends true
    ? { readonly artifacts: ArtifactArgs<I> | ((item: ItemRef<Item>) => ArtifactArgs<I>) }
    : { readonly artifacts?: ArtifactArgs<I> | ((item: ItemRef<Item>) => ArtifactArgs<I>) });

/** A `withSequence` loop (dflow's `argo_sequence`). Items are the formatted numbers. */
export interface SequenceLoop {
  readonly __sequence: true;
  readonly count?: Operand<number>;
  readonly start?: Operand<number>;
  readonly end?: Operand<number>;
  /** printf-style format of each item, e.g. `"%02d"`. */
  readonly format?: string;
}

/**
 * A sequence of numbers to loop over: `count` items from `start`, or `start` to `end`
 * inclusive (Argo's `withSequence`).
 *
 * @example
 * new Step("shard", work, { withSequence: argoSequence({ count: 8 }), parameters: (i) => ({ index: i }) })
 */
export function argoSequence(options: Omit<SequenceLoop, "__sequence">): SequenceLoop {
  if ((options.count === undefined) === (options.end === undefined)) {
    throw new ValidationError("argoSequence(): give exactly one of count or end");
  }
  return { __sequence: true, ...options };
}

/** Options of a step beyond its arguments. */
export interface StepControl<Item> {
  /** Run only when this holds (Argo's `when`); a string is passed through as Argo syntax. @default always */
  readonly when?: Operand<boolean> | string;
  /** Fan out over a JSON list produced at run time (Argo's `withParam`). @default no loop */
  readonly withParam?: Expr<readonly Item[]> | Expr<Item[]>;
  /** Fan out over literal items (Argo's `withItems`). @default no loop */
  readonly withItems?: readonly Item[];
  /** Fan out over a sequence of numbers (Argo's `withSequence`). @default no loop */
  readonly withSequence?: SequenceLoop;
  /** Keep going when the step fails or errors (Argo's `continueOn`). @default stop on failure */
  readonly continueOn?: { readonly failed?: boolean; readonly error?: boolean };
  /**
   * A key identifying this step across runs (dflow's key): names the step's directory in the
   * local engine, finds it with `querySteps({ key })`, and reuses it when resubmitted.
   * May embed `{{item}}` through an expression for loops. @default none
   */
  readonly key?: Operand<string>;
  /** Template to run when this step ends, whatever its phase (Argo's step `onExit`). @default none */
  readonly onExit?: Template;
  /**
   * Lifecycle hooks (Argo's step `hooks`), by name: each runs its template once, when its
   * condition first holds while the step runs or when it ends (`step.status.eq("Running")`,
   * `step.status.eq("Failed")`, …). Make them with {@link lifecycleHook}. The name `exit`
   * means "when the step ends" (as `onExit`).
   * @default none
   */
  readonly hooks?: Readonly<Record<string, StepHook>>;
  /**
   * Most items of this step's loop running at once. Argo bounds concurrency per template, so
   * the loop runs inside a small Steps template of its own (`<template>-loop`).
   * @default unbounded (the enclosing template's and the workflow's parallelism apply)
   */
  readonly parallelism?: number;
  /**
   * The step succeeds when at least this many items of its loop (or slices) succeed (dflow's
   * `continue_on_num_success`). Failed items' outputs are left out of the aggregated outputs.
   * The loop then runs in a template of its own, each item in a try wrapper, and a check step
   * after it fails the step when too few succeeded.
   * @default every item must succeed
   */
  readonly continueOnNumSuccess?: number;
  /**
   * The step succeeds when at least this share (in (0, 1]) of its items succeed (dflow's
   * `continue_on_success_ratio`). Otherwise as {@link StepControl.continueOnNumSuccess}.
   * @default every item must succeed
   */
  readonly continueOnSuccessRatio?: number;
}

/** All options of a step. */
export type StepOptions<I extends Signature, Item> = StepArguments<I, Item> & StepControl<Item>;

/** Typed references to a step's outputs. */
export interface StepOutputs<O extends Signature, Looped extends boolean> {
  readonly parameters: {
    readonly [K in ParamKeys<O>]: ParamRef<Looped extends true ? SpecValue<O[K]>[] : SpecValue<O[K]>>;
  };
  readonly artifacts: { readonly [K in ArtifactKeys<O>]: ArtifactRefOf<O[K]> };
  /** Standard output of a script or container, or an HTTP response's body (Argo's `outputs.result`): text unless the template types it. */
  readonly result: ParamRef<Looped extends true ? ResultOf<O>[] : ResultOf<O>>;
  /** Exit code of the main container. */
  readonly exitCode: ParamRef<string>;
}

/** What Steps templates need of a step, whatever its types. */
export interface StepLike {
  readonly name: string;
  readonly template: Template;
  readonly conditional: boolean;
  readonly looped: boolean;
  readonly scope: "steps" | "tasks";
  /** The step's key expression, if it has one. */
  readonly key?: unknown;
  attach(parent: RefOwner): void;
  references(): Template[];
  toArgoStep(compiler: TemplateCompiler, owner: Template): WorkflowStep;
}

type AnyOptions = {
  /**
   * Internal: outputs are stacked slices (set by `slicedStep`); `"artifacts"` when only the
   * artifacts are (parameters then aggregate as loop outputs do).
   */
  stacked?: boolean | "artifacts" | "pairs";
  parameters?: Record<string, unknown> | ((item: ItemRef<unknown>) => Record<string, unknown>);
  artifacts?: Record<string, unknown> | ((item: ItemRef<unknown>) => Record<string, unknown>);
} & StepControl<unknown>;

/**
 * A call of a template in a `Steps` template.
 *
 * @example
 * const gen = new Step("gen", genTemplate, { parameters: { n: 10 } });
 * const use = new Step("use", useTemplate, { parameters: { value: gen.outputs.parameters.value } });
 */
export class Step<I extends Signature = Signature, O extends Signature = Signature, Item = never> implements RefProducer {
  readonly name: string;
  readonly template: Template<I, O>;
  /** Typed references to this step's outputs. */
  readonly outputs: StepOutputs<O, [Item] extends [never] ? false : true>;
  protected readonly options: AnyOptions;
  private parent: RefOwner | undefined;
  private readonly loop: ParallelLoop | undefined;

  constructor(name: string, template: Template<I, O>, ...options: {} extends StepOptions<I, Item> ? [StepOptions<I, Item>?] : [StepOptions<I, Item>]) {
    checkStepName(this.kindName(), name);
    if (!template || typeof (template as { toArgo?: unknown }).toArgo !== "function") {
      throw new ValidationError(`${this.kindName()} "${name}": template must be a template (OPTemplate, ContainerTemplate, Steps, DAG, …)`);
    }
    this.name = name;
    this.options = (options[0] ?? {}) as AnyOptions;
    this.template = joinInputs(`${this.kindName()} "${name}"`, template, this.options.artifacts, this.options.key !== undefined) as Template<I, O>;
    const loops = [this.options.withParam, this.options.withItems, this.options.withSequence].filter((x) => x !== undefined);
    if (loops.length > 1) throw new ValidationError(`${this.kindName()} "${name}": use only one of withParam, withItems, withSequence`);
    this.checkArguments();
    checkHooks(`${this.kindName()} "${name}"`, this.options.hooks);
    this.outputs = this.makeOutputs();
    const par = this.options.parallelism;
    const quorum = quorumOf(`${this.kindName()} "${name}"`, this.options.continueOnNumSuccess, this.options.continueOnSuccessRatio, this.looped);
    if (par !== undefined) {
      if (!Number.isInteger(par) || par < 1) throw new ValidationError(`${this.kindName()} "${name}": parallelism must be a positive integer, got ${JSON.stringify(par)}`);
      if (!this.looped) throw new ValidationError(`${this.kindName()} "${name}": parallelism bounds a loop; add withParam, withItems or withSequence, or set parallelism on the template`);
    }
    if (par !== undefined || quorum) {
      const self = this;
      this.loop = new ParallelLoop(
        {
          name,
          template: this.template,
          get conditional() {
            return self.conditional;
          },
          get key() {
            return self.key;
          },
          renderLoop: (c, owner) => this.render(c, owner, false),
        },
        par,
        quorum,
      );
    }
  }

  /** `steps` for a Step, `tasks` for a Task. */
  get scope(): "steps" | "tasks" {
    return "steps";
  }

  /** The Steps/DAG template this was added to. */
  get parentTemplate(): RefOwner | undefined {
    return this.parent;
  }

  /** Called by Steps/DAG when the step is added. */
  attach(parent: RefOwner): void {
    if (this.parent) {
      throw new ValidationError(`${this.kindName()} "${this.name}" is already part of template "${this.parent.name}"; create another for "${parent.name}"`);
    }
    this.parent = parent;
  }

  protected kindName(): string {
    return "Step";
  }

  /** Whether the step fans out. */
  get looped(): boolean {
    return this.options.withParam !== undefined || this.options.withItems !== undefined || this.options.withSequence !== undefined;
  }

  /** Whether the step may be skipped at run time. */
  get conditional(): boolean {
    return this.options.when !== undefined;
  }

  /** The phase of this step at run time (`Succeeded`, `Failed`, `Skipped`, …), as `{{steps.x.status}}`. */
  get status(): ParamRef<string> {
    return paramRef({ type: "output", producer: this, io: "status" }, "string");
  }

  private makeOutputs(): StepOutputs<O, [Item] extends [never] ? false : true> {
    const { parameters, artifacts } = splitSignature(this.template.outputs);
    const p: Record<string, unknown> = {};
    const a: Record<string, unknown> = {};
    const stacked = this.options.stacked === true || this.options.stacked === "pairs";
    const stackedArtifacts = stacked || this.options.stacked === "artifacts";
    for (const [name, spec] of parameters) {
      const ref = spec.big
        ? new ArtifactRef({ type: "output", producer: this, io: "artifacts", name }, "path")
        : paramRef({ type: "output", producer: this, io: "parameters", name }, this.looped ? "json" : spec.valueKind);
      p[name] = stacked && !spec.big ? new StackedParam(ref, this.options.stacked === "pairs") : ref;
    }
    for (const [name, spec] of artifacts) {
      // A looped step's catalog is Argo's aggregate of its children's: not one artifact's.
      // (A sliced step's children each record their part of the stacked list's catalog.)
      const catalog =
        (stackedArtifacts || !this.looped) && this.template.recordsCatalog(name)
          ? paramRef<unknown>({ type: "output", producer: this, io: "parameters", name: catalogParameter(name) }, "json")
          : undefined;
      // Argo gathers no list of a looped step's artifacts: its items cannot be addressed.
      const loose = this.looped && !stackedArtifacts ? "it is the output of a looped step, which Argo does not gather into one artifact" : undefined;
      a[name] = stackedArtifacts ? new StackedArtifactRef(this, name, catalog) : artifactRefOf({ type: "output", producer: this, io: "artifacts", name }, spec, catalog, loose);
    }
    return {
      parameters: p,
      artifacts: a,
      // Behind a join step the template's standard output is passed on as an output parameter.
      result:
        this.template instanceof JoinedListsTemplate
          ? paramRef({ type: "output", producer: this, io: "parameters", name: RESULT_PARAMETER }, this.looped ? "json" : "string")
          : paramRef({ type: "output", producer: this, io: "result" }, this.looped ? "json" : this.template.resultKind()),
      exitCode:
        this.template instanceof JoinedListsTemplate
          ? paramRef({ type: "output", producer: this, io: "parameters", name: EXIT_CODE_PARAMETER }, "string")
          : paramRef({ type: "output", producer: this, io: "exitCode" }, "string"),
    } as unknown as StepOutputs<O, [Item] extends [never] ? false : true>;
  }

  private itemRef(): ItemRef<unknown> {
    return new ItemRef<unknown>([], this.options.withSequence ? "string" : "unknown");
  }

  private args(kind: "parameters" | "artifacts"): Record<string, unknown> {
    const given = this.options[kind];
    if (given === undefined) return {};
    if (typeof given === "function") {
      if (!this.looped) throw new ValidationError(`${this.kindName()} "${this.name}": ${kind} given as a function of the item, but the step has no loop`);
      return given(this.itemRef());
    }
    if (typeof given !== "object" || given === null) {
      throw new ValidationError(`${this.kindName()} "${this.name}": ${kind} must be an object, got ${typeof given}`);
    }
    return given;
  }

  private checkArguments(): void {
    const sig = this.template.inputs;
    const { parameters, artifacts } = splitSignature(sig);
    const where = `${this.kindName()} "${this.name}" (template "${this.template.name}")`;
    const params = this.args("parameters");
    const arts = this.args("artifacts");
    const pnames = new Set(parameters.map(([n]) => n));
    const anames = new Set(artifacts.map(([n]) => n));
    for (const [name, spec] of parameters) if (spec.big) anames.add(name);
    for (const name of Object.keys(params)) {
      if (!pnames.has(name)) {
        throw new ValidationError(
          `${where}: unknown parameter ${JSON.stringify(name)}${anames.has(name) ? " (it is an artifact: pass it under artifacts)" : ""}; parameters: ${[...pnames].join(", ") || "none"}`,
        );
      }
    }
    for (const name of Object.keys(arts)) {
      const spec = sig[name];
      if (!anames.has(name)) {
        throw new ValidationError(
          `${where}: unknown artifact ${JSON.stringify(name)}${pnames.has(name) ? " (it is a parameter: pass it under parameters)" : ""}; artifacts: ${[...anames].join(", ") || "none"}`,
        );
      }
      if (spec?.kind === "parameter") continue;
    }
    for (const [name, spec] of parameters) {
      const given = spec.big ? arts[name] ?? params[name] : params[name];
      if (given === undefined && !spec.optional) throw new ValidationError(`${where}: parameter "${name}" is required`);
      if (given !== undefined && !(given instanceof Expr) && !containsExpr(given) && !spec.big) {
        const r = spec.schema.safeParse(given);
        if (!r.success) {
          throw new ValidationError(formatIssues(where, name, r.error, given), { issues: schemaIssues(where, name, r.error, given) });
        }
      }
      if (given instanceof ArtifactRef && !spec.big) {
        throw new ValidationError(`${where}: parameter "${name}" was given an artifact reference; pass artifacts under artifacts`);
      }
    }
    for (const [name, spec] of artifacts) {
      const given = arts[name];
      if (given === undefined && !spec.optional) throw new ValidationError(`${where}: artifact "${name}" is required`);
      if (Array.isArray(given)) {
        given.forEach((part: unknown, i) => {
          if (!partShape(part)) throw new ValidationError(`${where}: artifact "${name}" item ${i}: only single-path and list artifacts can be joined into a list, got ${describeArg(part)}`);
        });
        continue;
      }
      if (given instanceof VarRef && !(given instanceof ArtifactRef)) {
        throw new ValidationError(`${where}: artifact "${name}" was given a parameter reference; pass an artifact`);
      }
      const shape = (given as { shape?: unknown } | undefined)?.shape;
      if (given instanceof LocalArtifact && shape !== spec.shape) {
        throw new ValidationError(`${where}: artifact "${name}" expects a ${spec.shape} artifact, got local files as a ${String(shape)}`);
      }
      if (given instanceof ArtifactRef && given.shape !== spec.shape) {
        throw new ValidationError(`${where}: artifact "${name}" expects a ${spec.shape} artifact, got a ${given.shape} artifact`);
      }
      if (given instanceof NestedArtifactPart && spec.shape !== "nested" && !(spec.shape === "path" && given.layout === undefined)) {
        throw new ValidationError(`${where}: artifact "${name}" expects a ${spec.shape} artifact, got a level of a nested artifact (${given.root.variable.describe()})`);
      }
    }
  }

  /** Renders this call as an Argo step in the template being compiled. */
  toArgoStep(compiler: TemplateCompiler, owner: Template): WorkflowStep {
    if (!this.loop) return this.render(compiler, owner, true);
    const ctx = compiler.context(owner);
    const step: WorkflowStep = { name: this.name, template: compiler.nameOf(this.loop) };
    const args = this.loop.outerArguments(compiler, ctx);
    if (args && Object.keys(args).length) step.arguments = args;
    if (this.options.when !== undefined) step.when = renderCondition(this.options.when, ctx);
    if (this.options.continueOn) step.continueOn = compact({ ...this.options.continueOn }) as ContinueOn;
    if (this.options.onExit) step.onExit = compiler.nameOf(this.options.onExit);
    if (this.options.hooks) step.hooks = renderHooks(this.options.hooks, compiler, ctx, this);
    return step;
  }

  private render(compiler: TemplateCompiler, owner: Template, outer: boolean): WorkflowStep {
    const ctx = compiler.context(owner);
    const where = `${this.kindName()} "${this.name}"`;
    const sig = this.template.inputs;
    const params = this.args("parameters");
    const arts = this.args("artifacts");
    const parameters: Parameter[] = [];
    const artifacts: Artifact[] = [];
    for (const [name, spec] of Object.entries(sig)) {
      if (spec.kind === "parameter" && !spec.big) {
        const v = params[name];
        if (v === undefined) continue;
        parameters.push({ name, value: v instanceof Expr || containsExpr(v) ? renderValue(toExpr(v as Operand<unknown>), ctx) : encodeParameter(v) });
        continue;
      }
      const v = spec.kind === "parameter" ? (arts[name] ?? params[name]) : arts[name];
      if (v === undefined) continue;
      if (spec.kind === "parameter" && containsExpr(v) && !(v instanceof Expr)) {
        throw new CompileError(`${where}: big parameter "${name}" travels as an artifact; it cannot be built from references (pass one reference or a literal)`);
      }
      if (spec.kind === "parameter" && !(v instanceof Expr) && !isArtifactSource(v)) {
        // A literal value of a big parameter travels as an inline (raw) artifact.
        artifacts.push({ name, raw: { data: encodeParameter(v) } });
        continue;
      }
      if (Array.isArray(v)) {
        if (!(this.template instanceof JoinedInputsTemplate || this.template instanceof JoinedListsTemplate)) {
          throw new CompileError(`${where}: artifact "${name}": a list of artifacts can be given only directly, not from a function of the item`);
        }
        v.forEach((part: unknown, i) => artifacts.push(renderArtifactArg(joinedPartName(name, i), part, ctx, where)));
        // Parts that are lists: which part is which, with the catalogs of those that have one.
        if (v.some((part: unknown) => partShape(part) === "list")) {
          const layout = v.map((part: unknown) => (partShape(part) !== "list" ? "path" : part instanceof ArtifactRef && part.catalog ? part.catalog : "list"));
          parameters.push({ name: joinParameter(name), value: containsExpr(layout) ? renderValue(toExpr(layout as Operand<unknown>), ctx) : JSON.stringify(layout) });
        }
        continue;
      }
      // A part of an undeclared nested tree given for one path: the leaf the catalog lists there.
      const arg = renderArtifactArg(name, v instanceof NestedArtifactPart && spec.kind === "artifact" && spec.shape === "path" ? v.leaf() : v, ctx, where);
      // An optional input may be fed by an output that was not produced.
      if (spec.optional && (arg.from !== undefined || arg.fromExpression !== undefined)) arg.optional = true;
      artifacts.push(arg);
    }
    if (this.options.key !== undefined) {
      parameters.push({ name: KEY_PARAMETER, value: renderValue(this.options.key, ctx) });
    }
    const args: Arguments = compact({
      parameters: parameters.length ? parameters : undefined,
      artifacts: artifacts.length ? artifacts : undefined,
    });
    const step: WorkflowStep = { name: this.name, template: compiler.nameOf(this.template) };
    if (Object.keys(args).length) step.arguments = args;
    if (outer && this.options.when !== undefined) step.when = renderCondition(this.options.when, ctx);
    if (this.options.withParam !== undefined) step.withParam = renderValue(this.options.withParam as Operand<unknown>, ctx);
    if (this.options.withItems !== undefined) step.withItems = this.options.withItems.map((i) => i as unknown as ArgoItem);
    if (this.options.withSequence !== undefined) step.withSequence = renderSequence(this.options.withSequence, ctx);
    if (this.options.continueOn) step.continueOn = compact({ ...this.options.continueOn }) as ContinueOn;
    if (outer && this.options.onExit) step.onExit = compiler.nameOf(this.options.onExit);
    if (outer && this.options.hooks) step.hooks = renderHooks(this.options.hooks, compiler, ctx, this);
    return step;
  }

  /** The key expression, if any. */
  get key(): Operand<string> | undefined {
    return this.options.key;
  }

  /** Templates this step calls. */
  references(): Template[] {
    return [this.loop ?? this.template, ...(this.options.onExit ? [this.options.onExit] : []), ...Object.values(this.options.hooks ?? {}).map((h) => h.template)];
  }
}

function renderSequence(seq: SequenceLoop, ctx: RenderContext): Sequence {
  const num = (v: Operand<number> | undefined): string | undefined => (v === undefined ? undefined : renderValue(v, ctx));
  return compact({ count: num(seq.count), start: num(seq.start), end: num(seq.end), format: seq.format });
}

function renderArtifactArg(name: string, value: unknown, ctx: RenderContext, where: string): Artifact {
  if (value instanceof SubPathArtifact) {
    const inner = renderArtifactArg(name, value.artifact, ctx, where);
    return { ...inner, subPath: inner.subPath ? `${inner.subPath}/${value.subPath}` : value.subPath };
  }
  if (value instanceof ArtifactPart) return { ...renderArtifactArg(name, value.artifact, ctx, where), subPath: value.renderSubPath(ctx) };
  if (value instanceof StackedArtifactRef) {
    value.path(ctx); // scope check, and dependency inference in DAGs
    return { name, s3: { key: value.repositoryKey() } };
  }
  if (value instanceof VarRef) return { name, from: value.renderTag(ctx) };
  if (value instanceof RawTag) return { name, from: value.text };
  if (value instanceof Expr) return { name, fromExpression: renderExpression(value, ctx) };
  if (value && typeof (value as ArtifactSource).toArgoArtifact === "function") {
    ctx.onArtifactSource?.(value as ArtifactSource);
    return { name, ...(value as ArtifactSource).toArgoArtifact() };
  }
  throw new CompileError(`${where}: artifact "${name}" must be an artifact reference or source, got ${typeof value}`);
}

function describeArg(v: unknown): string {
  if (v instanceof ArtifactRef) return `a ${v.shape} artifact (${v.variable.describe()})`;
  if (v instanceof LocalArtifact) return `local files as a ${v.shape}`;
  if (v instanceof VarRef) return `a parameter (${v.variable.describe()})`;
  if (Array.isArray(v)) return "a list";
  return v === null ? "null" : typeof v;
}

/** What a part of a joined list input is: one path, a list, or (undefined) not a part. */
function partShape(part: unknown): "path" | "list" | undefined {
  if (part instanceof ArtifactPart) return part.shape === "path" ? "path" : undefined;
  if (part instanceof ArtifactRef) return part.shape === "path" || part.shape === "list" ? part.shape : undefined;
  if (part instanceof LocalArtifact) return part.shape === "path" || part.shape === "list" ? part.shape : undefined;
  return isArtifactSource(part) ? "path" : undefined;
}

/** Entry names of the parts of a joined input: what each part is called inside its folder. */
function partEntry(part: unknown, i: number): string {
  if (part instanceof ArtifactPart && typeof part.subPath === "string") return part.subPath.split("/").pop() ?? `item-${i}`;
  // An item or entry read from a catalog: its name is known only at run time; say which it is.
  if (part instanceof ArtifactPart && part.slot !== undefined && part.artifact.source.type !== "workflow" && part.artifact.source.type !== "item") {
    return `${part.artifact.source.name ?? "item"}-${String(part.slot).replace(/^-/, "end")}`;
  }
  const source = part instanceof ArtifactPart ? part.artifact.source : part instanceof ArtifactRef ? part.source : undefined;
  const n = source && (source.type === "output" || source.type === "input") ? source.name : undefined;
  return n ?? `item-${i}`;
}

/**
 * The template a step calls: `template`, or, when lists of artifacts are given, its variant
 * taking joined inputs — or, when some part is a list and the template has no OP runner to
 * flatten it, a wrapper that joins the lists in a step of its own first (`joined-lists.ts`).
 */
function joinInputs(where: string, template: Template, artifacts: AnyOptions["artifacts"], keyed: boolean): Template {
  if (!artifacts || typeof artifacts !== "object") return template;
  const parts: Record<string, PartLayout[]> = {};
  let lists = false;
  for (const [name, v] of Object.entries(artifacts)) {
    if (!Array.isArray(v)) continue;
    checkJoinable(where, template, name);
    if (!v.length) throw new ValidationError(`${where}: artifact "${name}" is given an empty list of artifacts`);
    parts[name] = v.map((part: unknown, i) => {
      const shape = partShape(part);
      if (!shape) throw new ValidationError(`${where}: artifact "${name}" item ${i}: only single-path and list artifacts can be joined into a list, got ${describeArg(part)}`);
      if (shape === "list") lists = true;
      return shape === "list" ? { list: true as const } : { entry: partEntry(part, i) };
    });
  }
  if (!Object.keys(parts).length) return template;
  return lists && !hasOpRunner(template) ? new JoinedListsTemplate(template, parts, keyed) : new JoinedInputsTemplate(template, parts);
}

/** An artifact argument of which only a part is handed over (Argo's `subPath`). */
export class SubPathArtifact {
  constructor(
    readonly artifact: unknown,
    readonly subPath: string,
  ) {}
}

/** When a hook runs: an expression, a function of the hooked step, or Argo text. */
export type HookCondition = Operand<boolean> | string | ((step: { readonly status: ParamRef<string> }) => Operand<boolean>);

/** A lifecycle hook of a step or task (see {@link StepControl.hooks}). */
export interface StepHook {
  readonly template: Template;
  /**
   * When it runs: an expression, a function of the step it hooks (`(s) => s.status.eq("Running")`),
   * or Argo text. @default when the step ends (only for the hook named `exit`)
   */
  readonly when?: HookCondition;
  /** Parameters of the hook's template. */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/**
 * A lifecycle hook: runs `template` once, when `when` first holds (Argo's `hooks`).
 *
 * @example
 * const train = new Step("train", trainT, { parameters: { … }, hooks: {
 *   failed: lifecycleHook(alertT, { when: trainStatus.eq("Failed"), parameters: { what: "train" } }),
 * } });
 */
export function lifecycleHook<I extends Signature>(
  template: Template<I, Signature>,
  options: { readonly when?: HookCondition } & ({} extends ParamArgs<I> ? { readonly parameters?: ParamArgs<I> } : { readonly parameters: ParamArgs<I> }),
): StepHook {
  const parameters = (options as { parameters?: Record<string, unknown> }).parameters;
  const known = new Set(splitSignature(template.inputs).parameters.map(([n]) => n));
  for (const [name, value] of Object.entries(parameters ?? {})) {
    if (!known.has(name)) throw new ValidationError(`lifecycle hook of template "${template.name}": unknown parameter ${JSON.stringify(name)}; parameters: ${[...known].join(", ") || "none"}`);
    const spec = template.inputs[name];
    if (spec?.kind === "parameter" && !(value instanceof Expr) && !containsExpr(value)) {
      const r = spec.schema.safeParse(value);
      if (!r.success) throw new ValidationError(formatIssues(`lifecycle hook of template "${template.name}"`, name, r.error, value));
    }
  }
  return { template, ...(options.when !== undefined ? { when: options.when } : {}), ...(parameters ? { parameters } : {}) };
}

/** Checks hooks' names, templates and conditions (`where` names their owner). */
export function checkHooks(where: string, hooks: Readonly<Record<string, StepHook>> | undefined): void {
  for (const [name, hook] of Object.entries(hooks ?? {})) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new ValidationError(`${where}: hook name ${JSON.stringify(name)} is invalid: use lowercase letters, digits and "-"`);
    if (!hook || typeof (hook.template as { toArgo?: unknown } | undefined)?.toArgo !== "function") throw new ValidationError(`${where}: hook "${name}" needs a template (make it with lifecycleHook)`);
    if (name !== "exit" && hook.when === undefined) throw new ValidationError(`${where}: hook "${name}" needs a condition (when); only the hook named "exit" runs without one`);
  }
}

/** Renders hooks to Argo's `hooks`; `self` is what a condition given as a function sees (the owner's status). */
export function renderHooks(hooks: Readonly<Record<string, StepHook>>, compiler: Pick<TemplateCompiler, "nameOf">, ctx: RenderContext, self: { readonly status: ParamRef<string> }): Record<string, LifecycleHook> {
  const out: Record<string, LifecycleHook> = {};
  for (const [name, h] of Object.entries(hooks)) {
    const hook: LifecycleHook = { template: compiler.nameOf(h.template) };
    if (h.when !== undefined) {
      const cond = typeof h.when === "function" ? h.when(self) : h.when;
      hook.expression = typeof cond === "string" ? cond : toExpr(cond).renderExpr(ctx);
    }
    const params = Object.entries(h.parameters ?? {}).map(([n, v]) => ({
      name: n,
      value: v instanceof Expr || containsExpr(v) ? renderValue(toExpr(v as Operand<unknown>), ctx) : encodeParameter(v),
    }));
    if (params.length) hook.arguments = { parameters: params };
    out[name] = hook;
  }
  return out;
}
