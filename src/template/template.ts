/**
 * Templates: what steps and tasks call. Every template has a name and typed input/output
 * signatures, and renders itself to one or more Argo templates when compiled. Subclasses:
 * container and script templates (`ContainerTemplate`, `ShellOPTemplate`, `ScriptOPTemplate`,
 * `OPTemplate`) and the graph templates (`Steps`, `DAG`).
 */
import type { Artifact, DAGTask, KubeObject, Parameter, Template as ArgoTemplate } from "../argo/model.ts";
import { CACHE_ANNOTATION, KEY_PARAMETER, type LocalBinding } from "../contract.ts";
import { CompileError, type Issue, ValidationError } from "../errors.ts";
import { ArtifactRef, type NestedArtifactRef, type ParamRef, artifactRefOf, paramRef } from "../expr/refs.ts";
import type { RenderContext, ValueKind } from "../expr/tree.ts";
import { checkIOName, checkName } from "../names.ts";
import { type Duration, durationSeconds, renderDuration } from "../duration.ts";
import { NONE, encodeParameter } from "../op/parameter-codec.ts";
import {
  type ArtifactKeys,
  type ArtifactSpec,
  type ParamKeys,
  type ParamSpec,
  type Signature,
  type SpecValue,
  splitSignature,
} from "../op/signature.ts";
import { compact } from "./compact.ts";
import { type RetryOn, type RetryOptions, checkRetry, renderRetry } from "./retry.ts";

/**
 * The bundle of an OP's module, as the compiler made it (see `src/bundle/`): the input artifact
 * that brings it to the pod, and the file the pod runs with `node`.
 */
export interface OPBundleRef {
  /** The template's input artifact carrying the bundle (content-addressed `s3.key`). */
  readonly input: Artifact;
  /** Path of the bundle's entry file in the pod (`/tmp/opflow/<hash>.mjs`). */
  readonly entry: string;
}

/** What a template needs from the compiler while rendering. */
export interface TemplateCompiler {
  /**
   * The bundle of the module `moduleUrl` (one per module and externals, shared by its OPs), or
   * undefined when this compile makes no bundles (local in-process runs): OP templates then
   * render their installed-mode command.
   * @throws BundleError when the module cannot be bundled.
   */
  bundle?(moduleUrl: string, externals: readonly string[]): OPBundleRef | undefined;
  /** The name the compiler gave `template` in the manifest (after dedup). */
  nameOf(template: Template): string;
  /** The render context for expressions inside `template`. */
  context(template: Template): RenderContext;
  /** Records a warning. */
  warn(message: string): void;
  /** Whether an output of `template` may be read after its producer was skipped. */
  outputMayBeSkipped(template: Template, output: string): boolean;
  /** Whether some step calls `template` with a `key` (it then declares the key input). @default false */
  takesKey?(template: Template): boolean;
  /**
   * Records a problem of `template` (`issue.path` is relative to it) and lets rendering go
   * on, so that compiling reports every problem at once. @default throw a CompileError
   */
  report?(template: Template, issue: Issue): void;
  /**
   * Lays a rendered DAG out within Argo's limits: one template, or nested templates when it
   * has more tasks than one template may hold. @default one template (`dag.whole()`)
   */
  layOutDag?(dag: DagLayout): ArgoTemplate[];
}

/** A DAG task as rendered in its DAG, for the compiler's layout. */
export interface RenderedDagTask {
  readonly name: string;
  /** The task as it stands in the whole DAG (with `depends`). */
  readonly argo: DAGTask;
  /** Tasks of the DAG it depends on, in the DAG's order. */
  readonly deps: readonly string[];
  /** Tasks of the DAG whose outputs it reads. */
  readonly reads: ReadonlySet<string>;
  /** Whether it reads an input of the DAG. */
  readonly readsInputs: boolean;
  /** Tasks named in its explicit depends logic; undefined without such logic. */
  readonly dependsMentions: readonly string[] | undefined;
  /** Renders the task again in another context (data references resolved by `ctx`). */
  rerender(ctx: RenderContext): DAGTask;
}

