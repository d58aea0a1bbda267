/**
 * **src/debug is the local engine** — dflow's "debug mode": it interprets an Argo manifest on
 * this machine with Argo v4's semantics, keeps `status.nodes` in Argo's shape, and writes one
 * folder per node (the state tree). {@link runWorkflow} (`run.ts`) is its entry point; this
 * file assembles one run from pieces, each taking a narrow view of the engine:
 *
 * | piece | file |
 * | --- | --- |
 * | node state and bookkeeping | `node-book.ts`, `node-state.ts`, `node-id.ts` |
 * | dispatch of an invocation | `dispatch.ts`, `templates.ts` |
 * | Steps, DAG | `steps.ts`, `dag.ts` |
 * | loop expansion | `expansion.ts` |
 * | retry | `retry-node.ts`, `retry.ts` |
 * | hooks | `hooks.ts` |
 * | arguments and scopes | `arguments.ts`, `scope.ts`, `globals.ts` |
 * | resume and reuse | `resume.ts`, `node-digests.ts`, `node-digest.ts`, `step-cache.ts`, `run-lock.ts` |
 * | pods and suspend | `leaves.ts`, `pod.ts` (inputs → executor → outputs), `suspensions.ts` |
 * | daemons, data templates | `daemons.ts`, `readiness-probe.ts`, `data-template.ts` |
 * | workflow lifecycle and signals | `workflow-lifecycle.ts`, `signals.ts` |
 * | state tree | `state-tree.ts` |
 *
 * How a pod runs is an {@link Executor} (`src/executors/`): a local process by default, the
 * template's local binding when it has one.
 */
import type { Template, Workflow, WorkflowStatus } from "../argo/model.ts";
import type { LocalBindings } from "../contract.ts";
import type { Executor } from "../executors/executor.ts";
import { LocalProcessExecutor } from "../executors/local-process.ts";
import type { LocalObjects } from "./local-objects.ts";
import { now, type Invocation, type Place, type ResolvedArgs } from "./_context.ts";
import type { ArtifactIO } from "./artifact-io.ts";
import { invoke, type DispatchEngine } from "./dispatch.ts";
import { Daemons } from "./daemons.ts";
import { Globals } from "./globals.ts";
import { Leaves } from "./leaves.ts";
import { NodeBook } from "./node-book.ts";
import { Resume } from "./resume.ts";
import type { StepCache } from "./step-cache.ts";
import { RunControl } from "./signals.ts";
import type { StateTree, StoredNode } from "./state-tree.ts";
import { Suspensions, type NodeRequest, type NodeRequestResult } from "./suspensions.ts";
import { Templates } from "./templates.ts";
import { runWorkflowLifecycle, type LifecycleEngine } from "./workflow-lifecycle.ts";
import type { NodeStatus } from "../argo/model.ts";

/** What the engine is given by {@link runWorkflow}. */
export interface EngineConfig {
  /** The manifest, with `metadata.name` set. */
  readonly manifest: Workflow;
  readonly tree: StateTree;
  readonly artifactIO: ArtifactIO;
  readonly bindings: LocalBindings;
  /** Nodes recorded by a previous engine under the same name (resume). */
  readonly previous: ReadonlyMap<string, StoredNode>;
  /** Succeeded keyed steps of other runs, by key (their folder name): reused by key. */
  readonly reuse?: ReadonlyMap<string, StoredNode>;
  /** Workflow argument overrides. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Most leaf nodes running at once (Argo's `spec.parallelism`). */
  readonly parallelism?: number;
  /** Most nodes of the run (node-book.ts `MAX_NODES` when left out). */
  readonly maxNodes?: number;
  /** Most pods of the executor (local processes) at once. */
  readonly processSlots: number;
  /** Most in-process bindings at once. */
  readonly bindingSlots: number;
  /** Whether processes may run in private mount namespaces (for the default executor). */
  readonly namespaces: boolean;
  /** ConfigMaps and Secrets the workflow reads. */
  readonly objects?: LocalObjects;
  /**
   * Runs the pods of templates without a local binding.
   * @default a {@link LocalProcessExecutor}
   */
  readonly executor?: Executor;
  /** Stops the run (running steps are killed and end Failed). */
  readonly signal?: AbortSignal;
  /** Aborted: stop, letting exit handlers run (Argo's `stop`). */
  readonly stopSignal?: AbortSignal;
  /** Called after every change of `status` (cheap; callers throttle). */
  readonly onChange: () => void;
  /** The store's MD5 of a key (digests of input artifacts known only by key). */
  readonly md5?: (key: string) => Promise<string | undefined>;
  /** The content-hash cache shared by the runs of the workdir. */
  readonly cache?: StepCache;
  /** Every pod goes through the cache (`--cache`), not only templates with `cache: true`. */
  readonly cacheAll?: boolean;
}

