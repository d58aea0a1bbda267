/**
 * Rebuilding opflow objects from an Argo Workflow manifest (`Workflow.fromManifest`): Steps and
 * DAG templates become `Steps` and `DAG` objects with their steps and tasks; leaf templates (and
 * graph templates using fields Steps and DAG do not express) stay verbatim as
 * `ManifestTemplate`s. See `manifest-plan.ts` for what is read and why.
 */
import { z } from "zod";
import type { ArtifactRepositoryRef, KubeObject, PodGC, Template as ArgoTemplate } from "../argo/model.ts";
import { parseYamlDocuments } from "../argo/parse-yaml.ts";
import { DAG } from "../dag/dag.ts";
import { Task } from "../dag/task.ts";
import { type Expr, rawArgo, rawExpression } from "../expr/tree.ts";
import { type ArtifactSpec, type ParamSpec, type Signature, artifact, param } from "../op/signature.ts";
import { type ArtifactSource, argoSequence, httpArtifact, lifecycleHook, rawArtifact, s3Artifact, Step, type StepHook, SubPathArtifact } from "../steps/step.ts";
import { GraphTemplate, Steps } from "../steps/steps.ts";
import { ManifestTemplate } from "../template/manifest-template.ts";
import type { Template } from "../template/template.ts";
import type { LocalBindings } from "../contract.ts";
import { type GlobalParam, globalParam } from "./global-param.ts";
import type { WorkflowMetadataOptions, WorkflowSpecFields } from "./workflow-settings.ts";
import type { RetryOptions } from "../template/retry.ts";
import { ManifestImportError, type ManifestPlan, type PlanGlobal, type PlanHook, type PlanArtifactSource, type PlanGraph, type PlanParam, type PlanStep, calledBy, planManifest } from "./manifest-plan.ts";

/** What a manifest rebuilds to: the options of the `Workflow` to make. */
export interface RebuiltWorkflow extends WorkflowSpecFields {
  readonly entrypoint: Template;
  readonly onExit?: Template;
  readonly parameters: Record<string, string>;
  readonly artifacts: Record<string, ArtifactSource>;
  readonly name?: string;
  readonly generateName?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly parallelism?: number;
  readonly timeout?: number;
  readonly ttl?: { readonly afterCompletion?: number; readonly afterSuccess?: number; readonly afterFailure?: number };
  readonly podGC?: PodGC["strategy"];
  readonly serviceAccountName?: string;
  readonly artifactRepositoryRef?: ArtifactRepositoryRef;
  readonly volumes?: readonly KubeObject[];
  readonly imagePullSecrets?: readonly string[];
  readonly templateDefaults?: Partial<ArgoTemplate>;
  readonly globals?: readonly GlobalParam[];
  readonly hooks?: Readonly<Record<string, StepHook>>;
  readonly retry?: RetryOptions | number;
  readonly workflowMetadata?: WorkflowMetadataOptions;
  /** The templates built, by name (graph templates as Steps/DAG, the others verbatim). */
  readonly templates: ReadonlyMap<string, Template>;
}

/** Options of {@link rebuildManifest} (and `Workflow.fromManifest`). */
export interface RebuildOptions {
  /**
   * In-process implementations by template name, for the local engine: the `bindings` of the
   * `prepare()` that made the manifest, so that its OP templates run in-process as they did.
   * @default none: the engine runs every template's command
   */
  readonly bindings?: LocalBindings;
  /**
   * Output specs by template name, to read those templates' output parameters typed (see
   * `ManifestTemplateOptions.outputs`). @default every output parameter of a verbatim template is a string
   */
  readonly outputs?: ReadonlyMap<string, Signature>;
}

/** Parses YAML (or JSON) text holding one Argo Workflow. */
export function parseManifestText(text: string, source = "manifest"): unknown {
  const docs = parseYamlDocuments(text, source).filter((d) => d !== null && d !== undefined);
  if (docs.length !== 1) throw new ManifestImportError(`${source}: expects one YAML document holding a Workflow, got ${docs.length}`);
  return docs[0];
}

/** A string-typed parameter spec for a graph template's signature. */
export function planParamSpec(p: PlanParam & { readonly globalName?: string }): ParamSpec {
  const opts = { ...(p.description !== undefined ? { description: p.description } : {}), ...(p.globalName !== undefined ? { globalName: p.globalName } : {}) };
  const en = p.enum && p.enum.length > 0 && (p.default === undefined || p.enum.includes(p.default)) ? p.enum : undefined;
  const schema: z.ZodType<string> = en ? z.enum(en as [string, ...string[]]) : z.string();
  return p.default !== undefined ? param(schema, { ...opts, default: p.default }) : param(schema, opts);
}

