/**
 * List artifacts joined into one list input of a template without an OP runner in its image
 * (script, shell and container templates): a script must see one list, `<input>/<index>/<entry>`
 * with consecutive indices, and nothing in its image can flatten the parts. So the step runs a
 * small Steps template (`<template>-join-<input>-<n>`) that first calls an opflow join step —
 * the join OP (`join-op.ts`) on the stock Node image of OP templates, taking the parts as an OP
 * takes joined parts — and then the template itself, with the join's one list in place of the
 * parts.
 *
 * The wrapper takes exactly the arguments of the OP variant (`joined-inputs.ts`): the other
 * inputs by name, each joined input's parts as `<input>-part-<i>`, and `opflow-join-<input>`.
 * Its outputs are the template's, passed on; the template's standard output (`result`) and
 * exit code are passed on as the output parameters `opflow-result` and `opflow-exit-code`.
 */
import type { Artifact, Parameter, Template as ArgoTemplate, WorkflowStep } from "../argo/model.ts";
import { KEY_PARAMETER } from "../contract.ts";
import { joinParameter } from "../op/joined-list.ts";
import { NONE } from "../op/parameter-codec.ts";
import { type Signature, splitSignature } from "../op/signature.ts";
import { compact } from "../template/compact.ts";
import { OPTemplate } from "../template/op-template.ts";
import { orderTemplate } from "../template/order.ts";
import { Template, type TemplateCall, type TemplateCompiler } from "../template/template.ts";
import { JOIN_OP_NAME, joinListOp } from "./join-op.ts";
import { JoinedInputsTemplate, type JoinedParts, type PartLayout, joinedInputDeclarations, joinedPartName, joinedVariantName } from "./joined-inputs.ts";

/** The output parameter of the wrapper carrying the template's standard output. */
export const RESULT_PARAMETER = "opflow-result";
/** The output parameter of the wrapper carrying the template's exit code. */
export const EXIT_CODE_PARAMETER = "opflow-exit-code";

let joinTemplate: OPTemplate | undefined;

/** The template of the join OP (one per process: every wrapper calls the same). */
function joinOpTemplate(): OPTemplate {
  joinTemplate ??= OPTemplate.fromOp(joinListOp, { name: JOIN_OP_NAME });
  return joinTemplate;
}

/** The step name of the join of input `input` inside the wrapper. */
function joinStepName(input: string): string {
  return `join-${input}`.slice(0, 63).replace(/-+$/, "");
}

/** The wrapper: join steps, then the template with the joined lists. */
export class JoinedListsTemplate extends Template<Signature, Signature> {
  private readonly joins: ReadonlyMap<string, JoinedInputsTemplate>;

  constructor(
    readonly inner: Template,
    /** Input name → the layout of each part inside its folder. */
    readonly parts: Readonly<Record<string, readonly PartLayout[]>>,
    /** Whether the step passes a key (forwarded to the template). */
    private readonly keyed: boolean,
  ) {
    super(joinedVariantName(inner, parts), inner.inputs, inner.outputs, {});
    const joins = new Map<string, JoinedInputsTemplate>();
    for (const [name, layouts] of Object.entries(parts)) joins.set(name, new JoinedInputsTemplate(joinOpTemplate(), { parts: layouts }));
    this.joins = joins;
  }

  /** The parts this wrapper is called with. */
  get joinedParts(): JoinedParts {
    return this.parts;
  }

  override references(): Template[] {
    return [...this.joins.values(), this.inner];
  }

  override calls(): readonly TemplateCall[] {
    return [...[...this.joins.values()].map((template) => ({ template, conditional: false, keyed: false })), { template: this.inner, conditional: false, keyed: this.keyed }];
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const { parameters, artifacts } = joinedInputDeclarations(this.renderInputs(() => undefined, compiler), this.parts);

    const joins: WorkflowStep[] = [...this.joins].map(([name, template]) => {
      const layouts = this.parts[name] ?? [];
      const args: Parameter[] = layouts.some((p) => "list" in p) ? [{ name: joinParameter("parts"), value: `{{inputs.parameters.${joinParameter(name)}}}` }] : [];
      return compact({
        name: joinStepName(name),
        template: compiler.nameOf(template),
        arguments: compact({
          parameters: args.length ? args : undefined,
          artifacts: layouts.map((_, i) => ({ name: joinedPartName("parts", i), from: `{{inputs.artifacts.${joinedPartName(name, i)}}}` })),
        }),
      });
    });

    const runParams: Parameter[] = [];
    const runArts: Artifact[] = [];
    if (compiler.takesKey?.(this)) runParams.push({ name: KEY_PARAMETER, value: `{{inputs.parameters.${KEY_PARAMETER}}}` });
    const inputs = splitSignature(this.inner.inputs);
    for (const [name, spec] of inputs.parameters) {
      if (spec.big) runArts.push(compact({ name, from: `{{inputs.artifacts.${name}}}`, optional: spec.optional || undefined }));
      else runParams.push({ name, value: `{{inputs.parameters.${name}}}` });
    }
    for (const [name, spec] of inputs.artifacts) {
      if (this.parts[name]) runArts.push({ name, from: `{{steps.${joinStepName(name)}.outputs.artifacts.list}}` });
      else runArts.push(compact({ name, from: `{{inputs.artifacts.${name}}}`, optional: spec.optional || undefined }));
    }
    const run: WorkflowStep = compact({
      name: "run",
      template: compiler.nameOf(this.inner),
      arguments: compact({ parameters: runParams.length ? runParams : undefined, artifacts: runArts.length ? runArts : undefined }),
    });

    const outputs = splitSignature(this.inner.outputs);
    const outParams: Parameter[] = outputs.parameters
      .filter(([, spec]) => !spec.big)
      .map(([name, spec]) => ({ name, valueFrom: compact({ parameter: `{{steps.run.outputs.parameters.${name}}}`, default: spec.optional ? NONE : undefined }) }));
    outParams.push({ name: RESULT_PARAMETER, valueFrom: { parameter: "{{steps.run.outputs.result}}" } }, { name: EXIT_CODE_PARAMETER, valueFrom: { parameter: "{{steps.run.exitCode}}" } });
    const outArts: Artifact[] = [
      ...outputs.parameters.filter(([, spec]) => spec.big).map(([name, spec]) => compact({ name, from: `{{steps.run.outputs.artifacts.${name}}}`, optional: spec.optional || undefined })),
      ...outputs.artifacts.map(([name, spec]) => compact({ name, from: `{{steps.run.outputs.artifacts.${name}}}`, optional: spec.optional || undefined })),
    ];
    const tmpl: ArgoTemplate = compact({
      name: compiler.nameOf(this),
      inputs: compact({ parameters: parameters.length ? parameters : undefined, artifacts: artifacts.length ? artifacts : undefined }),
      outputs: compact({ parameters: outParams, artifacts: outArts.length ? outArts : undefined }),
      steps: [joins, [run]],
    });
    return [orderTemplate(tmpl)];
  }
}
