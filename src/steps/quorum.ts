/**
 * Quorums of a fanned-out step (dflow's `continue_on_num_success` / `continue_on_success_ratio`):
 * the step succeeds when enough of its items succeed. In Argo terms each item runs inside a
 * small Steps template (`<template>-try`) that calls the template with `continueOn` and reports
 * `opflow-success` ("1" or "0"); after the loop, a check step runs only when too few items
 * succeeded, and fails with a message that says how many did. Outputs of the failed items are
 * left out of the aggregated outputs.
 */
import type { Artifact, Parameter, Template as ArgoTemplate, WorkflowStep } from "../argo/model.ts";
import { KEY_PARAMETER } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import { z } from "zod";
import { renderAccessor, quoteString } from "../expr/tree.ts";
import { param, splitSignature } from "../op/signature.ts";
import type { Signature } from "../op/signature.ts";
import { compact } from "../template/compact.ts";
import { ContainerTemplate } from "../template/container-template.ts";
import { orderTemplate } from "../template/order.ts";
import { Template, type TemplateCall, type TemplateCompiler } from "../template/template.ts";
import { forwardJoinedInputs, joinedInputDeclarations, joinedPartsOf } from "./joined-inputs.ts";

/** Output of a try wrapper: "1" when the item succeeded, "0" when it failed. */
export const SUCCESS_PARAMETER = "opflow-success";

/** How many items of a fanned-out step must succeed. */
export type Quorum = { readonly numSuccess: number } | { readonly successRatio: number };

/** Reads and checks the quorum options of a step; undefined when neither is given. */
export function quorumOf(where: string, numSuccess: unknown, successRatio: unknown, looped: boolean): Quorum | undefined {
  if (numSuccess === undefined && successRatio === undefined) return undefined;
  if (numSuccess !== undefined && successRatio !== undefined) {
    throw new ValidationError(`${where}: give continueOnNumSuccess or continueOnSuccessRatio, not both`);
  }
  if (!looped) throw new ValidationError(`${where}: continueOnNumSuccess and continueOnSuccessRatio count the items of a loop; add withParam, withItems or withSequence, or slice the step`);
  if (numSuccess !== undefined) {
    if (typeof numSuccess !== "number" || !Number.isInteger(numSuccess) || numSuccess < 1) {
      throw new ValidationError(`${where}: continueOnNumSuccess must be a positive integer, got ${JSON.stringify(numSuccess)}`);
    }
    return { numSuccess };
  }
  if (typeof successRatio !== "number" || !(successRatio > 0 && successRatio <= 1)) {
    throw new ValidationError(`${where}: continueOnSuccessRatio must be a number in (0, 1], got ${JSON.stringify(successRatio)}`);
  }
  return { successRatio };
}

/**
 * One item of a step with a quorum: calls the template with `continueOn` (failed and error),
 * and passes its output parameters on (`null` when it failed) with `opflow-success`.
 */
export class TryTemplate extends Template<Signature, Signature> {
  constructor(
    readonly inner: Template,
    private readonly keyed: boolean,
  ) {
    super(`${inner.name.slice(0, 120)}-try`, inner.inputs, { ...inner.outputs, [SUCCESS_PARAMETER]: param(z.string()) }, {});
  }

  override references(): Template[] {
    return [this.inner];
  }

  override calls(): readonly TemplateCall[] {
    return [{ template: this.inner, conditional: false, keyed: this.keyed }];
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const { parameters, artifacts } = splitSignature(this.inner.inputs);
    const args: { parameters: Parameter[]; artifacts: Artifact[] } = { parameters: [], artifacts: [] };
    if (compiler.takesKey?.(this)) args.parameters.push({ name: KEY_PARAMETER, value: `{{inputs.parameters.${KEY_PARAMETER}}}` });
    for (const [name, spec] of parameters) {
      if (spec.big) args.artifacts.push(compact({ name, from: `{{inputs.artifacts.${name}}}`, optional: spec.optional || undefined }));
      else args.parameters.push({ name, value: `{{inputs.parameters.${name}}}` });
    }
    // A template called with joined parts (joined-inputs.ts) gets them, not the joined input.
    const parts = joinedPartsOf(this.inner);
    for (const [name, spec] of artifacts) if (!parts?.[name]) args.artifacts.push(compact({ name, from: `{{inputs.artifacts.${name}}}`, optional: spec.optional || undefined }));
    if (parts) {
      const forwarded = forwardJoinedInputs(parts);
      args.parameters.push(...forwarded.parameters);
      args.artifacts.push(...forwarded.artifacts);
    }
    const run: WorkflowStep = compact({
      name: "run",
      template: compiler.nameOf(this.inner),
      arguments: compact({ parameters: args.parameters.length ? args.parameters : undefined, artifacts: args.artifacts.length ? args.artifacts : undefined }),
      continueOn: { failed: true, error: true },
    });
    const outputs: Parameter[] = splitSignature(this.inner.outputs)
      .parameters.filter(([, spec]) => !spec.big)
      .map(([name]) => ({ name, valueFrom: { parameter: `{{steps.run.outputs.parameters.${name}}}`, default: "null" } }));
    outputs.push({ name: SUCCESS_PARAMETER, valueFrom: { expression: `steps.run.status == "Succeeded" ? "1" : "0"` } });
    const tmpl: ArgoTemplate = compact({
      name: compiler.nameOf(this),
      inputs: parts ? joinedInputDeclarations(this.renderInputs(() => undefined, compiler), parts) : this.renderInputs(() => undefined, compiler),
      outputs: { parameters: outputs },
      steps: [[run]],
    });
    return [orderTemplate(tmpl)];
  }
}

/** The step that fails a quorum not reached: prints its message and exits 1. */
export function quorumCheckTemplate(): Template {
  return new ContainerTemplate({
    name: "opflow-quorum-not-reached",
    image: "busybox:1.36",
    inputs: { message: param(z.string()) },
    command: ["sh", "-c", 'echo "$0" >&2; exit 1'],
    args: (io) => [io.parameters.message],
  });
}

/**
 * The steps a quorum adds after the loop `loop`: one check step, run only when too few items
 * succeeded. `stepName` names the step in the message.
 */
export function quorumCheckStep(stepName: string, loop: string, quorum: Quorum, check: string): WorkflowStep {
  const list = `fromJSON(${renderAccessor(["steps", loop, "outputs", "parameters", SUCCESS_PARAMETER])})`;
  const succeeded = `len(filter(${list}, # == "1"))`;
  const total = `len(${list})`;
  const needed = "numSuccess" in quorum ? String(quorum.numSuccess) : `${quorum.successRatio} * ${total}`;
  const rule = "numSuccess" in quorum ? `at least ${quorum.numSuccess}` : `a ratio of at least ${quorum.successRatio}`;
  return {
    name: "opflow-quorum",
    template: check,
    when: `{{=${succeeded} < ${needed}}}`,
    arguments: {
      parameters: [{ name: "message", value: `step ${JSON.stringify(stepName)}: {{=${succeeded}}} of {{=${total}}} items succeeded; continueOn needs ${rule}` }],
    },
  };
}

/** The aggregated output `name` of the loop `loop` without the failed items' values. */
export function succeededOutput(loop: string, name: string): Parameter {
  const agg = renderAccessor(["steps", loop, "outputs", "parameters", name]);
  return { name, valueFrom: { expression: `toJson(filter(fromJSON(${agg}), # != ${quoteString("null")} && # != nil))`, default: "[]" } };
}