function graphSignatures(g: PlanGraph): { inputs: Signature; outputs: Signature } {
  const inputs: Record<string, ParamSpec | ArtifactSpec> = {};
  for (const p of g.inputs.parameters) inputs[p.name] = planParamSpec(p);
  for (const a of g.inputs.artifacts) inputs[a.name] = a.optional ? artifact({ optional: true }) : artifact();
  const outputs: Record<string, ParamSpec | ArtifactSpec> = {};
  for (const p of g.outputs.parameters) outputs[p.name] = planParamSpec(p);
  for (const a of g.outputs.artifacts) {
    outputs[a.name] = artifact({ ...(a.optional ? { optional: true } : {}), ...(a.globalName !== undefined ? { globalName: a.globalName } : {}) });
  }
  return { inputs, outputs };
}

/** The DSL object for an artifact source of the plan. */
export function artifactOf(s: PlanArtifactSource): Expr<unknown> | ArtifactSource | SubPathArtifact {
  if ("from" in s) return s.subPath !== undefined ? new SubPathArtifact(rawArgo(s.from), s.subPath) : rawArgo(s.from);
  if ("fromExpression" in s) return s.subPath !== undefined ? new SubPathArtifact(rawExpression(s.fromExpression), s.subPath) : rawExpression(s.fromExpression);
  if ("raw" in s) return rawArtifact(s.raw);
  if ("s3" in s) return s3Artifact(s.s3);
  return httpArtifact(s.http);
}

/**
 * Rebuilds the objects of a manifest.
 * @throws ManifestImportError naming what the DSL cannot express; ValidationError where the
 *   manifest's wiring does not fit the templates it calls.
 */
export function rebuildManifest(manifest: unknown, options: RebuildOptions = {}): RebuiltWorkflow {
  return buildPlan(planManifest(manifest), options);
}

/** Builds the objects of a plan. */
export function buildPlan(plan: ManifestPlan, options: RebuildOptions = {}): RebuiltWorkflow {
  const built = new Map<string, Template>();
  const get = (name: string): Template => {
    const t = built.get(name);
    if (!t) throw new ManifestImportError(`manifest: template "${name}" is called but was not rebuilt`);
    return t;
  };
  // Every template first (recursion and forward calls), then the steps of the graphs.
  for (const p of plan.templates) {
    if (p.kind === "verbatim") {
      const calls = calledBy(p);
      const binding = options.bindings?.get(p.name);
      const outputs = options.outputs?.get(p.name);
      built.set(p.name, new ManifestTemplate(p.argo, { calls: () => calls.map(get), ...(binding ? { binding } : {}), ...(outputs ? { outputs } : {}) }));
      continue;
    }
    const { inputs, outputs } = graphSignatures(p);
    const graphOptions = {
      name: p.name,
      inputs,
      outputs,
      ...(p.parallelism !== undefined ? { parallelism: p.parallelism } : {}),
      ...(p.failFast !== undefined ? { failFast: p.failFast } : {}),
      ...(p.annotations ? { annotations: p.annotations } : {}),
      ...(p.labels ? { labels: p.labels } : {}),
    };
    built.set(p.name, p.kind === "dag" ? new DAG(graphOptions) : new Steps(graphOptions));
  }
  for (const p of plan.templates) {
    if (p.kind === "verbatim") continue;
    const graph = built.get(p.name) as Steps<Signature, Signature> | DAG<Signature, Signature>;
    if (graph instanceof DAG) graph.add((p.groups[0] ?? []).map((s) => makeStep(s, get, true) as Task));
    else for (const group of p.groups) graph.add(group.length === 1 ? makeStep(group[0] as PlanStep, get, false) : group.map((s) => makeStep(s, get, false)));
    bindOutputs(graph, p);
  }
  const w = plan.workflow;
  const { retry, workflowMetadata, fields, ...plain } = w;
  return {
    entrypoint: get(plan.entrypoint),
    ...(plan.onExit ? { onExit: get(plan.onExit) } : {}),
    ...(plan.hooks ? { hooks: Object.fromEntries(Object.entries(plan.hooks).map(([n, h]) => [n, hookOf(h, get)])) } : {}),
    ...(plan.globals.length ? { globals: plan.globals.map(globalOf) } : {}),
    ...(retry !== undefined ? { retry: retry as RetryOptions | number } : {}),
    ...(workflowMetadata !== undefined ? { workflowMetadata } : {}),
    ...((fields ?? {}) as WorkflowSpecFields),
    parameters: { ...plan.parameters },
    artifacts: Object.fromEntries(Object.entries(plan.artifacts).map(([n, s]) => [n, artifactOf(s) as ArtifactSource])),
    ...(plain as Omit<typeof plain, "podGC" | "artifactRepositoryRef" | "volumes" | "templateDefaults">),
    ...(w.podGC !== undefined ? { podGC: w.podGC as PodGC["strategy"] } : {}),
    ...(w.artifactRepositoryRef !== undefined ? { artifactRepositoryRef: w.artifactRepositoryRef as ArtifactRepositoryRef } : {}),
    ...(w.volumes !== undefined ? { volumes: w.volumes as KubeObject[] } : {}),
    ...(w.templateDefaults !== undefined ? { templateDefaults: w.templateDefaults as Partial<ArgoTemplate> } : {}),
    templates: built,
  };
}

