/**
 * Slices over templates that have no OP runner in their image (script, shell and container
 * templates, in any language): the manifest does the slicing. Each item is one call of the
 * template, which receives its element of every sliced parameter and its item of every sliced
 * list artifact (Argo's artifact `subPath`); output parameters aggregate as Argo aggregates loop
 * outputs, and output artifacts are saved under the step's stack key, one item per index, so
 * that together they form one list artifact. Groups (`groupSize`) run in a small Steps template
 * of their own that loops over the group's items, `poolSize` at a time.
 */
import type { Artifact, Parameter, Template as ArgoTemplate, WorkflowStep } from "../argo/model.ts";
import { KEY_PARAMETER } from "../contract.ts";
import { catalogParameter } from "../op/catalog.ts";
import { ValidationError } from "../errors.ts";
import { ItemRef, paramRef } from "../expr/refs.ts";
import { Call, Expr, type RenderContext, renderValue } from "../expr/tree.ts";
import { z } from "zod";
import { type IOSpec, type Signature, artifact, param, splitSignature } from "../op/signature.ts";
import { SLICE_INDICES_PARAMETER, STACK_KEY_PARAMETER } from "../op/slices.ts";
import { compact } from "../template/compact.ts";
import { orderTemplate } from "../template/order.ts";
import { PodTemplate } from "../template/pod-template.ts";
import { Template, type TemplateCall, type TemplateCompiler } from "../template/template.ts";

/** What the manifest slices of a template without a runner. */
export interface ScriptSliceSpec {
  readonly parameters: readonly string[];
  readonly artifacts: readonly string[];
  /** Items per child. */
  readonly groupSize: number;
  /** Items of a group running at once. */
  readonly poolSize: number;
  /**
   * Where a child finds its item of a sliced list artifact: `index`, the list's `<index>`
   * directory (scripts: the item arrives as that directory); `catalog`, the path the list's
   * catalog records for it (graph templates: the item arrives as itself). With `catalog` the
   * group takes each sliced artifact's catalog as the input `opflow-catalog-<artifact>`.
   * @default "index"
   */
  readonly itemPath?: "index" | "catalog";
}

function lastSegment(p: string | undefined, fallback: string): string {
  const seg = (p ?? "").split("/").filter(Boolean).pop();
  return seg ?? fallback;
}

/**
 * One item of a sliced template without a runner: the template itself, taking its item index
 * and the stack key, and saving each output artifact as item `<index>` of the stacked list
 * (`<stack key>/<artifact>/<index>/<file name>`, unarchived, as the OP runner lays lists out).
 */
export class SlicedItemTemplate extends Template<Signature, Signature> {
  constructor(readonly inner: PodTemplate<Signature, Signature>) {
    const inputs: Record<string, IOSpec> = { ...inner.inputs };
    inputs[SLICE_INDICES_PARAMETER] = param(z.string());
    inputs[STACK_KEY_PARAMETER] = param(z.string());
    super(`${inner.name.slice(0, 120)}-item`, inputs, inner.outputs, {});
  }

  override references(): Template[] {
    return [];
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const self = this;
    const inner = this.inner as unknown as Template;
    const map = (t: Template): Template => (t === inner ? self : t);
    const proxy: TemplateCompiler = {
      ...compiler,
      nameOf: (t) => compiler.nameOf(map(t)),
      outputMayBeSkipped: (t, o) => compiler.outputMayBeSkipped(map(t), o),
      takesKey: (t) => compiler.takesKey?.(map(t)) ?? false,
      report: compiler.report && ((t, issue) => compiler.report?.(map(t), issue)),
    };
    const [tmpl, ...rest] = inner.toArgo(proxy);
    if (!tmpl) return [];
    const params: Parameter[] = [...(tmpl.inputs?.parameters ?? [])];
    params.push({ name: SLICE_INDICES_PARAMETER }, { name: STACK_KEY_PARAMETER });
    tmpl.inputs = { ...(tmpl.inputs ?? {}), parameters: params };
    for (const a of tmpl.outputs?.artifacts ?? []) {
      a.archive = { none: {} };
      a.s3 = { key: `{{inputs.parameters.${STACK_KEY_PARAMETER}}}/${a.name}/{{inputs.parameters.${SLICE_INDICES_PARAMETER}}}/${lastSegment(a.path, a.name)}` };
      delete a.globalName;
    }
    return [orderTemplate(tmpl), ...rest];
  }
}

