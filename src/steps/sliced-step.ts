/**
 * Sliced steps (dflow's `Slices`): fan an OP out over the items of list inputs and stack its
 * outputs back into lists, in item order. The width is data (`withParam` over indices), so
 * the manifest does not grow with the number of items.
 */
import { parseDuration } from "../duration.ts";
import { ValidationError } from "../errors.ts";
import { type ArtifactHandle, ArtifactPart, ArtifactRef, ItemRef, type RefProducer } from "../expr/refs.ts";
import { Call, Expr, type Operand, type RenderContext, toExpr } from "../expr/tree.ts";
import { OPTemplate } from "../template/op-template.ts";
import { PodTemplate } from "../template/pod-template.ts";
import type { Template } from "../template/template.ts";
import { type ArtifactKeys, type ArtifactSpec, type ParamKeys, type ParamSpec, type Signature, type SpecValue, splitSignature } from "../op/signature.ts";
import { catalogParameter } from "../op/catalog.ts";
import { SLICE_INDICES_PARAMETER, STACK_KEY_PARAMETER, type SliceOptions, type SliceSpec, checkSliceOptions } from "../op/slices.ts";
import { ElementOf, type ScriptSliceSpec, SliceGroupTemplate, SliceTryTemplate, SlicedItemTemplate, checkScriptSlices } from "./script-slices.ts";
import { StackKey } from "./stacked.ts";
import { Step, type StepArguments, type StepControl, SubPathArtifact } from "./step.ts";

/** Sliced inputs: a list for each parameter, a list artifact for each single-path artifact. */
export type SliceSources<I extends Signature> = {
  readonly [K in ParamKeys<I>]?: I[K] extends ParamSpec ? Operand<Exclude<SpecValue<I[K]>, undefined>[]> : never;
} & {
  readonly [K in ArtifactKeys<I>]?: I[K] extends ArtifactSpec<"path"> ? Expr<ArtifactHandle<"list">> : never;
};

/** What stacking makes of an output signature: single-path artifacts become lists. */
export type StackedSignature<O extends Signature> = {
  readonly [K in keyof O]: O[K] extends ArtifactSpec<"path", infer Opt> ? ArtifactSpec<"list", Opt> : O[K];
};

/** Options of {@link slicedStep}. */
export type SlicedStepOptions<I extends Signature, S extends SliceSources<I>> = { readonly slices: S } & StepArguments<
  Omit<I, keyof S & string>,
  number
> &
  SliceOptions &
  Omit<StepControl<number>, "withParam" | "withItems" | "withSequence"> & {
    /**
     * Number of items, when only artifacts are sliced (their length is not known to Argo).
     * @default the length of the first sliced parameter's list
     */
    readonly count?: Operand<number>;
  };

