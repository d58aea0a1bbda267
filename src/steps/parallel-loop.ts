/**
 * A fanned-out step with `parallelism` or a quorum (`continueOnNumSuccess` /
 * `continueOnSuccessRatio`): Argo limits concurrency per template, not per step, and a quorum
 * needs a check after the loop, so the loop moves into a small Steps template of its own
 * (`<template>-loop`) whose `parallelism` is the step's. Values the loop reads from outside
 * become the wrapper's inputs; the wrapper's outputs are the loop's aggregated outputs, so
 * references to the step's outputs keep their meaning. With a quorum, each item runs in a try
 * wrapper (see quorum.ts) and a check step follows the loop.
 */
import type { Artifact, Parameter, Template as ArgoTemplate, WorkflowStep } from "../argo/model.ts";
import { CompileError } from "../errors.ts";
import { isSourced } from "../expr/refs.ts";
import { type RenderContext, VarRef, type Variable } from "../expr/tree.ts";
import { orderTemplate } from "../template/order.ts";
import type { Signature } from "../op/signature.ts";
import { splitSignature } from "../op/signature.ts";
import { compact } from "../template/compact.ts";
import { Template, type TemplateCall, type TemplateCompiler } from "../template/template.ts";
import { type Quorum, TryTemplate, quorumCheckStep, quorumCheckTemplate, succeededOutput } from "./quorum.ts";

/** What the wrapper needs of the step it wraps. */
export interface LoopedStep {
  readonly name: string;
  readonly template: Template;
  readonly conditional: boolean;
  readonly key: unknown;
  /** Renders the looped step as it would stand inside `owner`, with `compiler`'s contexts. */
  renderLoop(compiler: TemplateCompiler, owner: Template): WorkflowStep;
}

interface Port {
  readonly alias: string;
  readonly kind: "parameters" | "artifacts";
  readonly variable: Variable;
}

/** The Steps template that runs one loop with bounded parallelism. */
export class ParallelLoop extends Template<Signature, Signature> {
  private readonly ports = new Map<string, Port>();
  private readonly tryTemplate: TryTemplate | undefined;
  private readonly check: Template | undefined;

  constructor(
    private readonly step: LoopedStep,
    private readonly parallelism: number | undefined,
    private readonly quorum?: Quorum,
  ) {
    super(`${step.template.name.slice(0, 120)}-loop`, {}, step.template.outputs, {});
    if (quorum) {
      this.tryTemplate = new TryTemplate(step.template, step.key !== undefined);
      this.check = quorumCheckTemplate();
    }
  }

  /** The template each item calls: the step's, or its try wrapper under a quorum. */
  private get itemTemplate(): Template {
    return this.tryTemplate ?? this.step.template;
  }

  override references(): Template[] {
    return [this.itemTemplate, ...(this.check ? [this.check] : [])];
  }

  /** The call inside. */
  override calls(): readonly TemplateCall[] {
    return [
      { template: this.itemTemplate, conditional: this.step.conditional, keyed: this.step.key !== undefined },
      ...(this.check ? [{ template: this.check, conditional: true, keyed: false }] : []),
    ];
  }

  /** The context inside the wrapper: outside values become its inputs. */
  private context(compiler: TemplateCompiler): RenderContext {
    const base = compiler.context(this);
    return {
      template: compiler.nameOf(this),
      ...(base.onArtifactSource ? { onArtifactSource: base.onArtifactSource } : {}),
      resolve: (v, path) => {
        if (!isSourced(v)) return path;
        const s = v.source;
        if (s.type !== "input" && s.type !== "output") return path;
        const kind: "parameters" | "artifacts" = s.io === "artifacts" ? "artifacts" : "parameters";
        const alias = path.join("-");
        this.ports.set(`${kind}:${alias}`, { alias, kind, variable: v });
        return ["inputs", kind, alias];
      },
    };
  }

  private renderInner(compiler: TemplateCompiler): WorkflowStep {
    this.ports.clear();
    const ctx = this.context(compiler);
    const inner = this.step.renderLoop({ ...compiler, context: () => ctx }, this);
    if (this.tryTemplate) inner.template = compiler.nameOf(this.tryTemplate);
    const { name: _name, ...rest } = inner;
    const text = JSON.stringify(rest);
    const stray = /\{\{=?[^}]*\b(steps|tasks)(\.|\[)/.exec(text);
    if (stray) {
      throw new CompileError(
        `Step "${this.step.name}": with parallelism the loop runs in a template of its own, where raw Argo text such as ${JSON.stringify(stray[0])}… cannot reach other steps; pass typed references (step.outputs…) instead of rawArgo`,
      );
    }
    return inner;
  }

  /** Arguments the outer step passes: each outside value, rendered where the step stands. */
  outerArguments(compiler: TemplateCompiler, outerCtx: RenderContext): WorkflowStep["arguments"] {
    this.renderInner(compiler);
    const parameters: Parameter[] = [];
    const artifacts: Artifact[] = [];
    for (const p of this.ports.values()) {
      const value = new VarRef(p.variable).renderTag(outerCtx);
      if (p.kind === "parameters") parameters.push({ name: p.alias, value });
      else artifacts.push({ name: p.alias, from: value });
    }
    return compact({ parameters: parameters.length ? parameters : undefined, artifacts: artifacts.length ? artifacts : undefined });
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const inner = this.renderInner(compiler);
    const ports = [...this.ports.values()];
    const { parameters, artifacts } = splitSignature(this.step.template.outputs);
    const outParams: Parameter[] = parameters
      .filter(([, spec]) => !spec.big)
      .map(([name]) => (this.quorum ? succeededOutput(inner.name, name) : { name, valueFrom: { parameter: `{{steps.${inner.name}.outputs.parameters.${name}}}` } }));
    void artifacts;
    const inputs = compact({
      parameters: ports.filter((p) => p.kind === "parameters").map((p) => ({ name: p.alias })),
      artifacts: ports.filter((p) => p.kind === "artifacts").map((p) => ({ name: p.alias })),
    });
    const t: ArgoTemplate = {
      name: compiler.nameOf(this),
      ...(inputs.parameters?.length || inputs.artifacts?.length
        ? { inputs: compact({ parameters: inputs.parameters?.length ? inputs.parameters : undefined, artifacts: inputs.artifacts?.length ? inputs.artifacts : undefined }) }
        : {}),
      ...(outParams.length ? { outputs: { parameters: outParams } } : {}),
      ...(this.parallelism !== undefined ? { parallelism: this.parallelism } : {}),
      steps: this.quorum && this.check ? [[inner], [quorumCheckStep(this.step.name, inner.name, this.quorum, compiler.nameOf(this.check))]] : [[inner]],
    };
    return [orderTemplate(t)];
  }
}
