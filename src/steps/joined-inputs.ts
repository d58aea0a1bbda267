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
 */
import type { Artifact, Template as ArgoTemplate } from "../argo/model.ts";
import type { LocalBinding } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import type { RenderContext } from "../expr/tree.ts";
import type { Signature } from "../op/signature.ts";
import { PodTemplate } from "../template/pod-template.ts";
import { Template, type TemplateCall, type TemplateCompiler } from "../template/template.ts";

/** The argument name of part `index` of the joined input `input`. */
export function joinedPartName(input: string, index: number): string {
  return `${input}-part-${index}`;
}

/** The variant of a pod template whose list inputs are joined from parts. */
export class JoinedInputsTemplate extends Template {
  constructor(
    readonly inner: Template,
    /** Input name → the entry name of each part inside its folder. */
    readonly parts: Readonly<Record<string, readonly string[]>>,
  ) {
    const suffix = Object.entries(parts)
      .map(([n, entries]) => `${n}-${entries.length}`)
      .join("-");
    super(`${inner.name.slice(0, 100)}-join-${suffix}`.slice(0, 120).replace(/-+$/, ""), inner.inputs, inner.outputs, {});
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
      entries.forEach((entry, i) => artifacts.push({ name: joinedPartName(a.name, i), path: `${base}/${i}/${entry}` }));
    }
    return [{ ...first, inputs: { ...first.inputs, artifacts } }, ...rest];
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