/** Builds the loop, the arguments and the sliced template of a sliced step or task. */
export function sliceCall<I extends Signature, O extends Signature>(
  kind: "Step" | "Task",
  name: string,
  template: Template<I, O>,
  options: SlicedStepOptions<I, SliceSources<I>>,
  producer: () => RefProducer,
): { template: Template; options: Record<string, unknown> } {
  const where = `${kind} "${name}"`;
  checkSliceOptions(where, options);
  if (template instanceof PodTemplate && !(template instanceof OPTemplate)) {
    return scriptSliceCall(where, template as unknown as PodTemplate<Signature, Signature>, options as unknown as SlicedStepOptions<Signature, SliceSources<Signature>>, producer);
  }
  if (!(template instanceof OPTemplate)) return sliceGraphCall(where, template as unknown as Template, options as unknown as SlicedStepOptions<Signature, SliceSources<Signature>>);
  const sources = (options.slices ?? {}) as Record<string, unknown>;
  const { params, arts } = slicedInputs(where, template as unknown as Template, options as unknown as SlicedStepOptions<Signature, SliceSources<Signature>>);
  const given = (options as { parameters?: Record<string, unknown> }).parameters ?? {};
  const givenArts = (options as { artifacts?: Record<string, unknown> }).artifacts ?? {};
  const spec: SliceSpec = {
    parameters: params,
    artifacts: arts,
    poolSize: options.poolSize ?? 1,
    createDir: options.createDir ?? false,
    // One item per step: each step downloads only its own item by default (equivalent, and
    // cheap: N items cost N downloads, not N²). Several items per step need the whole list.
    subPath: options.subPath ?? (options.groupSize ?? 1) === 1,
    ...(options.shuffle ? { shuffle: { seed: options.randomSeed ?? 0 } } : {}),
    ...(options.poolTimeout !== undefined ? { poolTimeoutMs: parseDuration(options.poolTimeout, `${where}: poolTimeout`) } : {}),
    ...(options.raiseForGroup === false ? { raiseForGroup: false } : {}),
  };
  if (spec.shuffle) {
    const big = Object.entries(template.outputs as Signature).find(([, io]) => io.kind === "parameter" && io.big);
    if (big) throw new ValidationError(`${where}: shuffle stacks outputs by index; big parameter output "${big[0]}" of template "${template.name}" cannot be stacked that way`);
  }
  const sliced = template.sliced(spec);
  const length = sliceLength(where, sources, params, arts, options.count);
  const g = options.groupSize ?? 1;
  const withParam =
    g === 1 ? new Call<number[]>("sprig.until", [new Call<number>("int", [length as Expr<unknown>], "integer")], "json") : new GroupIndices(length, g);
  const item = new ItemRef<unknown>();
  const parameters: Record<string, unknown> = { ...given, [SLICE_INDICES_PARAMETER]: item };
  for (const p of params) parameters[p] = sources[p];
  if (sliced.stacksArtifacts) parameters[STACK_KEY_PARAMETER] = new StackKey(producer);
  const artifacts: Record<string, unknown> = { ...givenArts };
  for (const a of arts) artifacts[a] = spec.subPath ? new SubPathArtifact(sources[a], "{{item}}") : sources[a];
  const control: Record<string, unknown> = {};
  for (const k of ["when", "continueOn", "key", "onExit", "parallelism", "continueOnNumSuccess", "continueOnSuccessRatio", "dependencies", "depends"]) {
    const v = (options as unknown as Record<string, unknown>)[k];
    if (v !== undefined) control[k] = v;
  }
  return { template: sliced, options: { ...control, parameters, artifacts, withParam, stacked: spec.shuffle ? "pairs" : true } };
}

/** The sliced inputs named by `slices`, split into parameters and artifacts; checks they are not also passed directly. */
function slicedInputs(where: string, template: Template, options: SlicedStepOptions<Signature, SliceSources<Signature>>): { params: string[]; arts: string[] } {
  const sources = (options.slices ?? {}) as Record<string, unknown>;
  const params: string[] = [];
  const arts: string[] = [];
  for (const [key, value] of Object.entries(sources)) {
    const spec = template.inputs[key];
    if (!spec) throw new ValidationError(`${where}: slices: unknown input ${JSON.stringify(key)} of template "${template.name}"`);
    if (value === undefined) continue;
    if (spec.kind === "artifact" && Array.isArray(value)) {
      throw new ValidationError(
        `${where}: sliced artifact "${key}" is given a list of artifacts; slices take one list artifact (each child fetches its own item of it), so join the parts first — pass [a1, a2] to a list input of a step of its own (an OP returning its list input) — and slice over that step's output`,
      );
    }
    (spec.kind === "parameter" ? params : arts).push(key);
  }
  if (!params.length && !arts.length) throw new ValidationError(`${where}: slices must name at least one input`);
  const given = (options as { parameters?: Record<string, unknown> }).parameters ?? {};
  const givenArts = (options as { artifacts?: Record<string, unknown> }).artifacts ?? {};
  for (const key of [...params, ...arts]) {
    if (key in given || key in givenArts) throw new ValidationError(`${where}: input "${key}" is sliced; do not also pass it under parameters or artifacts`);
  }
  return { params, arts };
}

/** The control options a sliced call passes on to its step. */
function controlOf(options: object, keys: readonly string[]): Record<string, unknown> {
  const control: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (options as Record<string, unknown>)[k];
    if (v !== undefined) control[k] = v;
  }
  return control;
}

