/**
 * `Workflow`: the entrypoint template plus workflow-level settings. `compile()` gives the
 * typed Argo v4 manifest — the single intermediate representation (DESIGN.md) — which is
 * submitted to Argo or interpreted by the local engine.
 */
import { type WorkflowGraph, manifestGraph } from "./graph.ts";
import { IssueList, compileTemplates, sizeIssues } from "../argo/compile.ts";
import { BundleArtifact, uploadBundles } from "../bundle/bundle-artifact.ts";
import { bundleModuleSync } from "../bundle/bundle-sync.ts";
import { toYaml } from "../argo/yaml.ts";
import type {
  Artifact,
  ArtifactRepositoryRef,
  KubeObject,
  Parameter,
  PodGC,
  Template as ArgoTemplate,
  Workflow as ArgoWorkflow,
  WorkflowSpec,
} from "../argo/model.ts";
import type { SubmitOptions, WorkflowHandle } from "../argo/workflow-handle.ts";
import type { ArgoClient } from "../argo/client.ts";
import { rootOutputs } from "../argo/query.ts";
import { decodeOutputs, signatureValues, type StorageSource, type WorkflowOutputs } from "./outputs.ts";
import type { StorageClient } from "../storage/client.ts";
import type { LocalBindings } from "../contract.ts";
import { LocalArtifact, uploadLocalArtifacts } from "../steps/local-artifact.ts";
import type { RunOptions, RunResult } from "../debug/run.ts";
import type { DebugSubmitOptions } from "../debug/submit-mode.ts";
import { engineStorageRoot, localWorkdir } from "../debug/workdir.ts";
import { ValidationError } from "../errors.ts";
import { checkWorkflowNames } from "../names.ts";
import { type Duration, durationSeconds } from "../duration.ts";
import { formatIssues, schemaIssues } from "../op/op.ts";
import { encodeParameter } from "../op/parameter-codec.ts";
import type { Signature } from "../op/signature.ts";
import { splitSignature } from "../op/signature.ts";
import type { Template } from "../template/template.ts";
import { compact } from "../template/compact.ts";
import type { ArtifactArgs, ParamArgs, StepLike, StepOptions } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { VarRef } from "../expr/tree.ts";
import { ArtifactRef } from "../expr/refs.ts";
import { type RebuildOptions, parseManifestText, rebuildManifest } from "./from-manifest.ts";
import type { FromRunOptions } from "./from-run.ts";
import { ManifestImportError } from "./manifest-plan.ts";
import { type WorkflowSettings, checkWorkflowSettings, renderWorkflowSettings } from "./workflow-settings.ts";

/** How long finished workflows are kept (Argo's `ttlStrategy`). */
export interface TTLOptions {
  readonly afterCompletion?: Duration;
  readonly afterSuccess?: Duration;
  readonly afterFailure?: Duration;
}

/** Options of a workflow. */
export interface WorkflowOptions<I extends Signature = Signature, O extends Signature = Signature> extends WorkflowSettings {
  /**
   * Fixed name (lowercase RFC 1123, at most 63 characters). Resubmitting with the same name
   * resumes it in the local engine.
   * @default none: `generateName` is used
   */
  readonly name?: string;
  /** Prefix of generated names. @default the entrypoint's name followed by "-" */
  readonly generateName?: string;
  /** The template the workflow runs. @default a Steps template built with `add()` */
  readonly entrypoint?: Template<I, O>;
  /** Values of the entrypoint's input parameters (Argo's `spec.arguments`). */
  readonly parameters?: ParamArgs<I>;
  /** Input artifacts of the entrypoint (Argo's `spec.arguments.artifacts`). */
  readonly artifacts?: ArtifactArgs<I>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Most pods running at once. @default unlimited */
  readonly parallelism?: number;
  /** Deadline of the whole workflow. @default none */
  readonly timeout?: Duration;
  /** How long to keep finished workflows. @default kept */
  readonly ttl?: TTLOptions;
  /** When to delete pods. @default Argo's default (keep) */
  readonly podGC?: PodGC["strategy"];
  /** Runs when the workflow ends, whatever its phase (Argo's `onExit`). @default none */
  readonly onExit?: Template;
  /** Service account of the pods. @default the namespace's default */
  readonly serviceAccountName?: string;
  /** Artifact repository by ConfigMap reference (Argo's `artifactRepositoryRef`). @default the namespace's default repository */
  readonly artifactRepositoryRef?: ArtifactRepositoryRef;
  /** Pod volumes shared by all templates. @default none */
  readonly volumes?: readonly KubeObject[];
  /** Secrets used to pull images. @default none */
  readonly imagePullSecrets?: readonly string[];
  /** Defaults merged into every template (Argo's `templateDefaults`). @default none */
  readonly templateDefaults?: Partial<ArgoTemplate>;
}