/** `list[int(index)]`, written as Argo writes an expression's value: strings as they are, the rest as JSON. */
export class ElementOf extends Expr<unknown> {
  readonly kind = "unknown" as const;
  constructor(
    readonly list: Expr<unknown>,
    readonly index: Expr<unknown>,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    return `${this.list.renderExpr(ctx)}[int(${this.index.renderExpr(ctx)})]`;
  }
}

/**
 * A group of items of a sliced template without a runner: a Steps template that calls the
 * item template once per index of its group (`opflow-slice-indices`, a JSON list), at most
 * `poolSize` at once. Its output parameters are the lists of its items' values, in order.
 */
export class SliceGroupTemplate extends Template<Signature, Signature> {
  constructor(
    readonly item: Template<Signature, Signature>,
    readonly spec: ScriptSliceSpec,
    /** The inputs of the template being sliced (sliced ones carry whole lists here). */
    innerInputs: Signature,
    innerOutputs: Signature,
    name: string,
  ) {
    const inputs: Record<string, IOSpec> = {};
    for (const [n, io] of Object.entries(innerInputs)) {
      if (spec.parameters.includes(n) && io.kind === "parameter") inputs[n] = param(z.array(io.schema));
      else if (spec.artifacts.includes(n)) inputs[n] = artifact.list();
      else inputs[n] = io;
    }
    if (spec.itemPath === "catalog") for (const a of spec.artifacts) inputs[catalogParameter(a)] = param(z.array(z.string()));
    inputs[SLICE_INDICES_PARAMETER] = param(z.string());
    if (STACK_KEY_PARAMETER in item.inputs) inputs[STACK_KEY_PARAMETER] = param(z.string());
    const outputs: Record<string, IOSpec> = {};
    for (const [n, io] of Object.entries(innerOutputs)) outputs[n] = io.kind === "parameter" ? param(z.array(io.schema.optional())) : io;
    super(`${name.slice(0, 120)}-group`, inputs, outputs, {});
  }

  override references(): Template[] {
    return [this.item];
  }

  override calls(): readonly TemplateCall[] {
    return [{ template: this.item, conditional: false, keyed: false }];
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const ctx = compiler.context(this);
    const input = (n: string): Expr<unknown> => paramRef({ type: "input", owner: this, io: "parameters", name: n }, "string");
    const parameters: Parameter[] = [];
    const artifacts: Artifact[] = [];
    const { parameters: ps, artifacts: as } = splitSignature(this.item.inputs);
    for (const [n, spec] of ps) {
      if (n === KEY_PARAMETER) continue;
      if (spec.big) {
        artifacts.push(compact({ name: n, from: `{{inputs.artifacts.${n}}}`, optional: spec.optional || undefined }));
        continue;
      }
      let value: string;
      if (n === SLICE_INDICES_PARAMETER) value = "{{item}}";
      else if (this.spec.parameters.includes(n)) value = renderValue(new ElementOf(new Call("fromJSON", [input(n)], "json"), new ItemRef()), ctx);
      else value = renderValue(input(n), ctx);
      parameters.push({ name: n, value });
    }
    for (const [n, spec] of as) {
      const a: Artifact = { name: n, from: `{{inputs.artifacts.${n}}}` };
      if (this.spec.artifacts.includes(n)) {
        a.subPath =
          this.spec.itemPath === "catalog" ? renderValue(new ElementOf(new Call("fromJSON", [input(catalogParameter(n))], "json"), new ItemRef()), ctx) : "{{item}}";
      } else if (spec.optional) a.optional = true;
      artifacts.push(a);
    }
    const step: WorkflowStep = compact({
      name: "item",
      template: compiler.nameOf(this.item),
      arguments: compact({ parameters: parameters.length ? parameters : undefined, artifacts: artifacts.length ? artifacts : undefined }),
      withParam: `{{inputs.parameters.${SLICE_INDICES_PARAMETER}}}`,
    });
    // Items that may fail (SliceTryTemplate) give their values as JSON, `null` when failed: decoded here.
    const tried = this.item instanceof SliceTryTemplate;
    const outParams: Parameter[] = splitSignature(this.outputs).parameters.map(([n]) => ({
      name: n,
      valueFrom: tried ? { expression: `toJson(map(fromJSON(steps.item.outputs.parameters[${JSON.stringify(n)}]), fromJSON(#)))` } : { parameter: `{{steps.item.outputs.parameters.${n}}}` },
    }));
    const tmpl: ArgoTemplate = compact({
      name: compiler.nameOf(this),
      inputs: this.renderInputs(() => undefined, compiler),
      outputs: outParams.length ? { parameters: outParams } : undefined,
      parallelism: this.spec.poolSize,
      steps: [[step]],
    });
    return [orderTemplate(tmpl)];
  }
}