/**
 * Slices over a script, shell or container template (any language, no OP runner in the
 * image): the manifest does the slicing. Each item is one call of the template with its
 * element of every sliced parameter and its item of every sliced artifact (`subPath`); groups
 * run in a Steps template of their own (`<template>-group`), `poolSize` items at once.
 */
function scriptSliceCall(
  where: string,
  template: PodTemplate<Signature, Signature>,
  options: SlicedStepOptions<Signature, SliceSources<Signature>>,
  producer: () => RefProducer,
): { template: Template; options: Record<string, unknown> } {
  refuseRunnerOptions(where, template, options);
  if (options.createDir) throw new ValidationError(`${where}: createDir gives items of a group their own working directory in the OP runner; template "${template.name}" runs each item in a pod of its own, so leave it out`);
  const { params, arts } = slicedInputs(where, template, options);
  const spec: ScriptSliceSpec = { parameters: params, artifacts: arts, groupSize: options.groupSize ?? 1, poolSize: options.poolSize ?? 1 };
  checkScriptSlices(where, template, spec);
  const sources = (options.slices ?? {}) as Record<string, unknown>;
  const given = (options as { parameters?: Record<string, unknown> }).parameters ?? {};
  const givenArts = (options as { artifacts?: Record<string, unknown> }).artifacts ?? {};
  const stacksArtifacts = splitSignature(template.outputs).artifacts.length > 0;
  const item: Template = stacksArtifacts ? new SlicedItemTemplate(template) : template;
  const length = sliceLength(where, sources, params, arts, options.count);
  const control = controlOf(options, ["when", "continueOn", "key", "onExit", "parallelism", "continueOnNumSuccess", "continueOnSuccessRatio", "dependencies", "depends"]);
  const parameters: Record<string, unknown> = { ...given };
  const artifacts: Record<string, unknown> = { ...givenArts };
  const index = new ItemRef<unknown>();
  if (stacksArtifacts) parameters[STACK_KEY_PARAMETER] = new StackKey(producer);
  if (spec.groupSize === 1) {
    for (const p of params) parameters[p] = new ElementOf(sliceList(sources[p]), index);
    for (const a of arts) artifacts[a] = new SubPathArtifact(sources[a], "{{item}}");
    if (stacksArtifacts) parameters[SLICE_INDICES_PARAMETER] = index;
    const withParam = new Call<number[]>("sprig.until", [new Call<number>("int", [length as Expr<unknown>], "integer")], "json");
    return { template: item, options: { ...control, parameters, artifacts, withParam, stacked: "artifacts" } };
  }
  // raiseForGroup: false: each item runs in a wrapper that lets it fail (continueOn).
  const member = options.raiseForGroup === false ? new SliceTryTemplate(item) : item;
  const group = new SliceGroupTemplate(member, spec, template.inputs, template.outputs, template.name);
  for (const p of params) parameters[p] = sources[p];
  for (const a of arts) artifacts[a] = sources[a];
  parameters[SLICE_INDICES_PARAMETER] = index;
  return { template: group, options: { ...control, parameters, artifacts, withParam: new GroupIndices(length, spec.groupSize), stacked: true } };
}

/**
 * The number of items: `count` when given, else the length of the first sliced parameter's
 * list, else the length of the catalog of the first sliced artifact that has one (dflow reads
 * the count from the artifact's catalog too).
 */
function sliceLength(where: string, sources: Record<string, unknown>, params: readonly string[], arts: readonly string[], count: Operand<number> | undefined): Expr<number> {
  if (count !== undefined) return toExpr(count);
  const first = params[0];
  if (first !== undefined) return new Call<number>("len", [sliceList(sources[first])], "integer");
  for (const a of arts) {
    const source = sources[a];
    if (source instanceof ArtifactRef && source.catalog) return new Call<number>("len", [source.catalog as Expr<unknown>], "integer");
  }
  throw new ValidationError(
    `${where}: only artifacts are sliced and none records a catalog (${arts.map((a) => JSON.stringify(a)).join(", ")}: only list outputs of OP templates do); give count (the number of items)`,
  );
}