/** What {@link Workflow.prepare} gives: one compile's results. */
export interface PreparedWorkflow {
  /** The typed Argo v4 manifest. */
  readonly manifest: ArgoWorkflow;
  /** In-process implementations of OP templates by manifest template name, for the local engine. */
  readonly bindings: LocalBindings;
  /** Local files passed as input artifacts; `run()` and `submit()` upload them before starting. */
  readonly localArtifacts: LocalArtifact[];
  /**
   * The OP bundles the manifest names (one per module), to put in the artifact repository
   * before the workflow runs (`submit()` does; `bundle.writeTo(dir)` writes one as stored).
   */
  readonly bundles: BundleArtifact[];
  /** The compiler's warnings (also given to `warn`). */
  readonly warnings: readonly string[];
  /** Output signature of each template by manifest template name (decodes step outputs). */
  readonly outputSignatures: ReadonlyMap<string, Signature>;
}

/** What {@link Workflow.run} gives: the run's result plus the entrypoint's outputs, typed. */
export interface WorkflowRunResult<O extends Signature = Signature> extends RunResult {
  /**
   * The entrypoint's outputs, typed by its signature (parameters as values, artifacts as
   * references with `download()`); empty when the workflow did not succeed.
   */
  readonly outputs: WorkflowOutputs<O>;
}

/** Options of {@link Workflow.compile}. */
export interface CompileOptions {
  /** Receives compiler warnings. @default printed to stderr */
  readonly warn?: (message: string) => void;
  /**
   * Bundle the modules of bundle-mode OP templates (`src/bundle/`), so that the manifest runs
   * on a cluster from any Node image: each such template gets its bundle as an input artifact
   * and runs `node /tmp/opflow/<hash>.mjs`. Without bundles, OP templates render their
   * installed-mode command (what local runs that call OPs in-process use: they need no bundle).
   * @default true for compile(), prepare(), toYaml() and submit() to a cluster; for run() and
   *   debug-mode submit(), only with an executor that runs OP templates from bundles (containers)
   */
  readonly bundles?: boolean;
}

/**
 * A workflow.
 *
 * @example
 * const wf = new Workflow({ name: "hello", entrypoint: main, parameters: { who: "world" } });
 * console.log(wf.toYaml());
 */
export class Workflow<I extends Signature = Signature, O extends Signature = Signature> {
  private readonly options: WorkflowOptions<I, O>;
  private implicit: Steps | undefined;

  /**
   * Rebuilds a workflow from an Argo Workflow manifest: Steps and DAG templates become `Steps`
   * and `DAG` objects (steps, tasks, arguments, `when`, `depends`, loops, `continueOn`, exit
   * handlers, hooks, outputs); container, script and other leaf templates — and graph templates
   * using fields Steps and DAG do not express — are kept verbatim as `ManifestTemplate`s. The
   * workflow's hooks, global parameters (as `globalParam`s), retries, metadata and pod settings
   * become its options.
   * `compile()` then gives the same manifest, up to what Argo treats as equal (order of
   * templates and arguments; templates nothing reaches are left out).
   *
   * Pass `bindings` (from the `prepare()` that made the manifest) to run its OP templates
   * in-process on the local engine, as the original workflow does.
   *
   * @throws ManifestImportError naming the field opflow's `Workflow` cannot express (e.g.
   *   `spec.podSpecPatch`), or a call of a template the manifest lacks.
   * @example
   * const wf = Workflow.fromManifest(YAML.parse(text));
   * await wf.run();
   */
  static fromManifest(manifest: unknown, options: RebuildOptions = {}): Workflow {
    const { templates: _templates, parameters, artifacts, ...rest } = rebuildManifest(manifest, options);
    const built = rest;
    return new Workflow({ ...built, parameters: parameters as ParamArgs<Signature>, artifacts: artifacts as ArtifactArgs<Signature> });
  }

