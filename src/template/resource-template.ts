/**
 * `ResourceTemplate`: Argo's `resource` template — a Kubernetes object created, applied,
 * patched, read or deleted by the step, which may wait for the object's state. It needs a
 * Kubernetes API server: it compiles for Argo, and the local engine refuses to run it, saying
 * so.
 */
import type { KubeObject, Parameter, Template as ArgoTemplate } from "../argo/model.ts";
import { toYaml } from "../argo/yaml.ts";
import { ValidationError } from "../errors.ts";
import { Expr, type RenderContext, containsExpr } from "../expr/tree.ts";
import { type ParamSpec, splitSignature } from "../op/signature.ts";
import { compact, nonEmpty } from "./compact.ts";
import { orderTemplate } from "./order.ts";
import { type InputRefs, Template, type TemplateCompiler, type TemplateOptions, inputRefs } from "./template.ts";

/** What the step does with the object (Argo's `resource.action`). */
export type ResourceAction = "get" | "create" | "apply" | "delete" | "replace" | "patch";

const ACTIONS: readonly ResourceAction[] = ["get", "create", "apply", "delete", "replace", "patch"];

/** The object: YAML text, or an object (which may hold references to the template's inputs). */
export type ResourceManifest = string | KubeObject;

/** Where an output parameter of a resource template is read from the object. */
export type ResourceOutputSource = { readonly jsonPath: string } | { readonly jqFilter: string };

/** Options of a {@link ResourceTemplate}. */
export interface ResourceTemplateOptions<I extends Record<string, ParamSpec>, O extends Record<string, ParamSpec>>
  extends Pick<TemplateOptions, "memoize" | "annotations" | "labels" | "timeout" | "retry" | "serviceAccountName"> {
  /** The template's name (lowercase RFC 1123). */
  readonly name: string;
  readonly action: ResourceAction;
  /**
   * The object, or a function of the template's input references returning it (references
   * render as `{{inputs.parameters.x}}` tags inside the YAML).
   */
  readonly manifest: ResourceManifest | ((inputs: InputRefs<I>) => ResourceManifest);
  /** Input parameters. @default none */
  readonly inputs?: I;
  /** Output parameters, each read from the object by {@link outputFrom}. @default none */
  readonly outputs?: O;
  /** For each output parameter, its JSON path (`{.metadata.name}`) or jq filter in the object. */
  readonly outputFrom?: NoInfer<{ readonly [K in keyof O]: ResourceOutputSource }>;
  /** A label selector condition for success (`"status.succeeded > 0"`). @default done when the action is */
  readonly successCondition?: string;
  /** A label selector condition for failure (`"status.failed > 3"`). @default none */
  readonly failureCondition?: string;
  /** Make the workflow the object's owner (deleted with it). @default false */
  readonly setOwnerReference?: boolean;
  /** How `patch` merges. @default Argo's ("strategic") */
  readonly mergeStrategy?: "strategic" | "merge" | "json";
  /** Extra `kubectl` flags. @default none */
  readonly flags?: readonly string[];
}

/**
 * A Kubernetes object as a step (Argo's `resource` template): creates, applies, patches, reads or
 * deletes it, and waits for `successCondition` / `failureCondition`. Runs on Argo only: the
 * local engine has no Kubernetes API server and refuses the step with a clear message.
 *
 * @example
 * ```ts
 * const job = new ResourceTemplate({
 *   name: "run-job",
 *   action: "create",
 *   setOwnerReference: true,
 *   inputs: { n: param(z.number().int()) },
 *   outputs: { job: param(z.string()) },
 *   outputFrom: { job: { jsonPath: "{.metadata.name}" } },
 *   manifest: (io) => ({ apiVersion: "batch/v1", kind: "Job", metadata: { generateName: "pi-" }, spec: { completions: io.parameters.n } }),
 *   successCondition: "status.succeeded > 0",
 *   failureCondition: "status.failed > 3",
 * });
 * ```
 */
export class ResourceTemplate<I extends Record<string, ParamSpec> = {}, O extends Record<string, ParamSpec> = {}> extends Template<I, O> {
  private readonly resource: ResourceTemplateOptions<I, O>;