/**
 * Slices over a template without the OP runner (a Steps or DAG template): each child gets its
 * element of every sliced parameter through an expression and exactly its item of every sliced
 * list artifact (Argo's `subPath`, read from the list's catalog); its outputs aggregate as Argo
 * aggregates loop outputs. With `groupSize` > 1 each child is a group (`<template>-group`, a
 * Steps template looping over the group's indices, `poolSize` at once) and the outputs are
 * stacked: the groups' lists flattened back into one list in item order.
 */
function sliceGraphCall(
  where: string,
  template: Template,
  options: SlicedStepOptions<Signature, SliceSources<Signature>>,
): { template: Template; options: Record<string, unknown> } {
  refuseRunnerOptions(where, template, options);
  if (options.subPath || options.createDir) {
    throw new ValidationError(
      `${where}: subPath and createDir need an OP, script, shell or container template; "${template.name}" is a graph template (each child gets exactly its item of a sliced artifact, from the list's catalog)`,
    );
  }
  const sources = (options.slices ?? {}) as Record<string, unknown>;
  const given = (options as { parameters?: Record<string, unknown> }).parameters ?? {};
  const givenArts = (options as { artifacts?: Record<string, unknown> }).artifacts ?? {};
  const { params, arts } = slicedInputs(where, template, options);
  for (const key of params) {
    const spec = template.inputs[key];
    if (spec?.kind === "parameter" && spec.big) throw new ValidationError(`${where}: only parameters and single-path artifacts can be sliced; input "${key}" of template "${template.name}" is not one`);
  }
  const catalogs: Record<string, Expr<unknown>> = {};
  for (const key of arts) {
    const spec = template.inputs[key];
    if (spec?.kind !== "artifact" || spec.shape !== "path") {
      throw new ValidationError(`${where}: only parameters and single-path artifacts can be sliced; input "${key}" of template "${template.name}" is not one`);
    }
    // Each child gets exactly its item, found in the list's catalog (Argo's subPath).
    const value = sources[key];
    if (!(value instanceof ArtifactRef) || !value.catalog) {
      throw new ValidationError(
        `${where}: slicing artifact "${key}" over the graph template "${template.name}" reads each item's path from the list's catalog; pass a list output of an OP template (which records one)`,
      );
    }
    catalogs[key] = value.catalog;
  }
  const passed = (options as { artifacts?: unknown }).artifacts;
  if (typeof passed === "function" && arts.length) throw new ValidationError(`${where}: artifacts are sliced; give the other artifacts as an object, not a function of the item`);
  const length = sliceLength(where, sources, params, arts, options.count);
  const control = controlOf(options, ["when", "continueOn", "key", "onExit", "parallelism", "continueOnNumSuccess", "continueOnSuccessRatio", "dependencies", "depends"]);
  const groupSize = options.groupSize ?? 1;
  if (groupSize === 1) {
    const parameters: Record<string, unknown> = { ...given };
    const artifacts: Record<string, unknown> = { ...givenArts };
    for (const p of params) parameters[p] = new ElementOf(sliceList(sources[p]), new ItemRef<unknown>());
    for (const a of arts) artifacts[a] = new ArtifactPart(sources[a] as ArtifactRef, new ElementOf(catalogs[a] as Expr<unknown>, new ItemRef<unknown>()) as Expr<string>);
    const withParam = new Call<number[]>("sprig.until", [new Call<number>("int", [length as Expr<unknown>], "integer")], "json");
    return { template, options: { ...control, parameters, artifacts: typeof passed === "function" ? passed : artifacts, withParam } };
  }
  checkGraphGroup(where, template, options);
  const spec: ScriptSliceSpec = { parameters: params, artifacts: arts, groupSize, poolSize: options.poolSize ?? 1, itemPath: "catalog" };
  // raiseForGroup: false: each item runs in a wrapper that lets it fail (continueOn).
  const member = options.raiseForGroup === false ? new SliceTryTemplate(template as Template<Signature, Signature>) : (template as Template<Signature, Signature>);
  const group = new SliceGroupTemplate(member, spec, template.inputs, template.outputs, template.name);
  const parameters: Record<string, unknown> = { ...given, [SLICE_INDICES_PARAMETER]: new ItemRef<unknown>() };
  const artifacts: Record<string, unknown> = { ...givenArts };
  for (const p of params) parameters[p] = sources[p];
  for (const a of arts) {
    artifacts[a] = sources[a];
    parameters[catalogParameter(a)] = catalogs[a];
  }
  return { template: group, options: { ...control, parameters, artifacts, withParam: new GroupIndices(length, groupSize), stacked: true } };
}