/**
 * One item that may fail without failing its group (`raiseForGroup: false` where the manifest
 * slices): a Steps template that calls the item with `continueOn` failed and errored, and gives
 * each output parameter as JSON — the item's value as a JSON string, or `null` when the item did
 * not succeed. (Argo's aggregate of a loop leaves failed iterations out, so the group's lists
 * would no longer line up with its items; this keeps one entry per item.)
 */
export class SliceTryTemplate extends Template<Signature, Signature> {
  constructor(readonly item: Template<Signature, Signature>) {
    const outputs: Record<string, IOSpec> = {};
    for (const [n, io] of Object.entries(item.outputs)) if (io.kind === "parameter") outputs[n] = io;
    super(`${item.name.slice(0, 120)}-try`, item.inputs, outputs, {});
  }

  override references(): Template[] {
    return [this.item];
  }

  override calls(): readonly TemplateCall[] {
    return [{ template: this.item, conditional: false, keyed: false }];
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const parameters: Parameter[] = [];
    const artifacts: Artifact[] = [];
    const { parameters: ps, artifacts: as } = splitSignature(this.item.inputs);
    for (const [n, spec] of ps) {
      if (n === KEY_PARAMETER) continue;
      if (spec.big) artifacts.push(compact({ name: n, from: `{{inputs.artifacts.${n}}}`, optional: spec.optional || undefined }));
      else parameters.push({ name: n, value: `{{inputs.parameters.${n}}}` });
    }
    for (const [n, spec] of as) artifacts.push(compact({ name: n, from: `{{inputs.artifacts.${n}}}`, optional: spec.optional || undefined }));
    const step: WorkflowStep = compact({
      name: "run",
      template: compiler.nameOf(this.item),
      arguments: compact({ parameters: parameters.length ? parameters : undefined, artifacts: artifacts.length ? artifacts : undefined }),
      continueOn: { failed: true, error: true },
    });
    const outParams: Parameter[] = splitSignature(this.outputs).parameters.map(([n]) => {
      const value = `steps.run.outputs.parameters[${JSON.stringify(n)}]`;
      return { name: n, valueFrom: { expression: `steps.run.status == "Succeeded" ? toJson(${value}) : "null"` } };
    });
    const tmpl: ArgoTemplate = compact({
      name: compiler.nameOf(this),
      inputs: this.renderInputs(() => undefined, compiler),
      outputs: outParams.length ? { parameters: outParams } : undefined,
      steps: [[step]],
    });
    return [orderTemplate(tmpl)];
  }
}

/** Checks that a template without a runner can be sliced as asked, naming the step. */
export function checkScriptSlices(where: string, template: Template, spec: ScriptSliceSpec): void {
  for (const a of spec.artifacts) {
    const io = template.inputs[a];
    if (io?.kind !== "artifact" || io.shape !== "path") {
      throw new ValidationError(`${where}: only single-path artifacts can be sliced; input "${a}" of template "${template.name}" is not one`);
    }
  }
  for (const p of spec.parameters) {
    const io = template.inputs[p];
    if (io?.kind !== "parameter" || io.big) throw new ValidationError(`${where}: only parameters can be sliced as parameters; input "${p}" of template "${template.name}" is not one`);
  }
  for (const [n, io] of Object.entries(template.outputs)) {
    if (io.kind === "parameter" && io.big) throw new ValidationError(`${where}: big parameter output "${n}" of template "${template.name}" cannot be stacked by slices`);
    if (io.kind === "artifact" && io.shape !== "path") {
      throw new ValidationError(`${where}: only single-path output artifacts can be stacked; output "${n}" of template "${template.name}" is a ${io.shape}`);
    }
  }
}