/** What the compiler needs to lay a DAG template out within Argo's limits. */
export interface DagLayout {
  /** The DAG template (owner of its tasks and inputs). */
  readonly template: Template;
  /** The author's bound on tasks per template. @default Argo's limit */
  readonly maxTasksPerTemplate: number | undefined;
  readonly failFast: boolean | undefined;
  readonly tasks: readonly RenderedDagTask[];
  /** The DAG as one template. */
  whole(): ArgoTemplate;
  /** The DAG's own fields (name, inputs, outputs, …) with its expressions resolved by `ctx`. */
  parent(ctx: RenderContext): ArgoTemplate;
}

/** Reports a problem of `template` to the compiler, which gathers it; throws when the compiler does not gather. */
export function reportIssue(compiler: TemplateCompiler, template: Template, issue: Issue): void {
  if (compiler.report) compiler.report(template, issue);
  else throw new CompileError([issue]);
}

/** Options every template has. */
export interface TemplateOptions {
  /**
   * The template's name in the manifest (lowercase RFC 1123, at most 128 characters).
   * @default derived from the OP's name or required, depending on the template kind
   */
  readonly name?: string;
  /** Retries of a failed attempt. A number means that many retries with the default rule. @default no retries */
  readonly retry?: RetryOptions | number;
  /** Deadline of one attempt (Argo's `activeDeadlineSeconds`); the node fails when it passes. @default none */
  readonly timeout?: Duration;
  /** Annotations on the template's pods. @default none */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Labels on the template's pods. @default none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Node labels the pod must match. @default none */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Kubernetes tolerations. @default none */
  readonly tolerations?: readonly KubeObject[];
  /** Kubernetes affinity. @default none */
  readonly affinity?: KubeObject;
  /** Service account of the pods. @default the workflow's */
  readonly serviceAccountName?: string;
  /**
   * Put this template's steps through the local engine's content-hash cache: a step whose
   * digest (template and code, resolved inputs, input artifacts' checksums) an earlier run of
   * the workdir computed is not run again (the annotation `opflow.dev/cache: "true"`; `--cache`
   * does it for every step of a run).
   * @default false
   */
  readonly cache?: boolean;
  /**
   * Cache the template's outputs on Argo by a key (Argo's `memoize`, dflow's `memoize_key`): a
   * later call with the same key within `maxAge` takes the cached outputs instead of running.
   * The key may hold tags such as `"{{inputs.parameters.x}}"`. The local engine reuses steps by
   * their `key` instead (see `reuse`).
   *
   * A template has one memoize block. Keyed reuse on Argo (`submit({ reuse })`) memoizes
   * templates called with a step `key` by that key; a template with this option keeps this
   * block instead (it takes precedence), and submit refuses to reuse its steps on Argo, naming
   * them (Argo would look their outputs up by this key, not by the step key).
   * @default not memoized
   */
  readonly memoize?: {
    readonly key: string;
    readonly maxAge: Duration;
    /** The ConfigMap holding the cache. @default "opflow-memoize" */
    readonly cache?: string;
  };
}

/** A call of a template by a step or task of a graph template (what the compiler needs to know of it). */
export interface TemplateCall {
  /** The template called. */
  readonly template: Template;
  /** Whether the call may not run (a `when`, or depends logic other than plain success). */
  readonly conditional: boolean;
  /** Whether the call passes a step key (the callee then declares the key input). */
  readonly keyed: boolean;
}

/** Typed references to a template's inputs, for use inside the template (args, steps). */
export interface InputRefs<I extends Signature> {
  readonly parameters: { readonly [K in ParamKeys<I>]: ParamRef<SpecValue<I[K]>> };
  readonly artifacts: {
    readonly [K in ArtifactKeys<I>]: I[K] extends ArtifactSpec<"nested", boolean, infer L> ? NestedArtifactRef<L> : ArtifactRef<I[K] extends ArtifactSpec<infer S> ? S : never>;
  };
}