  /** {@link Workflow.fromManifest} from YAML (or JSON) text holding one Workflow (`source` names it in errors). */
  static fromYaml(text: string, options: RebuildOptions & { readonly source?: string } = {}): Workflow {
    return Workflow.fromManifest(parseManifestText(text, options.source), options);
  }

  /**
   * Rebuilds the workflow of a past run from its name alone (dflow's `Workflow(id=…)`), from
   * the manifest the run stored: the local engine's `<workdir>/<name>/manifest.yaml` in debug
   * mode (`mode: "debug"` or `OPFLOW_MODE=debug`), else the Workflow object on the cluster
   * (its `spec`, or the `storedWorkflowTemplateSpec` of a `workflowTemplateRef` run, as Argo's
   * resubmit reads it), then {@link Workflow.fromManifest}. The result compiles to the run's
   * manifest, so `replay(name)`, `submit({ reuse })` (steps reused by key) and `compile()`
   * work on it. It gets a new `generateName` unless `keepName` (which makes a debug-mode
   * submit resume the run); `parameters` change workflow arguments; `ops` run OP templates
   * in-process on the local engine.
   *
   * @throws ClusterApiError (404) naming the run and the folder or namespace searched;
   *   ManifestImportError naming the run and the field the DSL cannot express (read such
   *   runs with `openRun`, which does not rebuild), or a corrupted manifest file.
   * @example
   * ```ts
   * const wf = await Workflow.fromRun("reuse-x7k2p", { mode: "debug", workdir: "runs", ops: [plusOne], parameters: { limit: 6 } });
   * const [iter0] = await (await wf.replay("reuse-x7k2p", { mode: "debug", workdir: "runs" })).querySteps({ key: "iter-0" });
   * await wf.submit({ mode: "debug", workdir: "runs", reuse: [iter0!] });
   * ```
   */
  static async fromRun(name: string, options: FromRunOptions = {}): Promise<Workflow> {
    const { runManifest, opTemplates } = await import("./from-run.ts");
    const { manifest, source } = await runManifest(name, options);
    const ops = opTemplates(manifest, options.ops ?? [], `run "${name}" (${source})`);
    try {
      return Workflow.fromManifest(manifest, { bindings: new Map([...(options.bindings ?? []), ...ops.bindings]), outputs: ops.outputs });
    } catch (err) {
      if (err instanceof ManifestImportError) throw new ManifestImportError(`run "${name}" (${source}): ${err.message}; openRun("${name}") reads its steps without rebuilding it`);
      throw err;
    }
  }

  constructor(options: WorkflowOptions<I, O> = {}) {
    this.options = options;
    checkWorkflowNames(options.name, options.generateName);
    if (options.parallelism !== undefined && (!Number.isInteger(options.parallelism) || options.parallelism < 1)) {
      throw new ValidationError(`Workflow: parallelism must be a positive integer, got ${options.parallelism}`);
    }
    if (options.timeout !== undefined) durationSeconds(options.timeout, "Workflow: timeout");
    checkWorkflowSettings(options);
    if (options.entrypoint) this.checkArguments(options.entrypoint);
  }