/** The local engine's interpreter of one workflow run. */
export class Engine implements DispatchEngine, LifecycleEngine {
  readonly status: WorkflowStatus;
  readonly manifest: Workflow;
  readonly parameters: Readonly<Record<string, string>>;
  readonly control = new RunControl();
  readonly globals = new Globals();
  readonly book: NodeBook;
  readonly resume: Resume;
  readonly templates: Templates;
  readonly leaves: Leaves;
  /** Suspend nodes waiting for a person, and what resumes them. */
  readonly suspensions: Suspensions;
  readonly retryStrategy: Template["retryStrategy"];
  readonly objects: LocalObjects | undefined;
  readonly daemons: Daemons;

  constructor(private readonly cfg: EngineConfig) {
    const wf = cfg.manifest;
    this.manifest = wf;
    this.parameters = cfg.parameters;
    this.retryStrategy = wf.spec.retryStrategy;
    this.objects = cfg.objects;
    this.templates = new Templates(wf.spec);
    this.book = new NodeBook(wf.metadata.name as string, cfg.tree, cfg.onChange, (message) => this.stop(message), cfg.maxNodes);
    this.daemons = new Daemons(this.book);
    this.resume = new Resume(this.book, this.globals, {
      previous: cfg.previous,
      reuse: cfg.reuse,
      templates: () => this.templates.all(),
      bindings: cfg.bindings,
      tree: cfg.tree,
      ...(cfg.md5 ? { md5: cfg.md5 } : {}),
      ...(cfg.cache ? { cache: cfg.cache } : {}),
      ...(cfg.cacheAll ? { cacheAll: true } : {}),
    });
    this.suspensions = new Suspensions(this.book, cfg.previous);
    const parallelism = cfg.parallelism ?? wf.spec.parallelism;
    this.leaves = new Leaves(this, {
      spec: wf.spec,
      tree: cfg.tree,
      artifactIO: cfg.artifactIO,
      bindings: cfg.bindings,
      executor: cfg.executor ?? new LocalProcessExecutor(cfg.namespaces),
      ...(parallelism !== undefined ? { parallelism } : {}),
      processSlots: cfg.processSlots,
      bindingSlots: cfg.bindingSlots,
      ...(cfg.objects ? { objects: cfg.objects } : {}),
    });
    this.status = { phase: "Running", startedAt: now(), nodes: this.book.nodes };
    this.control.listen(cfg);
  }

  /** How many nodes a resumed run took over from the previous engine (or reused by key). */
  get reusedNodes(): number {
    return this.resume.count;
  }

  /**
   * Stops the run: running steps are killed, nothing new starts. With `exitHandlers` (Argo's
   * `stop`, as opposed to `terminate`), exit handlers still run.
   */
  stop(message: string, options: { exitHandlers?: boolean } = {}): void {
    this.control.stop(message, options);
  }

  /**
   * Resumes or sets the run's waiting suspend nodes (`opflow resume`, `opflow node set`);
   * throws a `SubmitError` as Argo refuses (a selector that matches no waiting node …).
   */
  request(request: NodeRequest): NodeRequestResult {
    return this.suspensions.apply(request);
  }

  invoke(place: Place, inv: Invocation, args: ResolvedArgs): Promise<NodeStatus> {
    return invoke(this, place, inv, args);
  }

  /** Runs the workflow to its end and returns its final status. */
  async run(): Promise<WorkflowStatus> {
    await runWorkflowLifecycle(this);
    await this.cfg.tree.flush();
    return this.status;
  }
}