/** Builds the input references of a template. */
export function inputRefs<I extends Signature>(owner: { readonly name: string }, sig: I): InputRefs<I> {
  const { parameters, artifacts } = splitSignature(sig);
  const p: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const [name, spec] of parameters) {
    p[name] = spec.big
      ? new ArtifactRef({ type: "input", owner, io: "artifacts", name }, "path")
      : paramRef({ type: "input", owner, io: "parameters", name }, spec.valueKind);
  }
  for (const [name, spec] of artifacts) a[name] = artifactRefOf({ type: "input", owner, io: "artifacts", name }, spec);
  return { parameters: p, artifacts: a } as unknown as InputRefs<I>;
}

/**
 * A template: what a step or task calls. `I` and `O` are its input and output signatures,
 * which type-check the wiring of every step that calls it.
 */
export abstract class Template<I extends Signature = Signature, O extends Signature = Signature> {
  readonly name: string;
  readonly inputs: I;
  readonly outputs: O;
  protected readonly options: TemplateOptions;

  constructor(name: string, inputs: I, outputs: O, options: TemplateOptions) {
    checkName("template", name);
    splitSignature(inputs);
    splitSignature(outputs);
    for (const n of Object.keys(inputs)) checkIOName(`template "${name}": input`, n);
    for (const n of Object.keys(outputs)) checkIOName(`template "${name}": output`, n);
    this.name = name;
    this.inputs = inputs;
    this.outputs = outputs;
    this.options = options;
    validateTemplateOptions(name, options);
  }

  /** Renders to Argo templates; the first is the one steps call. */
  abstract toArgo(compiler: TemplateCompiler): ArgoTemplate[];

  /** Templates this one calls (for collection by the compiler). */
  references(): Template[] {
    return [];
  }

  /** The calls this template makes through its steps or tasks (none for a container). */
  calls(): readonly TemplateCall[] {
    return [];
  }

  /**
   * Whether the template records the catalog of its list or record output artifact `name`
   * (the output parameter `opflow-catalog-<name>`, see `op/catalog.ts`), which addressing an
   * item (`at`, `key`) and slicing without a `count` read.
   */
  recordsCatalog(_name: string): boolean {
    return false;
  }

  /**
   * How `outputs.result` of a step calling this template reads in expressions: text, unless the
   * template types its result (see `result-type.ts`).
   */
  resultKind(): ValueKind {
    return "string";
  }

  /** An in-process implementation for the local engine, if this template has one. */
  localBinding(): LocalBinding | undefined {
    return undefined;
  }

  /** Default retry rule of this kind of template. */
  protected defaultRetryOn(): RetryOn {
    return "failure";
  }

  /** Argo's `inputs` for this template. */
  protected renderInputs(
    pathOf: (io: "parameters" | "artifacts", name: string) => string | undefined,
    compiler?: TemplateCompiler,
  ): ArgoTemplate["inputs"] {
    const { parameters, artifacts } = splitSignature(this.inputs);
    const params: Parameter[] = [];
    const arts: Artifact[] = [];
    // A step's key travels as an input, so that Argo and the engine record it on the node.
    if (compiler?.takesKey?.(this)) params.push({ name: KEY_PARAMETER, default: "" });
    for (const [name, spec] of parameters) {
      if (spec.big) {
        arts.push(artifactDecl(name, pathOf("artifacts", name), spec.optional));
        continue;
      }
      const p: Parameter = { name };
      if (spec.hasDefault) p.default = encodeParameter(spec.defaultValue);
      else if (spec.optional) p.default = NONE;
      const en = enumOf(spec);
      if (en) p.enum = en;
      if (spec.description) p.description = spec.description;
      params.push(p);
    }
    for (const [name, spec] of artifacts) arts.push(artifactDecl(name, pathOf("artifacts", name), spec.optional));
    return compact({ parameters: params.length ? params : undefined, artifacts: arts.length ? arts : undefined });
  }

