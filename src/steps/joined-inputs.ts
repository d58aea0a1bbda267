/**
 * Several artifacts into one list input (dflow's `artifacts={"x": [a1, a2]}`): the input
 * arrives as one directory holding every part, laid out as a list artifact
 * (`<input>/<index>/<entry>`), so an OP reads it as its list of paths and a script finds each
 * part in its own folder.
 *
 * Argo has no argument that merges artifacts, but a template may declare several input
 * artifacts whose paths lie inside one directory. So the step calls a variant of its pod
 * template where the list input is declared once per part (`<input>-part-<i>`, path
 * `<input path>/<i>/<entry>`), and passes one argument per part. The variant is the same
 * container otherwise, with the same local binding.
 *
 * A part that is itself a list is declared at `<input path>/<i>` (its items below it), and the
 * variant takes the input parameter `opflow-join-<input>` (also in the environment) that tells
 * the OP runner which part is which (`op/joined-list.ts`): the runner flattens the parts into
 * one list. Only templates with the runner take such parts; the others go through a join step
 * first (`joined-lists.ts`).
 */
import { createHash } from "node:crypto";
import type { Artifact, Parameter, Template as ArgoTemplate } from "../argo/model.ts";
import type { LocalBinding } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import type { RenderContext } from "../expr/tree.ts";
import { joinParameter } from "../op/joined-list.ts";
import type { Signature } from "../op/signature.ts";
import { OPTemplate, SlicedOPTemplate } from "../template/op-template.ts";
import { PodTemplate } from "../template/pod-template.ts";
import { Template, type TemplateCall, type TemplateCompiler } from "../template/template.ts";

/** The argument name of part `index` of the joined input `input`. */
export function joinedPartName(input: string, index: number): string {
  return `${input}-part-${index}`;
}

/** Where one part of a joined input lies in its folder: a single path's entry name, or a list's items. */
export type PartLayout = { readonly entry: string } | { readonly list: true };

/** Whether a template runs the OP runner, which flattens parts that are lists. */
export function hasOpRunner(template: Template): boolean {
  return template instanceof OPTemplate || template instanceof SlicedOPTemplate;
}

/** Parts by joined input: what a template taking joined inputs is called with. */
export type JoinedParts = Readonly<Record<string, readonly PartLayout[]>>;

/** The joined inputs of a template called with parts (the variant here, the wrapper of `joined-lists.ts`), else undefined. */
export function joinedPartsOf(template: Template): JoinedParts | undefined {
  return (template as { readonly joinedParts?: JoinedParts }).joinedParts;
}

/**
 * The inputs a template passing its own inputs on to a template called with parts declares:
 * `declared` (rendered from the plain signature) with each joined input replaced by its parts,
 * and the description parameter of each input with list parts.
 */
export function joinedInputDeclarations(declared: ArgoTemplate["inputs"], parts: JoinedParts): { parameters: Parameter[]; artifacts: Artifact[] } {
  const parameters: Parameter[] = [...(declared?.parameters ?? [])];
  const artifacts: Artifact[] = [];
  for (const a of declared?.artifacts ?? []) {
    const layouts = parts[a.name];
    if (!layouts) artifacts.push(a);
    else layouts.forEach((_, i) => artifacts.push({ name: joinedPartName(a.name, i) }));
  }
  for (const [name, layouts] of Object.entries(parts)) if (layouts.some((p) => "list" in p)) parameters.push({ name: joinParameter(name) });
  return { parameters, artifacts };
}

/** The arguments that pass a template's own joined inputs (parts, descriptions) on to a call. */
export function forwardJoinedInputs(parts: JoinedParts): { parameters: Parameter[]; artifacts: Artifact[] } {
  const parameters: Parameter[] = [];
  const artifacts: Artifact[] = [];
  for (const [name, layouts] of Object.entries(parts)) {
    layouts.forEach((_, i) => artifacts.push({ name: joinedPartName(name, i), from: `{{inputs.artifacts.${joinedPartName(name, i)}}}` }));
    if (layouts.some((p) => "list" in p)) parameters.push({ name: joinParameter(name), value: `{{inputs.parameters.${joinParameter(name)}}}` });
  }
  return { parameters, artifacts };
}

/**
 * The name of a template variant taking joined inputs: `<template>-join-<input>-<parts>-<hash>`.
 * The hash is of the parts' layouts (which part is a list, each single path's entry name), which
 * change the template: two steps joining different kinds of parts into the same input get two
 * variants, each with a name of its own.
 */