  constructor(options: ResourceTemplateOptions<I, O>) {
    const { memoize, annotations, labels, timeout, retry, serviceAccountName } = options;
    const inputs = options.inputs ?? ({} as I);
    const outputs = options.outputs ?? ({} as O);
    super(options.name, inputs, outputs, compact({ memoize, annotations, labels, timeout, retry, serviceAccountName }));
    const where = `template "${options.name}"`;
    if (!ACTIONS.includes(options.action)) throw new ValidationError(`${where}: action must be one of ${ACTIONS.join(", ")}; got ${JSON.stringify(options.action)}`);
    for (const [side, sig] of [["input", inputs], ["output", outputs]] as const) {
      const { artifacts, parameters } = splitSignature(sig);
      const bad = [...artifacts.map(([n]) => n), ...parameters.filter(([, s]) => s.big).map(([n]) => n)];
      if (bad.length) throw new ValidationError(`${where}: a resource template has parameters only, got ${side} artifact(s) ${bad.join(", ")}`);
    }
    const from = (options.outputFrom ?? {}) as Record<string, ResourceOutputSource | undefined>;
    for (const name of Object.keys(outputs)) {
      const src = from[name];
      if (!src || (!("jsonPath" in src) && !("jqFilter" in src))) {
        throw new ValidationError(`${where}: output "${name}" needs outputFrom.${name} ({ jsonPath } or { jqFilter }) saying where in the object it is`);
      }
    }
    for (const name of Object.keys(from)) if (!(name in outputs)) throw new ValidationError(`${where}: outputFrom names "${name}", which is not an output (outputs: ${Object.keys(outputs).join(", ") || "none"})`);
    if (options.manifest === undefined || options.manifest === "") throw new ValidationError(`${where}: manifest is required`);
    if (options.mergeStrategy !== undefined && options.action !== "patch") {
      throw new ValidationError(`${where}: mergeStrategy applies to action "patch" only, got action ${JSON.stringify(options.action)}`);
    }
    this.resource = options;
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const o = this.resource;
    const ctx = compiler.context(this);
    const raw = typeof o.manifest === "function" ? o.manifest(inputRefs(this, this.inputs)) : o.manifest;
    const manifest = typeof raw === "string" ? raw : manifestYaml(raw, ctx);
    const from = (o.outputFrom ?? {}) as Record<string, ResourceOutputSource>;
    const params: Parameter[] = splitSignature(this.outputs).parameters.map(([name, spec]) => {
      const src = from[name] as ResourceOutputSource;
      const p: Parameter = { name, valueFrom: "jsonPath" in src ? { jsonPath: src.jsonPath } : { jqFilter: src.jqFilter } };
      if (spec.description) p.description = spec.description;
      if (spec.globalName) p.globalName = spec.globalName;
      return p;
    });
    const resource = compact({
      action: o.action,
      manifest,
      successCondition: o.successCondition,
      failureCondition: o.failureCondition,
      setOwnerReference: o.setOwnerReference || undefined,
      mergeStrategy: o.mergeStrategy,
      flags: o.flags?.length ? [...o.flags] : undefined,
    });
    return [
      orderTemplate(
        compact({
          name: compiler.nameOf(this),
          inputs: nonEmpty(this.renderInputs(() => undefined, compiler)),
          outputs: params.length ? { parameters: params } : undefined,
          ...this.renderCommon(),
          resource,
        }),
      ),
    ];
  }
}

/**
 * The object as YAML, each expression inside rendered as an Argo tag that Argo replaces in the
 * text before the object is read: text values quoted (`"{{inputs.parameters.name}}"`), numbers,
 * booleans and JSON bare (`completions: {{inputs.parameters.n}}`), so that they keep their type.
 */
function manifestYaml(value: KubeObject, ctx: RenderContext): string {
  const tags: { tag: string; quoted: boolean }[] = [];
  const token = (i: number): string => `opflow-expr-${i}-x`;
  const walk = (v: unknown): unknown => {
    if (v instanceof Expr) {
      tags.push({ tag: v.renderTag(ctx), quoted: v.kind === "string" || v.kind === "unknown" });
      return token(tags.length - 1);
    }
    if (!containsExpr(v)) return v;
    if (Array.isArray(v)) return v.map(walk);
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
  };
  let text = toYaml(walk(value));
  tags.forEach(({ tag, quoted }, i) => {
    text = text.replace(token(i), quoted ? JSON.stringify(tag) : tag);
  });
  return text;
}
