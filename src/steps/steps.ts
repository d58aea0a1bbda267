/**
 * `Steps`: a template made of sequential groups of parallel steps (Argo's `steps`). Like
 * every template it has typed inputs and outputs; it may call itself (a loop, guarded by
 * `when`).
 */
import type { Artifact, Parameter, Template as ArgoTemplate } from "../argo/model.ts";
import { CompileError, ValidationError } from "../errors.ts";
import { ArtifactRef, type ArtifactHandle, type RefArtifactShape } from "../expr/refs.ts";
import { Expr, type Operand, RawTag, VarRef, renderExpression, toExpr } from "../expr/tree.ts";
import { orderTemplate } from "../template/order.ts";
import { NONE, encodeParameter } from "../op/parameter-codec.ts";
import type { ArtifactKeys, ArtifactSpec, ParamKeys, Signature, SpecValue } from "../op/signature.ts";
import { splitSignature } from "../op/signature.ts";
import {
  type InputRefs,
  Template,
  type TemplateCompiler,
  type TemplateCall,
  type TemplateOptions,
  inputRefs,
  reportIssue,
} from "../template/template.ts";
import { compact, nonEmpty } from "../template/compact.ts";
import type { StepLike } from "./step.ts";

/** What the compiler needs to know of a step's call of its template. */
export function callOf(step: Pick<StepLike, "template" | "conditional" | "key">): TemplateCall {
  return { template: step.template, conditional: step.conditional, keyed: step.key !== undefined };
}

type ShapeOf<S> = S extends ArtifactSpec<infer K> ? K : never;

/** Sources of a graph template's outputs. */
export interface OutputBindings<O extends Signature> {
  readonly parameters?: { readonly [K in ParamKeys<O>]?: Operand<SpecValue<O[K]>> };
  readonly artifacts?: { readonly [K in ArtifactKeys<O>]?: Expr<ArtifactHandle<ShapeOf<O[K]>>> };
}

/** Options of graph templates (Steps and DAG). */
export interface GraphTemplateOptions<I extends Signature, O extends Signature> extends TemplateOptions {
  /** The template's name (lowercase RFC 1123). */
  readonly name: string;
  /** Input signature. @default no inputs */
  readonly inputs?: I;
  /** Output signature; bind sources with `setOutputs`. @default no outputs */
  readonly outputs?: O;
  /** At most this many children run at once. @default unlimited */
  readonly parallelism?: number;
  /** Stop scheduling new children once one fails. @default Argo's default (true) */
  readonly failFast?: boolean;
}

/** Shared by Steps and DAG: inputs, output bindings, rendering of outputs. */
export abstract class GraphTemplate<I extends Signature, O extends Signature> extends Template<I, O> {
  protected readonly graph: GraphTemplateOptions<I, O>;
  private readonly bindings: { parameters: Map<string, unknown>; artifacts: Map<string, unknown> } = {
    parameters: new Map(),
    artifacts: new Map(),
  };

  constructor(options: GraphTemplateOptions<I, O>) {
    super(options.name, options.inputs ?? ({} as I), options.outputs ?? ({} as O), options);
    this.graph = options;
    if (options.parallelism !== undefined && (!Number.isInteger(options.parallelism) || options.parallelism < 1)) {
      throw new ValidationError(`template "${options.name}": parallelism must be a positive integer, got ${options.parallelism}`);
    }
  }

  /** Typed references to this template's inputs (`{{inputs.parameters.x}}`). */
  get io(): InputRefs<I> {
    return inputRefs(this, this.inputs);
  }

  /**
   * Binds the template's declared outputs to step outputs or expressions.
   *
   * @example
   * main.setOutputs({ parameters: { result: ifExpression(cond, a.outputs.parameters.x, b.outputs.parameters.x) } });
   */
  setOutputs(bindings: OutputBindings<O>): this {
    const { parameters, artifacts } = splitSignature(this.outputs);
    const pnames = new Map(parameters);
    const anames = new Map(artifacts);
    for (const [name, value] of Object.entries(bindings.parameters ?? {})) {
      const spec = pnames.get(name);
      if (!spec) throw new ValidationError(`template "${this.name}": setOutputs: unknown output parameter ${JSON.stringify(name)}; declared: ${[...pnames.keys()].join(", ") || "none"}`);
      if (value instanceof ArtifactRef && !spec.big) throw new ValidationError(`template "${this.name}": output parameter "${name}" was bound to an artifact`);
      this.bindings.parameters.set(name, value);
    }
    for (const [name, value] of Object.entries(bindings.artifacts ?? {})) {
      if (!anames.has(name)) throw new ValidationError(`template "${this.name}": setOutputs: unknown output artifact ${JSON.stringify(name)}; declared: ${[...anames.keys()].join(", ") || "none"}`);
      this.bindings.artifacts.set(name, value);
    }
    return this;
  }