export function joinedVariantName(inner: Template, parts: JoinedParts): string {
  const suffix = Object.entries(parts)
    .map(([n, layouts]) => `${n}-${layouts.length}`)
    .join("-");
  const hash = createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 6);
  return `${`${inner.name.slice(0, 100)}-join-${suffix}`.slice(0, 113).replace(/-+$/, "")}-${hash}`;
}

/** The variant of a pod template whose list inputs are joined from parts. */
export class JoinedInputsTemplate extends Template {
  constructor(
    readonly inner: Template,
    /** Input name → the layout of each part inside its folder. */
    readonly parts: Readonly<Record<string, readonly PartLayout[]>>,
  ) {
    super(joinedVariantName(inner, parts), inner.inputs, inner.outputs, {});
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const inner = this.inner;
    const self = this;
    const mapped = (t: Template): Template => (t === inner ? self : t);
    // The inner template renders itself under this template's name and context.
    const view: TemplateCompiler = {
      ...(compiler.bundle ? { bundle: (m: string, e: readonly string[]) => compiler.bundle?.(m, e) } : {}),
      nameOf: (t) => compiler.nameOf(mapped(t)),
      context: (t): RenderContext => compiler.context(mapped(t)),
      warn: (m) => compiler.warn(m),
      outputMayBeSkipped: (t, o) => compiler.outputMayBeSkipped(mapped(t), o),
      ...(compiler.takesKey ? { takesKey: (t: Template) => compiler.takesKey?.(mapped(t)) ?? false } : {}),
      ...(compiler.report ? { report: (t: Template, issue: Parameters<NonNullable<TemplateCompiler["report"]>>[1]) => compiler.report?.(mapped(t), issue) } : {}),
      ...(compiler.layOutDag ? { layOutDag: (d: Parameters<NonNullable<TemplateCompiler["layOutDag"]>>[0]) => compiler.layOutDag?.(d) ?? [] } : {}),
    };
    const [first, ...rest] = inner.toArgo(view);
    if (!first) return [];
    const declared = first.inputs?.artifacts ?? [];
    const artifacts: Artifact[] = [];
    for (const a of declared) {
      const entries = this.parts[a.name];
      if (!entries) {
        artifacts.push(a);
        continue;
      }
      const base = (a.path ?? "").replace(/\/+$/, "");
      entries.forEach((part, i) => artifacts.push({ name: joinedPartName(a.name, i), path: "list" in part ? `${base}/${i}` : `${base}/${i}/${part.entry}` }));
    }
    // Parts that are lists: the runner learns which part is which from opflow-join-<input>.
    const described = Object.entries(this.parts)
      .filter(([, layouts]) => layouts.some((p) => "list" in p))
      .map(([n]) => joinParameter(n));
    if (!described.length) return [{ ...first, inputs: { ...first.inputs, artifacts } }, ...rest];
    const parameters: Parameter[] = [...(first.inputs?.parameters ?? []), ...described.map((name) => ({ name }))];
    const container = first.container ? { ...first.container, env: [...(first.container.env ?? []), ...described.map((name) => ({ name, value: `{{inputs.parameters.${name}}}` }))] } : undefined;
    return [{ ...first, inputs: { ...first.inputs, parameters, artifacts }, ...(container ? { container } : {}) }, ...rest];
  }

  /** The parts this variant is called with. */
  get joinedParts(): JoinedParts {
    return this.parts;
  }

  override references(): Template[] {
    return this.inner.references();
  }
  override calls(): readonly TemplateCall[] {
    return this.inner.calls();
  }
  override recordsCatalog(name: string): boolean {
    return this.inner.recordsCatalog(name);
  }
  override localBinding(): LocalBinding | undefined {
    return this.inner.localBinding();
  }
}

/** Checks that `template` can take joined inputs, naming the step. */
export function checkJoinable(where: string, template: Template, input: string): void {
  if (!(template instanceof PodTemplate)) {
    throw new ValidationError(
      `${where}: artifact "${input}" is given a list of artifacts; they are joined into one directory by the pod that reads them, and template "${template.name}" is not a pod template (pass one list artifact instead)`,
    );
  }
  const spec = (template.inputs as Signature)[input];
  if (spec?.kind !== "artifact" || spec.shape !== "list") {
    throw new ValidationError(`${where}: artifact "${input}" is given a list of artifacts; only a list input (artifact.list()) joins several artifacts, "${input}" is not one`);
  }
}