/** Checks that the items of a graph template can run in groups: other inputs not functions of the item, outputs that stack. */
function checkGraphGroup(where: string, template: Template, options: SlicedStepOptions<Signature, SliceSources<Signature>>): void {
  for (const kind of ["parameters", "artifacts"] as const) {
    if (typeof (options as unknown as Record<string, unknown>)[kind] === "function") {
      throw new ValidationError(`${where}: with groupSize ${options.groupSize} each child is a group, not an item; give the other ${kind} as an object, not a function of the item`);
    }
  }
  for (const [n, io] of Object.entries(template.outputs)) {
    if (io.kind === "artifact" || io.big) {
      throw new ValidationError(
        `${where}: groups of the graph template "${template.name}" stack output parameters only; output "${n}" is ${io.kind === "artifact" ? "an artifact" : "a big parameter"}, which Argo does not gather from a loop (slice with groupSize 1, or return it from an OP, script or container template)`,
      );
    }
  }
}

/**
 * Refuses the options only the OP runner carries out (it runs the items of a group inside one
 * pod). (`raiseForGroup: false` has a manifest form, `continueOn` on each item: see
 * {@link SliceTryTemplate}.)
 */
function refuseRunnerOptions(where: string, template: Template, options: SliceOptions): void {
  const given = (["shuffle", "poolTimeout"] as const).filter((k) => options[k] !== undefined && options[k] !== false);
  if (given.length) {
    throw new ValidationError(
      `${where}: ${given.join(", ")} ${given.length === 1 ? "is" : "are"} carried out by the OP runner inside a group's pod; template "${template.name}" is not an OP template (each of its items runs as a step of its own)`,
    );
  }
}

function sliceList(value: unknown): Expr<unknown> {
  const e = toExpr(value as Operand<unknown>);
  // A list parameter arrives as JSON text: read it as a list.
  return e.kind === "json" ? e : new Call<unknown[]>("fromJSON", [e as Expr<unknown>], "json");
}

/** `[[0..g-1], [g..2g-1], …]`: the item indices of `length` items in groups of `g`. */
class GroupIndices extends Expr<number[][]> {
  readonly kind = "json" as const;
  constructor(
    readonly length: Expr<number>,
    readonly g: number,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    const n = `int(${this.length.renderExpr(ctx)})`;
    const g = this.g;
    return `map(sprig.until((${n} + ${g} - 1) / ${g}), sprig.untilStep(# * ${g}, sprig.min(# * ${g} + ${g}, ${n}), 1))`;
  }
}

/**
 * A step that slices list inputs over a fan-out (dflow's `Slices`): each child gets one item
 * (or `groupSize` items) of every sliced input, the OP runs per item (`poolSize` at once), and
 * the step's outputs are the stacked lists, in item order.
 *
 * @example
 * const sq = main.add(slicedStep("square", squareT, { slices: { x: gen.outputs.parameters.items }, groupSize: 2 }));
 * sq.outputs.parameters.y      // ParamRef<number[]>: every item's y, in order
 */
export function slicedStep<I extends Signature, O extends Signature, S extends SliceSources<I>>(
  name: string,
  template: Template<I, O>,
  options: SlicedStepOptions<I, S>,
): Step<Signature, StackedSignature<O>, number> {
  let step: Step<Signature, StackedSignature<O>, number> | undefined;
  const built = sliceCall("Step", name, template, options as unknown as SlicedStepOptions<I, SliceSources<I>>, () => step as unknown as RefProducer);
  step = new Step<Signature, StackedSignature<O>, number>(name, built.template as never, built.options as never);
  return step;
}