  /** Renders the outputs section. */
  protected renderGraphOutputs(compiler: TemplateCompiler): ArgoTemplate["outputs"] {
    const ctx = compiler.context(this);
    const { parameters, artifacts } = splitSignature(this.outputs);
    const params: Parameter[] = [];
    const arts: Artifact[] = [];
    for (const [name, spec] of parameters) {
      const value = this.bindings.parameters.get(name);
      if (value === undefined) {
        if (spec.hasDefault) {
          params.push({ name, valueFrom: { expression: renderExpression(encodeParameter(spec.defaultValue), ctx) } });
          continue;
        }
        if (spec.optional) continue;
        reportIssue(compiler, this, {
          path: ["outputs", "parameters", name],
          rule: "unbound-output",
          message: `template "${this.name}": output parameter "${name}" is declared but not bound; call setOutputs`,
          value: name,
        });
        continue;
      }
      if (spec.big) {
        arts.push({ name, ...artifactFrom(value, compiler, this) });
        continue;
      }
      const p: Parameter = { name, valueFrom: {} };
      const vf = p.valueFrom as NonNullable<Parameter["valueFrom"]>;
      if (value instanceof VarRef) vf.parameter = value.renderTag(ctx);
      else if (value instanceof RawTag) vf.parameter = value.text;
      else if (value instanceof Expr && value.kind === "json") vf.expression = `toJson(${renderExpression(value, ctx)})`;
      else vf.expression = renderExpression(value instanceof Expr ? value : encodeParameter(value), ctx);
      if (spec.hasDefault) vf.default = encodeParameter(spec.defaultValue);
      else if (spec.optional) vf.default = NONE;
      else if (compiler.outputMayBeSkipped(this, name) || this.readsSkippable(value)) vf.default = "";
      if (spec.globalName) p.globalName = spec.globalName;
      params.push(p);
    }
    for (const [name, spec] of artifacts) {
      const value = this.bindings.artifacts.get(name);
      if (value === undefined) {
        if (spec.optional) continue;
        reportIssue(compiler, this, {
          path: ["outputs", "artifacts", name],
          rule: "unbound-output",
          message: `template "${this.name}": output artifact "${name}" is declared but not bound; call setOutputs`,
          value: name,
        });
        continue;
      }
      const a: Artifact = { name, ...artifactFrom(value, compiler, this) };
      if (spec.globalName) a.globalName = spec.globalName;
      if (spec.optional) a.optional = true;
      arts.push(a);
    }
    return compact({ parameters: params.length ? params : undefined, artifacts: arts.length ? arts : undefined });
  }

  /** Whether an output binding reads a child that may be skipped. */
  protected readsSkippable(value: unknown): boolean {
    if (!(value instanceof VarRef)) return false;
    const src = (value.variable as { source?: { type: string; producer?: { conditional?: boolean } } }).source;
    return src?.type === "output" && src.producer?.conditional === true;
  }

  /** Fields shared by Steps and DAG. */
  protected renderGraphCommon(compiler: TemplateCompiler): ArgoTemplate {
    return compact({
      name: compiler.nameOf(this),
      inputs: nonEmpty(this.renderInputs(() => undefined, compiler)),
      outputs: nonEmpty(this.renderGraphOutputs(compiler)),
      ...this.renderCommon(),
      parallelism: this.graph.parallelism,
      failFast: this.graph.failFast,
    }) as ArgoTemplate;
  }
}

function artifactFrom(value: unknown, compiler: TemplateCompiler, owner: Template): Omit<Artifact, "name"> {
  const ctx = compiler.context(owner);
  if (value instanceof VarRef) return { from: value.renderTag(ctx) };
  if (value instanceof RawTag) return { from: value.text };
  if (value instanceof Expr) return { fromExpression: renderExpression(value, ctx) };
  throw new CompileError(`template "${owner.name}": artifact outputs must be bound to artifact references or expressions`);
}

/**
 * Sequential groups of parallel steps.
 *
 * @example
 * const main = new Steps({ name: "main" });
 * const a = main.add(new Step("a", hello, { parameters: { name: "A" } }));
 * main.add([
 *   new Step("b", hello, { parameters: { name: a.outputs.parameters.greeting } }),
 *   new Step("c", hello, { parameters: { name: "C" } }),
 * ]);
 */
export class Steps<I extends Signature = {}, O extends Signature = {}> extends GraphTemplate<I, O> {
  private readonly groups: StepLike[][] = [];
  private readonly names = new Set<string>();

  constructor(options: GraphTemplateOptions<I, O>) {
    super(options);
  }

  /** Adds a step (a new sequential group) or a list of steps (one parallel group); returns it. */
  add<S extends StepLike | readonly StepLike[]>(steps: S): S {
    const group = (Array.isArray(steps) ? [...steps] : [steps]) as StepLike[];
    if (group.length === 0) throw new ValidationError(`Steps "${this.name}": add() needs at least one step`);
    const fresh = new Set<string>();
    for (const s of group) {
      if (this.names.has(s.name) || fresh.has(s.name)) throw new ValidationError(`Steps "${this.name}": step name "${s.name}" is used twice`);
      fresh.add(s.name);
    }
    for (const n of fresh) this.names.add(n);
    for (const s of group) s.attach(this);
    this.groups.push(group);
    return steps;
  }

  /** The groups added so far. */
  get stepGroups(): readonly (readonly StepLike[])[] {
    return this.groups;
  }

  override references(): Template[] {
    return this.groups.flat().flatMap((s) => s.references());
  }

  override calls(): readonly TemplateCall[] {
    return this.groups.flat().map(callOf);
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    if (this.groups.length === 0) throw new CompileError([{ path: ["steps"], rule: "empty", message: `Steps "${this.name}": has no steps` }]);
    const t = this.renderGraphCommon(compiler);
    t.steps = this.groups.map((g) => g.map((s) => s.toArgoStep(compiler, this)));
    return [orderTemplate(t)];
  }
}