  private checkArguments(entry: Template<I, O>): void {
    const { parameters, artifacts } = splitSignature(entry.inputs);
    const given = (this.options.parameters ?? {}) as Record<string, unknown>;
    const givenArts = (this.options.artifacts ?? {}) as Record<string, unknown>;
    const pnames = new Set(parameters.map(([n]) => n));
    for (const name of Object.keys(given)) {
      if (!pnames.has(name)) throw new ValidationError(`Workflow: unknown parameter ${JSON.stringify(name)}; the entrypoint "${entry.name}" takes: ${[...pnames].join(", ") || "none"}`);
    }
    for (const [name, spec] of parameters) {
      const v = given[name];
      if (v === undefined) {
        if (!spec.optional) throw new ValidationError(`Workflow: parameter "${name}" of entrypoint "${entry.name}" is required`);
        continue;
      }
      if (v instanceof VarRef) throw new ValidationError(`Workflow: parameter "${name}" must be a literal value, not a reference`);
      const r = spec.schema.safeParse(v);
      if (!r.success) throw new ValidationError(formatIssues("Workflow", name, r.error, v), { issues: schemaIssues("Workflow", name, r.error, v) });
    }
    for (const g of this.options.globals ?? []) {
      if (pnames.has(g.name)) throw new ValidationError(`Workflow: global parameter "${g.name}" has the name of an input of the entrypoint "${entry.name}" (Argo would pass it to that input); rename one`);
    }
    const anames = new Set(artifacts.map(([n]) => n));
    for (const name of Object.keys(givenArts)) {
      if (!anames.has(name)) throw new ValidationError(`Workflow: unknown artifact ${JSON.stringify(name)}; the entrypoint "${entry.name}" takes: ${[...anames].join(", ") || "none"}`);
    }
  }

  /**
   * Adds a step (or a parallel group) to the workflow's implicit Steps entrypoint, as in
   * dflow's `wf.add(step)`. Not available when an `entrypoint` was given.
   */
  add<S extends StepLike | readonly StepLike[]>(steps: S): S {
    if (this.options.entrypoint) throw new ValidationError(`Workflow: add() builds an implicit entrypoint; this workflow already has entrypoint "${this.options.entrypoint.name}"`);
    this.implicit ??= new Steps({ name: "main" });
    return this.implicit.add(steps);
  }

  /** The entrypoint template. */
  get entrypoint(): Template {
    const e = (this.options.entrypoint as Template | undefined) ?? this.implicit;
    if (!e) throw new ValidationError("Workflow: no entrypoint: pass `entrypoint` or add steps with add()");
    return e;
  }