/** A global parameter of the plan: string-typed (Argo's values are strings), its enum kept. */
export function globalOf(g: PlanGlobal): GlobalParam {
  const schema: z.ZodType<string> = g.enum ? z.enum(g.enum as [string, ...string[]]) : z.string();
  return globalParam(g.name, schema, {
    ...(g.value !== undefined ? { default: g.value } : {}),
    ...(g.description !== undefined ? { description: g.description } : {}),
    ...(g.configMap ? { fromConfigMap: g.configMap } : {}),
  });
}

/** A lifecycle hook of the plan (of a step, task or the workflow). */
function hookOf(h: PlanHook, get: (name: string) => Template): StepHook {
  return lifecycleHook(get(h.template), { ...(h.expression !== undefined ? { when: h.expression } : {}), parameters: h.parameters } as never);
}

function bindOutputs(graph: GraphTemplate<Signature, Signature>, p: PlanGraph): void {
  const parameters: Record<string, Expr<unknown>> = {};
  for (const o of p.outputs.parameters) parameters[o.name] = o.parameter !== undefined ? rawArgo(o.parameter) : rawExpression(o.expression as string);
  const artifacts: Record<string, Expr<unknown>> = {};
  for (const o of p.outputs.artifacts) artifacts[o.name] = artifactOf(o.source) as Expr<unknown>;
  if (p.outputs.parameters.length || p.outputs.artifacts.length) graph.setOutputs({ parameters, artifacts } as never);
}

function makeStep(s: PlanStep, get: (name: string) => Template, task: boolean): Step | Task {
  const artifacts: Record<string, unknown> = {};
  for (const [n, a] of Object.entries(s.artifacts)) artifacts[n] = artifactOf(a);
  const hooks: Record<string, StepHook> = {};
  for (const [n, h] of Object.entries(s.hooks ?? {})) hooks[n] = hookOf(h, get);
  const raw = (v: string | undefined): Expr<number> | undefined => (v === undefined ? undefined : rawArgo<number>(v));
  const seq = s.withSequence;
  const options = {
    parameters: { ...s.parameters },
    artifacts,
    ...(s.key !== undefined ? { key: rawArgo(s.key) } : {}),
    ...(s.when !== undefined ? { when: s.when } : {}),
    ...(s.withParam !== undefined ? { withParam: rawArgo(s.withParam) } : {}),
    ...(s.withItems !== undefined ? { withItems: s.withItems } : {}),
    ...(seq
      ? {
          withSequence: argoSequence({
            ...(seq.count !== undefined ? { count: raw(seq.count) as Expr<number> } : {}),
            ...(seq.start !== undefined ? { start: raw(seq.start) as Expr<number> } : {}),
            ...(seq.end !== undefined ? { end: raw(seq.end) as Expr<number> } : {}),
            ...(seq.format !== undefined ? { format: seq.format } : {}),
          }),
        }
      : {}),
    ...(s.continueOn ? { continueOn: s.continueOn } : {}),
    ...(s.onExit !== undefined ? { onExit: get(s.onExit) } : {}),
    ...(s.hooks ? { hooks } : {}),
    ...(s.depends !== undefined ? { depends: s.depends } : {}),
    ...(s.dependencies !== undefined ? { dependencies: s.dependencies } : {}),
  };
  const template = get(s.template) as Template<Signature, Signature>;
  return task ? new Task(s.name, template, options as never) : new Step(s.name, template, options as never);
}