  /** Argo's `outputs` for a template whose outputs are files at `pathOf(...)`. */
  protected renderFileOutputs(
    compiler: TemplateCompiler,
    pathOf: (io: "parameters" | "artifacts", name: string) => string,
  ): ArgoTemplate["outputs"] {
    const { parameters, artifacts } = splitSignature(this.outputs);
    const params: Parameter[] = [];
    const arts: Artifact[] = [];
    for (const [name, spec] of parameters) {
      if (spec.big) {
        const a = artifactDecl(name, pathOf("artifacts", name), spec.optional);
        if (spec.globalName) a.globalName = spec.globalName;
        arts.push(a);
        continue;
      }
      const p: Parameter = { name, valueFrom: { path: pathOf("parameters", name) } };
      if (spec.hasDefault) (p.valueFrom as { default?: string }).default = encodeParameter(spec.defaultValue);
      else if (spec.optional || compiler.outputMayBeSkipped(this, name)) (p.valueFrom as { default?: string }).default = spec.optional ? NONE : "";
      if (spec.globalName) p.globalName = spec.globalName;
      if (spec.description) p.description = spec.description;
      params.push(p);
    }
    for (const [name, spec] of artifacts) {
      const a = artifactDecl(name, pathOf("artifacts", name), spec.optional, spec.archive);
      if (spec.globalName) a.globalName = spec.globalName;
      if (spec.saveAs) a.s3 = { key: spec.saveAs };
      arts.push(a);
    }
    return compact({ parameters: params.length ? params : undefined, artifacts: arts.length ? arts : undefined });
  }

  /** Fields every template kind shares. */
  protected renderCommon(): Partial<ArgoTemplate> {
    const o = this.options;
    const out: Partial<ArgoTemplate> = {};
    const annotations = o.cache ? { ...o.annotations, [CACHE_ANNOTATION]: "true" } : o.annotations;
    if (annotations || o.labels) out.metadata = compact({ annotations: annotations && { ...annotations }, labels: o.labels && { ...o.labels } });
    if (o.retry !== undefined) out.retryStrategy = renderRetry(this.name, o.retry, this.defaultRetryOn());
    if (o.timeout !== undefined) out.activeDeadlineSeconds = Math.ceil(durationSeconds(o.timeout, `template "${this.name}": timeout`));
    if (o.nodeSelector) out.nodeSelector = { ...o.nodeSelector };
    if (o.tolerations) out.tolerations = [...o.tolerations];
    if (o.affinity) out.affinity = o.affinity;
    if (o.serviceAccountName) out.serviceAccountName = o.serviceAccountName;
    if (o.memoize) {
      out.memoize = {
        key: o.memoize.key,
        maxAge: renderDuration(o.memoize.maxAge, `template "${this.name}": memoize.maxAge`),
        cache: { configMap: { name: o.memoize.cache ?? "opflow-memoize" } },
      };
    }
    return out;
  }
}

function enumOf(spec: ParamSpec): string[] | undefined {
  const def = (spec.schema as unknown as { def?: { type?: string; entries?: Record<string, unknown> } }).def;
  if (def?.type === "enum" && def.entries) return Object.values(def.entries).map((v) => String(v));
  return undefined;
}

/** An artifact declaration. */
export function artifactDecl(name: string, path: string | undefined, optional: boolean, archive?: "tar" | "none"): Artifact {
  const a: Artifact = { name };
  if (path !== undefined) a.path = path;
  if (optional) a.optional = true;
  if (archive === "none") a.archive = { none: {} };
  return a;
}

function validateTemplateOptions(name: string, o: TemplateOptions): void {
  if (o.retry !== undefined) checkRetry(name, o.retry);
  if (o.timeout !== undefined) durationSeconds(o.timeout, `template "${name}": timeout`);
  if (o.cache !== undefined && typeof o.cache !== "boolean") throw new ValidationError(`template "${name}": cache must be true or false, got ${JSON.stringify(o.cache)}`);
  if (o.memoize !== undefined) {
    if (typeof o.memoize.key !== "string" || !o.memoize.key.trim()) {
      throw new ValidationError(`template "${name}": memoize.key must be a non-empty string, got ${JSON.stringify(o.memoize.key)}`);
    }
    durationSeconds(o.memoize.maxAge, `template "${name}": memoize.maxAge`);
    if (o.memoize.cache !== undefined) checkName(`template "${name}": memoize.cache`, o.memoize.cache);
  }
}