  /**
   * Compiles the workflow: the one compile entry point. Gives everything a runner needs, from
   * one compile — the typed Argo v4 manifest, the in-process bindings of OP templates (for the
   * local engine), the local input artifacts to upload first, and the compiler's warnings.
   * `compile()`, `toYaml()`, `run()` and `submit()` all go through it.
   *
   * @throws CompileError listing every problem found (`issues`), or ValidationError.
   * @example
   * const { manifest, bindings, localArtifacts, warnings } = wf.prepare();
   */
  prepare(options: CompileOptions = {}): PreparedWorkflow {
    const warnings: string[] = [];
    const print = options.warn ?? ((m: string) => process.stderr.write(`opflow: warning: ${m}\n`));
    const warn = (m: string): void => {
      warnings.push(m);
      print(m);
    };
    const o = this.options;
    const entry = this.entrypoint;
    const hookTemplates = Object.values(o.hooks ?? {}).map((h) => h.template);
    const roots = [entry, ...(o.onExit ? [o.onExit] : []), ...hookTemplates];
    // Every problem of the workflow is gathered, then thrown at once.
    const issues = new IssueList();
    const bundler = options.bundles === false ? undefined : (moduleUrl: string, externals: readonly string[]) => new BundleArtifact(bundleModuleSync(moduleUrl, { externals }));
    const { templates, nameOf, bindings, outputSignatures, sources: templateSources } = compileTemplates(roots, warn, issues, bundler ? { bundler } : {});
    const sources = new Set<object>(templateSources);
    const params: Parameter[] = [];
    const arts: Artifact[] = [];
    const { parameters, artifacts } = splitSignature(entry.inputs);
    const given = (o.parameters ?? {}) as Record<string, unknown>;
    for (const [name, spec] of parameters) {
      const v = given[name];
      if (v === undefined) continue;
      if (spec.big) arts.push({ name, raw: { data: encodeParameter(v) } });
      else params.push({ name, value: encodeParameter(v) });
    }
    const inputNames = new Set(parameters.map(([n]) => n));
    for (const g of o.globals ?? []) {
      if (inputNames.has(g.name)) {
        issues.add({ path: ["arguments", "parameters", g.name], rule: "global-name", message: `Workflow: global parameter "${g.name}" has the name of an input of the entrypoint "${entry.name}" (Argo would pass it to that input); rename one` });
        continue;
      }
      params.push(g.toArgoParameter());
    }
    const givenArts = (o.artifacts ?? {}) as Record<string, unknown>;
    for (const [name] of artifacts) {
      const v = givenArts[name] as { toArgoArtifact?: () => Omit<Artifact, "name"> } | undefined;
      if (v === undefined) continue;
      if (v instanceof ArtifactRef || typeof v.toArgoArtifact !== "function") {
        issues.add({
          path: ["arguments", "artifacts", name],
          rule: "artifact-source",
          message: `Workflow: artifact "${name}" must be an artifact source (rawArtifact, s3Artifact, httpArtifact, or an uploaded artifact)`,
        });
        continue;
      }
      sources.add(v);
      arts.push({ name, ...v.toArgoArtifact() });
    }
    const ttl = o.ttl
      ? compact({
          secondsAfterCompletion: o.ttl.afterCompletion !== undefined ? durationSeconds(o.ttl.afterCompletion, "Workflow: ttl.afterCompletion") : undefined,
          secondsAfterSuccess: o.ttl.afterSuccess !== undefined ? durationSeconds(o.ttl.afterSuccess, "Workflow: ttl.afterSuccess") : undefined,
          secondsAfterFailure: o.ttl.afterFailure !== undefined ? durationSeconds(o.ttl.afterFailure, "Workflow: ttl.afterFailure") : undefined,
        })
      : undefined;
    const settings = renderWorkflowSettings(o, nameOf, issues);
    const spec: WorkflowSpec = compact({
      entrypoint: nameOf(entry),
      arguments: params.length || arts.length ? compact({ parameters: params.length ? params : undefined, artifacts: arts.length ? arts : undefined }) : undefined,
      onExit: o.onExit ? nameOf(o.onExit) : undefined,
      hooks: settings.hooks,
      parallelism: o.parallelism,
      activeDeadlineSeconds: o.timeout !== undefined ? Math.ceil(durationSeconds(o.timeout, "Workflow: timeout")) : undefined,
      serviceAccountName: o.serviceAccountName,
      artifactRepositoryRef: o.artifactRepositoryRef,
      ttlStrategy: ttl,
      podGC: o.podGC ? { strategy: o.podGC } : undefined,
      volumes: o.volumes?.length ? [...o.volumes] : undefined,
      imagePullSecrets: o.imagePullSecrets?.length ? o.imagePullSecrets.map((name) => ({ name })) : undefined,
      templateDefaults: o.templateDefaults,
      ...settings.rest,
      templates,
    });
    // A global parameter read somewhere but not declared: Argo refuses the manifest, unless a
    // value comes at submission (`-p`) — hence a warning.
    const declared = new Set(params.map((p) => p.name));
    const undeclared = new Set<string>();
    for (const m of JSON.stringify(templates).matchAll(/workflow\.parameters\.([-A-Za-z0-9_]+)/g)) {
      const n = m[1] as string;
      if (n !== "json" && !declared.has(n)) undeclared.add(n);
    }
    for (const n of undeclared) {
      warn(`Workflow: templates read {{workflow.parameters.${n}}}, which the workflow does not declare (Argo refuses that unless -p gives it); list the globalParam in \`globals\``);
    }
    const metadata = compact({
      name: o.name,
      generateName: o.name ? undefined : (o.generateName ?? `${nameOf(entry).slice(0, 57)}-`),
      labels: o.labels && { ...o.labels },
      annotations: o.annotations && { ...o.annotations },
    });
    const manifest: ArgoWorkflow = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata, spec };
    for (const i of sizeIssues(Buffer.byteLength(JSON.stringify(manifest)), `workflow "${o.name ?? metadata.generateName}"`, warn)) issues.add(i);
    issues.throwIfAny();
    const localArtifacts = [...sources].filter((s): s is LocalArtifact => s instanceof LocalArtifact);
    const bundles = [...sources].filter((s): s is BundleArtifact => s instanceof BundleArtifact);
    return { manifest, bindings, localArtifacts, bundles, warnings, outputSignatures };
  }

  /** Compiles to a typed Argo v4 Workflow object (the manifest of {@link prepare}). The same workflow always gives the same object. */
  compile(options?: CompileOptions): ArgoWorkflow {
    return this.prepare(options).manifest;
  }

  /**
   * The workflow's shape as nodes and edges (templates, steps and tasks; step-group order, DAG
   * dependencies, calls), from its manifest. Render it with `graphToMermaid` or `graphToDot`.
   *
   * @example
   * fs.writeFileSync("flow.mmd", graphToMermaid(workflow.toGraph()));
   */
  toGraph(options?: CompileOptions): WorkflowGraph {
    return manifestGraph(this.compile(options));
  }

  /**
   * Runs the workflow on this machine with the local engine (dflow's debug mode) and
   * resolves when it has ended, whatever its phase. OP templates run in-process; other
   * templates run as local processes. Run again with the same `name` to resume.
   *
   * @example
   * const { status, dir } = await wf.run({ workdir: "runs" });
   * console.log(status.phase, status.nodes);
   */
  async run(options: Omit<RunOptions, "bindings"> & CompileOptions = {}): Promise<WorkflowRunResult<O>> {
    // An executor that runs OP templates from their bundles (containers) gets the manifest a
    // cluster would, with the bundles in the run's storage, and no in-process bindings.
    const bundled = options.executor?.opTemplates === "bundle";
    const { manifest, bindings, localArtifacts, bundles } = this.prepare({ ...options, bundles: options.bundles ?? bundled });
    const { runWorkflow } = await import("../debug/run.ts");
    const { LocalStorageClient } = await import("../storage/local.ts");
    // The engine's default store, made here so that local input artifacts can be put in it first.
    const storage = options.storage ?? new LocalStorageClient({ root: engineStorageRoot(options.workdir) });
    await uploadLocalArtifacts(localArtifacts, storage);
    await uploadBundles(bundles, storage);
    const result = await runWorkflow(manifest, { ...options, bindings: bundled ? new Map() : bindings, storage });
    const outputs = this.decode(rootOutputs({ metadata: { name: result.name }, status: result.status }), () => storage);
    return { ...result, outputs };
  }

  /**
   * Submits the workflow to Argo Workflows (Kubernetes API or Argo Server) and returns a
   * handle to query, wait for and control it. In debug mode (`mode: "debug"`, or
   * `OPFLOW_MODE=debug` in the environment, read at the call) the local engine runs it in the
   * background of this process instead (OP templates in-process, state tree under
   * `<workdir>/<name>/`), and the handle works the same (`wait`, `querySteps`, `outputs`,
   * `logs`, `terminate`, `retry` …); `client` and the cluster options are then ignored.
   *
   * @example
   * const handle = await wf.submit({ namespace: "argo" });
   * await handle.wait({ onUpdate: (s) => console.log(s.phase, s.progress) });
   * const [train] = await handle.querySteps({ key: "train" });
   * // The same, offline:
   * const local = await wf.submit({ mode: "debug", workdir: "runs" });
   * console.log((await local.wait()).status?.phase);
   */
  async submit(options: SubmitOptions & CompileOptions & DebugSubmitOptions = {}): Promise<WorkflowHandle<WorkflowOutputs<O>>> {
    const { submitMode } = await import("../debug/submit-mode.ts");
    const { LocalArgoClient } = await import("../debug/local-argo-client.ts");
    const mode = submitMode(options);
    const { manifest, bindings, localArtifacts: local, bundles, outputSignatures } = this.prepare({ ...options, bundles: options.bundles ?? mode !== "debug" });
    const stepValues = signatureValues(outputSignatures);
    const { submitWorkflow } = await import("../argo/workflow-handle.ts");
    if (mode === "debug") {
      const { LocalStorageClient } = await import("../storage/local.ts");
      const workdir = localWorkdir(options.workdir);
      // The engine's default store, made here so that local input artifacts can be put in it first.
      const storage = options.storage ?? new LocalStorageClient({ root: engineStorageRoot(workdir) });
      const client = new LocalArgoClient({ workdir, bindings, storage });
      const uploadToEngine = async (m: ArgoWorkflow): Promise<ArgoWorkflow> => {
        if (local.length) await uploadLocalArtifacts(local, storage);
        return m;
      };
      return submitWorkflow(manifest, { ...options, client, uploadLocalArtifacts: uploadToEngine, decoding: { outputs: (io) => this.decode(io, () => storage), stepValues } });
    }
    const upload = async (m: ArgoWorkflow): Promise<ArgoWorkflow> => {
      if (!local.length && !bundles.length) return m;
      let storage = options.storage;
      if (!storage) {
        const { createStorageClient, loadArtifactRepositoryConfig } = await import("../storage/config.ts");
        storage = createStorageClient(loadArtifactRepositoryConfig());
      }
      await uploadLocalArtifacts(local, storage);
      // Each bundle once: a key that exists holds the same bytes.
      await uploadBundles(bundles, storage);
      return m;
    };
    let clusterStorage: Promise<StorageClient> | undefined;
    const storage: StorageSource = () =>
      options.storage ??
      (clusterStorage ??= import("../storage/config.ts").then(({ createStorageClient, loadArtifactRepositoryConfig }) => createStorageClient(loadArtifactRepositoryConfig())));
    return submitWorkflow(manifest, { ...options, uploadLocalArtifacts: upload, decoding: { outputs: (io) => this.decode(io, storage), stepValues } });
  }

  /**
   * A handle on an earlier run of this workflow, to read it without running anything (dflow's
   * `Workflow(id=…)` and replay of a finished debug run): its steps with their outputs
   * (`querySteps`, values typed by the templates' signatures), the entrypoint's typed outputs,
   * its logs — and its steps to `reuse` in a new submission. In debug mode (`mode: "debug"` or
   * `OPFLOW_MODE=debug`) it reads the run's folder `<workdir>/<name>/`; otherwise the cluster.
   *
   * @throws ClusterApiError (404) naming the run when there is none by that name.
   * @example
   * ```ts
   * const old = await wf.replay("reuse-x7k2p", { mode: "debug", workdir: "runs" });
   * const [iter1] = await old.querySteps({ key: "iter-1" });
   * iter1?.values["iter"];   // 2 (a number: decoded by plus-one's signature)
   * ```
   */
  async replay(name: string, options: SubmitOptions & DebugSubmitOptions = {}): Promise<WorkflowHandle<WorkflowOutputs<O>>> {
    const { submitMode } = await import("../debug/submit-mode.ts");
    const { WorkflowHandle: Handle } = await import("../argo/workflow-handle.ts");
    const { outputSignatures } = this.prepare({ bundles: false, warn: () => {} });
    const stepValues = signatureValues(outputSignatures);
    let client: ArgoClient;
    let storage: StorageSource;
    if (submitMode(options) === "debug") {
      const { LocalArgoClient } = await import("../debug/local-argo-client.ts");
      const { LocalStorageClient } = await import("../storage/local.ts");
      const workdir = localWorkdir(options.workdir);
      const local = options.storage ?? new LocalStorageClient({ root: engineStorageRoot(workdir) });
      client = new LocalArgoClient({ workdir, storage: local });
      storage = () => local;
    } else {
      const { createArgoClient } = await import("../argo/create-argo-client.ts");
      client = options.client ?? createArgoClient(options);
      let clusterStorage: Promise<StorageClient> | undefined;
      storage = () =>
        options.storage ??
        (clusterStorage ??= import("../storage/config.ts").then(({ createStorageClient, loadArtifactRepositoryConfig }) => createStorageClient(loadArtifactRepositoryConfig())));
    }
    const handle = new Handle<WorkflowOutputs<O>>(name, client, { outputs: (io) => this.decode(io, storage), stepValues });
    await handle.get();
    return handle;
  }

  /** Decodes root outputs by the entrypoint's output signature. */
  private decode(io: Parameters<typeof decodeOutputs>[1], storage: StorageSource): WorkflowOutputs<O> {
    return decodeOutputs(this.entrypoint.outputs as O, io, storage);
  }

  /** The manifest as YAML. */
  toYaml(options?: CompileOptions): string {
    return toYaml(this.compile(options));
  }

  /** The manifest as JSON text. */
  toJson(options?: CompileOptions & { readonly indent?: number }): string {
    return JSON.stringify(this.compile(options), null, options?.indent ?? 2);
  }
}

