/**
 * The scheduler of the local engine: interprets an Argo manifest with Argo v4's semantics and
 * keeps `status.nodes` in Argo's shape (ids, names, display names, types, phases, boundaries,
 * children, inputs, outputs).
 *
 * Each template invocation is one async function: a Steps template runs its groups in order
 * and the steps of a group together; a DAG template starts each task once its dependencies are
 * fulfilled and its `depends` logic holds; a container/script template runs as a local process
 * or an in-process binding ({@link runPod}); `retryStrategy` wraps any of them in a Retry node
 * whose attempts are `name(0)`, `name(1)`, …
 */
import type {
  Arguments,
  Artifact,
  DAGTask,
  Item,
  NodePhase,
  NodeStatus,
  NodeType,
  Outputs,
  Parameter,
  Template,
  Workflow,
  WorkflowPhase,
  WorkflowStatus,
  WorkflowStep,
} from "../argo/model.ts";
import { KEY_PARAMETER, type LocalBindings } from "../contract.ts";
import { EngineError, OpflowError } from "../errors.ts";
import { dependsTasks, evaluateDepends, evaluateExpression, evaluateWhen, expandScope, substituteTags, substituteTagsDeep, type DependsTaskResult, type TaskResultPhase } from "./_expr.ts";
import type { ArtifactIO, ArtifactRef } from "./artifact-io.ts";
import { formatDuration, parseDuration } from "../duration.ts";
import { nodeId } from "./node-id.ts";
import { assertTransition, isFailedOrError, isFulfilled } from "./node-state.ts";
import { processEnvironment, runPod } from "./pod.ts";
import { aggregateProgress } from "./progress.ts";
import { decideRetry, type Attempt } from "./retry.ts";
import { itemVars, loopChildName, Scope, substituteStrict, type Vars } from "./scope.ts";
import { acquireAll, Semaphore } from "./semaphore.ts";
import { safeSegment, type StateTree, type StoredNode } from "./state-tree.ts";
import { setMaxListeners } from "node:events";
import path from "node:path";

/** What the scheduler is given by {@link runWorkflow}. */
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
  /** Most local processes at once. */
  readonly processSlots: number;
  /** Most in-process bindings at once. */
  readonly bindingSlots: number;
  /** Whether processes may run in private mount namespaces. */
  readonly namespaces: boolean;
  /** Stops the run (running steps are killed and end Failed). */
  readonly signal?: AbortSignal;
  /** Aborted: stop, letting exit handlers run (Argo's `stop`). */
  readonly stopSignal?: AbortSignal;
  /** Called after every change of `status` (cheap; callers throttle). */
  readonly onChange: () => void;
}

/** Where a node goes in the tree. */
interface Ctx {
  readonly name: string;
  readonly displayName: string;
  readonly parentId?: string;
  readonly boundaryID?: string;
  /** Template-level parallelism of the ancestors. */
  readonly semaphores: readonly Semaphore[];
  /** The step's key (the `opflow-key` argument): names its folder in the state tree. */
  readonly key?: string;
  /** Inside an exit handler (a workflow's, a step's or a task's): it still runs after a graceful stop. */
  readonly exit?: boolean;
}

/** What a child context inherits from its parent beyond names. */
function inherited(ctx: Ctx): { exit?: true } {
  return ctx.exit ? { exit: true } : {};
}

/** Arguments of an invocation, already resolved. */
interface ResolvedArgs {
  readonly parameters: ReadonlyMap<string, string>;
  readonly artifacts: ReadonlyMap<string, ArtifactRef>;
}

/** Inputs of a template invocation after `processArgs`. */
interface Inputs {
  readonly parameters: Parameter[];
  readonly artifacts: Map<string, ArtifactRef>;
}

/**
 * Most children of one withItems/withParam/withSequence expansion started at once (the rest
 * wait, without nodes yet): bounds the memory of very wide fan-outs; the leaf slots bound how
 * many actually run.
 */
const EXPANSION_WINDOW = 512;

const NO_ARGS: ResolvedArgs = { parameters: new Map(), artifacts: new Map() };

function now(): string {
  return new Date().toISOString();
}

function messageOf(err: unknown): string {
  return err instanceof OpflowError ? err.message : err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Deep merge for `templateDefaults` (the template's own fields win). */
function mergeDefaults<T>(defaults: unknown, value: T): T {
  if (value === undefined) return defaults as T;
  if (typeof defaults !== "object" || defaults === null || Array.isArray(defaults)) return value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = mergeDefaults(out[k], v);
  return out as T;
}

/** Applies tags to every string in `value`; `keep` leaves unknown tags for a later pass. */
function substituteAll<T>(value: T, vars: Vars, onMissing: "error" | "keep", skip: ReadonlySet<string> = new Set()): T {
  const substitute = (text: string): string => (onMissing === "error" ? substituteStrict(text, vars) : substituteTags(text, vars, { onMissing }));
  // Artifact references (`from`) name artifacts, not strings: resolved by resolveArgs.
  return substituteTagsDeep(value, substitute, { skip, keep: (k, v) => k === "from" && typeof v === "string" });
}

const STEP_SKIP = new Set(["inline", "hooks", "onExit"]);

/** The items of a withItems / withParam / withSequence, or undefined when the step does not loop. */
function expansionItems(step: WorkflowStep, where: string): Item[] | undefined {
  if (step.withItems !== undefined) return step.withItems;
  if (step.withParam !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(step.withParam);
    } catch {
      throw new EngineError(`${where}: withParam value could not be parsed as a JSON list: ${step.withParam.trim()}`);
    }
    if (!Array.isArray(parsed)) throw new EngineError(`${where}: withParam must be a JSON list, got ${step.withParam.trim()}`);
    return parsed as Item[];
  }
  if (step.withSequence) {
    const s = step.withSequence;
    const num = (v: string | number | undefined, field: string): number | undefined => {
      if (v === undefined || v === "") return undefined;
      const n = Number(v);
      if (!Number.isInteger(n)) throw new EngineError(`${where}: withSequence.${field} expects an integer, got ${JSON.stringify(v)}`);
      return n;
    };
    const count = num(s.count, "count");
    const start = num(s.start, "start") ?? 0;
    let end = num(s.end, "end");
    if (count !== undefined && end !== undefined) throw new EngineError(`${where}: withSequence takes count or end, not both`);
    const items: Item[] = [];
    const fmt = (i: number): string => (s.format ? formatSequence(s.format, i) : String(i));
    if (count !== undefined) {
      if (count === 0) return [];
      end = start + count - 1;
    }
    if (end === undefined) throw new EngineError(`${where}: withSequence needs count or end`);
    if (end >= start) for (let i = start; i <= end; i++) items.push(fmt(i));
    else for (let i = start; i >= end; i--) items.push(fmt(i));
    return items;
  }
  return undefined;
}

/** printf-style format of one integer (`%d`, `%02d`, `%x`, `%s` with text around). */
function formatSequence(format: string, n: number): string {
  return format.replace(/%(0?)(\d*)([dxXos])/, (_m, zero: string, width: string, verb: string) => {
    let s = verb === "x" ? n.toString(16) : verb === "X" ? n.toString(16).toUpperCase() : verb === "o" ? n.toString(8) : String(n);
    const w = Number(width || "0");
    if (s.length < w) s = (zero ? "0" : " ").repeat(w - s.length) + s;
    return s;
  });
}

/** The local engine's interpreter of one workflow run. */
export class Scheduler {
  readonly status: WorkflowStatus;
  private readonly nodes: Record<string, NodeStatus> = {};
  private readonly templates = new Map<string, Template>();
  private readonly globals: Vars = {};
  private readonly globalArtifacts = new Map<string, ArtifactRef>();
  /** The environment step processes start from, read once per run. */
  private readonly environment = processEnvironment();
  private readonly nodeArtifacts = new Map<string, ReadonlyMap<string, ArtifactRef>>();
  private abort = Scheduler.controller();
  private readonly leafSlots: Semaphore | undefined;
  private readonly processSlots: Semaphore;
  private readonly bindingSlots: Semaphore;
  private readonly wfName: string;
  private reused = 0;
  private activeLeaves = 0;
  private readonly childSets = new WeakMap<NodeStatus, Set<string>>();
  /** Bumped whenever `globals` changes (invalidates cached scopes). */
  private globalsVersion = 0;
  private stopMessage: string | undefined;
  /** A stop that lets exit handlers run (Argo's `stop`); {@link hardStop} ends them too. */
  private gracefulStop = false;
  private readonly hardStop = new AbortController();

  constructor(private readonly cfg: EngineConfig) {
    const wf = cfg.manifest;
    this.wfName = wf.metadata.name as string;
    const defaults = wf.spec.templateDefaults;
    for (const t of wf.spec.templates ?? []) this.templates.set(t.name, defaults ? mergeDefaults(defaults, t) : t);
    const parallelism = cfg.parallelism ?? wf.spec.parallelism;
    this.leafSlots = parallelism !== undefined && parallelism > 0 ? new Semaphore(parallelism) : undefined;
    this.processSlots = new Semaphore(cfg.processSlots);
    this.bindingSlots = new Semaphore(cfg.bindingSlots);
    this.status = { phase: "Running", startedAt: now(), nodes: this.nodes };
    const listen = (signal: AbortSignal | undefined, exitHandlers: boolean): void => {
      if (!signal) return;
      const stop = (): void => this.stop(typeof signal.reason === "string" ? signal.reason : "Stopped", { exitHandlers });
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    };
    listen(cfg.stopSignal, true);
    listen(cfg.signal, false);
  }

  /** How many nodes a resumed run took over from the previous engine. */
  get reusedNodes(): number {
    return this.reused;
  }

  private readonly watchers = new Set<() => void>();
  private watchersDue = false;

  /**
   * Something changed: tells the run's owner, and whatever evaluates hooks — within 50 ms, once
   * for all the changes of those 50 ms (a fan-out of steps with hooks changes often).
   */
  private changed(): void {
    this.cfg.onChange();
    if (this.watchers.size === 0 || this.watchersDue) return;
    this.watchersDue = true;
    setTimeout(() => {
      this.watchersDue = false;
      for (const w of [...this.watchers]) w();
    }, 50);
  }

  /**
   * Calls `evaluate` after changes of the run (see {@link changed}), and at least every second — as Argo re-evaluates hook expressions on every reconcile —
   * until the returned function is called.
   */
  private whileRunning(evaluate: () => void): () => void {
    this.watchers.add(evaluate);
    const timer = setInterval(evaluate, 1000);
    return () => {
      this.watchers.delete(evaluate);
      clearInterval(timer);
    };
  }

  /**
   * Stops the run: running steps are killed, nothing new starts. With `exitHandlers` (Argo's
   * `stop`, as opposed to `terminate`), exit handlers — the workflow's and those of steps and
   * tasks that ran — still run; a later stop without it ends them too.
   */
  stop(message: string, options: { exitHandlers?: boolean } = {}): void {
    this.stopMessage ??= message;
    if (options.exitHandlers && !this.abort.signal.aborted) this.gracefulStop = true;
    this.abort.abort(new EngineError(message));
    if (!options.exitHandlers) this.hardStop.abort(new EngineError(message));
  }

  /** The signal that ends what runs in `ctx`. */
  private signalFor(ctx: Ctx): AbortSignal {
    return ctx.exit && this.gracefulStop ? this.hardStop.signal : this.abort.signal;
  }

  /** Whether what runs in `ctx` must stop. */
  private halted(ctx: Ctx): boolean {
    return this.signalFor(ctx).aborted;
  }

  /** Runs the workflow to its end and returns its final status. */
  async run(): Promise<WorkflowStatus> {
    const spec = this.cfg.manifest.spec;
    const g = this.globals;
    g["workflow.name"] = this.wfName;
    g["workflow.namespace"] = this.cfg.manifest.metadata.namespace ?? "default";
    g["workflow.uid"] = this.cfg.manifest.metadata.uid ?? this.wfName;
    g["workflow.serviceAccountName"] = spec.serviceAccountName ?? "default";
    g["workflow.creationTimestamp"] = this.status.startedAt as string;
    g["workflow.mainEntrypoint"] = spec.entrypoint ?? "";
    g["workflow.priority"] = String(spec.priority ?? 0);
    for (const [k, v] of Object.entries(this.cfg.manifest.metadata.labels ?? {})) g[`workflow.labels.${k}`] = v;
    for (const [k, v] of Object.entries(this.cfg.manifest.metadata.annotations ?? {})) g[`workflow.annotations.${k}`] = v;

    let deadline: NodeJS.Timeout | undefined;
    try {
      // Workflow arguments (overridable).
      const wfParams: Parameter[] = [];
      const args = new Map<string, string>();
      const known = new Set<string>();
      for (const p of spec.arguments?.parameters ?? []) {
        known.add(p.name);
        const value = this.cfg.parameters[p.name] ?? p.value ?? p.default ?? p.valueFrom?.default;
        if (value === undefined) throw new EngineError(`workflow "${this.wfName}": spec.arguments.parameters "${p.name}" has no value; pass one (parameters: { "${p.name}": … })`);
        if (p.enum && !p.enum.includes(value)) {
          throw new EngineError(`workflow "${this.wfName}": parameter "${p.name}" must be one of ${JSON.stringify(p.enum)}, got ${JSON.stringify(value)}`);
        }
        wfParams.push({ name: p.name, value });
      }
      for (const [k, v] of Object.entries(this.cfg.parameters)) {
        if (!known.has(k)) throw new EngineError(`workflow "${this.wfName}": parameter "${k}" is not among spec.arguments.parameters (${[...known].join(", ") || "none"})`);
        void v;
      }
      for (const p of wfParams) {
        const value = substituteTags(p.value ?? "", g, { onMissing: "keep" });
        g[`workflow.parameters.${p.name}`] = value;
        args.set(p.name, value);
      }
      this.globalsVersion++;
      g["workflow.parameters.json"] = JSON.stringify(wfParams.map((p) => ({ name: p.name, value: g[`workflow.parameters.${p.name}`] })));
      const wfArtifacts = new Map<string, ArtifactRef>();
      for (const a of spec.arguments?.artifacts ?? []) wfArtifacts.set(a.name, { artifact: a });

      if (spec.activeDeadlineSeconds !== undefined) {
        deadline = setTimeout(() => this.stop("Workflow exceeded its deadline"), parseDuration(spec.activeDeadlineSeconds, `workflow "${this.wfName}": spec.activeDeadlineSeconds`, EngineError));
        deadline.unref();
      }

      if (spec.workflowTemplateRef) {
        throw new EngineError(`workflow "${this.wfName}": spec.workflowTemplateRef (${spec.workflowTemplateRef.name}) is not supported by the local engine; run the WorkflowTemplate's manifest itself`);
      }
      const entry = spec.entrypoint;
      if (!entry) throw new EngineError(`workflow "${this.wfName}": spec.entrypoint is required`);
      // Workflow-level expression hooks: evaluated while the workflow runs, each fires once.
      g["workflow.status"] = "Running";
      this.globalsVersion++;
      const firedHooks = new Set<string>();
      const hookRuns: Promise<unknown>[] = [];
      const hasHooks = Object.entries(spec.hooks ?? {}).some(([k, h]) => k !== "exit" && h.expression && h.template);
      const stopHooks = hasHooks ? this.whileRunning(() => hookRuns.push(this.runWorkflowHooks(firedHooks))) : undefined;
      let root: NodeStatus;
      try {
        root = await this.invoke({ name: this.wfName, displayName: this.wfName, semaphores: [] }, { template: entry }, { parameters: args, artifacts: wfArtifacts });
      } finally {
        stopHooks?.();
      }
      await Promise.all(hookRuns);

      let phase: WorkflowPhase = root.phase === "Skipped" || root.phase === "Omitted" ? "Succeeded" : (root.phase as WorkflowPhase);
      let message = isFailedOrError(root.phase) ? (this.stopMessage ?? root.message) : undefined;

      // Exit handler and workflow-level hooks, after the main tree.
      g["workflow.status"] = phase;
      g["workflow.duration"] = String((Date.now() - Date.parse(this.status.startedAt as string)) / 1000);
      g["workflow.failures"] = JSON.stringify(
        Object.values(this.nodes)
          .filter((n) => isFailedOrError(n.phase) && (n.type === "Pod" || n.type === "Container"))
          .map((n) => ({ displayName: n.displayName, message: n.message ?? "", templateName: n.templateName ?? "", phase: n.phase, podName: n.id, finishedAt: n.finishedAt ?? "" })),
      );
      this.globalsVersion++;
      const exitTemplate = spec.onExit ?? spec.hooks?.["exit"]?.template;
      if (exitTemplate) {
        // The exit handler runs even after a stop caused by failure; not after an interrupt.
        if (!this.abort.signal.aborted || this.stopMessage === "Workflow exceeded its deadline" || (this.gracefulStop && !this.hardStop.signal.aborted)) {
          const exitAbort = this.abort.signal.aborted;
          if (exitAbort) this.resetAbortForExit();
          const exitArgs = spec.hooks?.["exit"]?.arguments ? this.resolveArgs(spec.hooks["exit"].arguments, new Scope(this.globals), `workflow "${this.wfName}": hooks.exit`) : NO_ARGS;
          const onExit = await this.invoke({ name: `${this.wfName}.onExit`, displayName: `${this.wfName}.onExit`, semaphores: [], exit: true }, { template: exitTemplate }, exitArgs);
          if (isFailedOrError(onExit.phase) && phase === "Succeeded") {
            phase = "Failed";
            message = onExit.message ?? `exit handler ${onExit.displayName} ${onExit.phase}`;
          }
        }
      }
      await this.runWorkflowHooks(firedHooks);
      if (this.stopMessage && phase === "Succeeded") {
        phase = "Failed";
        message = this.stopMessage;
      }
      this.finishWorkflow(phase, message, root.outputs);
    } catch (err) {
      this.finishWorkflow("Error", messageOf(err), undefined);
    } finally {
      if (deadline) clearTimeout(deadline);
    }
    await this.cfg.tree.flush();
    return this.status;
  }

  /** Fires the workflow's expression hooks that hold now and have not fired yet. */
  private async runWorkflowHooks(fired: Set<string>): Promise<void> {
    const g = this.globals;
    const runs: Promise<unknown>[] = [];
    for (const [hookName, hook] of Object.entries(this.cfg.manifest.spec.hooks ?? {})) {
      if (hookName === "exit" || !hook.expression || !hook.template || fired.has(hookName)) continue;
      let fire = false;
      try {
        fire = Boolean(evaluateExpression(substituteTags(hook.expression, g, { onMissing: "keep" }), expandScope(g)));
      } catch {
        fire = false;
      }
      if (!fire) continue;
      fired.add(hookName);
      const ctx: Ctx = { name: `${this.wfName}.hooks.${hookName}`, displayName: `${this.wfName}.hooks.${hookName}`, semaphores: [] };
      let args: ResolvedArgs = NO_ARGS;
      try {
        if (hook.arguments) args = this.resolveArgs(substituteAll(hook.arguments, g, "error"), new Scope(g), `workflow "${this.wfName}": hooks.${hookName}`);
      } catch (err) {
        runs.push(this.errorNode(ctx, "Skipped", undefined, messageOf(err)));
        continue;
      }
      runs.push(this.invoke(ctx, { template: hook.template }, args));
    }
    await Promise.all(runs);
  }

  private resetAbortForExit(): void {
    // An exit handler after a workflow deadline gets a fresh signal: Argo runs it regardless.
    this.abort = Scheduler.controller();
  }

  /** An abort controller whose signal many running steps may listen to. */
  private static controller(): AbortController {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  }

  private finishWorkflow(phase: WorkflowPhase, message: string | undefined, rootOutputs: Outputs | undefined): void {
    this.status.phase = phase;
    this.status.finishedAt = now();
    if (message) this.status.message = message;
    this.status.progress = aggregateProgress(this.status);
    const outParams: Parameter[] = [];
    const outArtifacts: Artifact[] = [];
    for (const [k, v] of Object.entries(this.globals)) {
      const m = /^workflow\.outputs\.parameters\.(.+)$/.exec(k);
      if (m) outParams.push({ name: m[1] as string, value: v });
    }
    for (const [k, ref] of this.globalArtifacts) {
      const m = /^workflow\.outputs\.artifacts\.(.+)$/.exec(k);
      if (m) outArtifacts.push({ ...ref.artifact, name: m[1] as string });
    }
    void rootOutputs;
    if (outParams.length > 0 || outArtifacts.length > 0) {
      this.status.outputs = {};
      if (outParams.length > 0) this.status.outputs.parameters = outParams;
      if (outArtifacts.length > 0) this.status.outputs.artifacts = outArtifacts;
    }
    this.changed();
  }

  // ───────────────────────────── nodes ─────────────────────────────

  private createNode(ctx: Ctx, type: NodeType, tmpl: Template | undefined, phase: NodePhase, extra: Partial<NodeStatus> = {}): NodeStatus {
    const id = nodeId(this.wfName, ctx.name);
    const node: NodeStatus = {
      id,
      name: ctx.name,
      displayName: ctx.displayName,
      type,
      ...(tmpl ? { templateName: tmpl.name } : {}),
      templateScope: `local/${this.wfName}`,
      phase,
      ...(ctx.boundaryID ? { boundaryID: ctx.boundaryID } : {}),
      startedAt: now(),
      ...extra,
    };
    if (isFulfilled(phase)) node.finishedAt = node.startedAt;
    this.nodes[id] = node;
    if (ctx.key) this.cfg.tree.nodeDir(node, ctx.key);
    if (ctx.parentId) this.addChild(ctx.parentId, id);
    this.persist(node);
    this.changed();
    return node;
  }

  /** Records a node in the state tree; a failing disk fails the run, not the process. */
  private persist(node: NodeStatus): void {
    try {
      this.cfg.tree.persistNode(node);
    } catch (err) {
      this.stop(`cannot write the state tree (${this.cfg.tree.dir}): ${messageOf(err)}`);
    }
  }

  private addChild(parentId: string, childId: string): void {
    const parent = this.nodes[parentId];
    if (!parent) return;
    const children = (parent.children ??= []);
    // A set beside the list: a 10,000-way fan-out must not cost 10,000² comparisons.
    let known = this.childSets.get(parent);
    if (!known) this.childSets.set(parent, (known = new Set(children)));
    if (known.has(childId)) return;
    known.add(childId);
    children.push(childId);
  }

  private setRunning(node: NodeStatus): void {
    assertTransition(node.name, node.phase, "Running");
    node.phase = "Running";
    this.persist(node);
    this.changed();
  }

  /**
   * Moves a node to a final phase; its record is on disk when this returns (so that a resumed
   * run never runs a succeeded step again).
   */
  private async finish(node: NodeStatus, phase: NodePhase, message?: string): Promise<NodeStatus> {
    assertTransition(node.name, node.phase, phase);
    node.phase = phase;
    node.finishedAt = now();
    if (message) node.message = message;
    else if (phase === "Succeeded") delete node.message;
    this.changed();
    this.persist(node);
    return node;
  }

  private async errorNode(ctx: Ctx, type: NodeType, tmpl: Template | undefined, message: string): Promise<NodeStatus> {
    const node = this.createNode(ctx, type, tmpl, "Pending");
    return this.finish(node, "Error", message);
  }

  /** A node a previous engine finished: taken over with its subtree. */
  private restore(ctx: Ctx): NodeStatus | undefined {
    const id = nodeId(this.wfName, ctx.name);
    const prev = this.cfg.previous.get(id);
    if (!prev || prev.node.phase !== "Succeeded") return undefined;
    const adopt = (nid: string): void => {
      const p = this.cfg.previous.get(nid);
      if (!p || this.nodes[nid]) return;
      this.nodes[nid] = { ...p.node };
      this.reused++;
      const arts = p.node.outputs?.artifacts ?? [];
      if (arts.length > 0) {
        const m = new Map<string, ArtifactRef>();
        for (const a of arts) m.set(a.name, { artifact: a, localPath: path.join(p.dir, "outputs", "artifacts", a.name) });
        this.nodeArtifacts.set(nid, m);
      }
      if (p.node.phase === "Succeeded") this.addGlobalOutputs(p.node, this.nodeArtifacts.get(nid));
      // Descendants: children, and everything inside its boundary (a record's children list may
      // predate links made after it finished, such as the next step group or an exit handler).
      for (const c of p.node.children ?? []) adopt(c);
      for (const c of this.previousByBoundary().get(nid) ?? []) adopt(c);
    };
    adopt(id);
    if (ctx.parentId) this.addChild(ctx.parentId, id);
    const node = this.nodes[id] as NodeStatus;
    this.changed();
    return node;
  }

  private boundaryIndex: Map<string, string[]> | undefined;

  /** Nodes of the previous run by boundary id. */
  private previousByBoundary(): Map<string, string[]> {
    if (!this.boundaryIndex) {
      this.boundaryIndex = new Map();
      for (const [id, p] of this.cfg.previous) {
        const b = p.node.boundaryID;
        if (!b) continue;
        let list = this.boundaryIndex.get(b);
        if (!list) this.boundaryIndex.set(b, (list = []));
        list.push(id);
      }
    }
    return this.boundaryIndex;
  }

  /** A keyed step another run finished (`reuse`): taken over with its outputs. */
  private reuseKeyed(ctx: Ctx, templateName: string | undefined): NodeStatus | undefined {
    if (!ctx.key || !this.cfg.reuse) return undefined;
    const prev = this.cfg.reuse.get(safeSegment(ctx.key));
    if (!prev || prev.node.phase !== "Succeeded" || (templateName && prev.node.templateName !== templateName)) return undefined;
    const p = prev.node;
    const node = this.createNode(ctx, p.type === "Retry" ? "Retry" : p.type, undefined, "Pending", {
      ...(p.templateName ? { templateName: p.templateName } : {}),
      ...(p.inputs ? { inputs: p.inputs } : {}),
      ...(p.outputs ? { outputs: p.outputs } : {}),
    });
    node.phase = "Succeeded";
    node.finishedAt = node.startedAt;
    node.message = `reused from ${path.basename(path.dirname(prev.dir))} (key ${ctx.key})`;
    const arts = p.outputs?.artifacts ?? [];
    if (arts.length > 0) {
      const m = new Map<string, ArtifactRef>();
      for (const a of arts) m.set(a.name, { artifact: a, localPath: path.join(prev.dir, "outputs", "artifacts", a.name) });
      this.nodeArtifacts.set(node.id, m);
    }
    this.addGlobalOutputs(node, this.nodeArtifacts.get(node.id));
    this.reused++;
    this.persist(node);
    this.changed();
    return node;
  }

  private addGlobalOutputs(node: NodeStatus, arts: ReadonlyMap<string, ArtifactRef> | undefined): void {
    for (const p of node.outputs?.parameters ?? []) {
      if (p.globalName && p.value !== undefined) {
        this.globals[`workflow.outputs.parameters.${p.globalName}`] = p.value;
        this.globalsVersion++;
      }
    }
    for (const a of node.outputs?.artifacts ?? []) {
      if (a.globalName) this.globalArtifacts.set(`workflow.outputs.artifacts.${a.globalName}`, arts?.get(a.name) ?? { artifact: a });
    }
  }

  // ─────────────────────────── invocation ───────────────────────────

  private resolveTemplate(inv: { template?: string; inline?: Template; templateRef?: { name: string; template: string } }, where: string): Template {
    if (inv.inline) {
      const d = this.cfg.manifest.spec.templateDefaults;
      return d ? mergeDefaults(d, inv.inline) : inv.inline;
    }
    if (inv.templateRef) {
      throw new EngineError(`${where}: templateRef ${inv.templateRef.name}/${inv.templateRef.template}: WorkflowTemplates are not available to the local engine; inline the template`);
    }
    if (!inv.template) throw new EngineError(`${where}: names no template (template, inline or templateRef)`);
    const t = this.templates.get(inv.template);
    if (!t) throw new EngineError(`${where}: template "${inv.template}" not found in spec.templates`);
    return t;
  }

  /** Argo's processArgs: binds arguments to the template's declared inputs. */
  private bindInputs(tmpl: Template, args: ResolvedArgs, where: string): Inputs {
    const parameters: Parameter[] = [];
    for (const decl of tmpl.inputs?.parameters ?? []) {
      let value = decl.value ?? decl.default;
      const arg = args.parameters.get(decl.name);
      if (arg !== undefined) value = arg;
      if (value === undefined && decl.valueFrom?.default !== undefined) value = decl.valueFrom.default;
      if (value === undefined) {
        if (decl.valueFrom?.configMapKeyRef) throw new EngineError(`${where}: inputs.parameters.${decl.name}: valueFrom.configMapKeyRef is not supported by the local engine`);
        throw new EngineError(`${where}: inputs.parameters.${decl.name} was not supplied`);
      }
      value = substituteTags(value, this.globals, { onMissing: "keep" });
      if (decl.enum && decl.enum.length > 0 && !decl.enum.includes(value)) {
        throw new EngineError(`${where}: inputs.parameters.${decl.name}: value ${JSON.stringify(value)} is not in enum ${JSON.stringify(decl.enum)}`);
      }
      parameters.push({ name: decl.name, value });
    }
    const artifacts = new Map<string, ArtifactRef>();
    for (const decl of tmpl.inputs?.artifacts ?? []) {
      const arg = args.artifacts.get(decl.name);
      if (arg) artifacts.set(decl.name, arg);
      else if (decl.raw || decl.s3?.key) {
        // Argo substitutes the template's inputs into its declared artifacts (raw data, keys).
        const vars: Vars = { ...this.globals };
        for (const p of parameters) vars[`inputs.parameters.${p.name}`] = p.value ?? "";
        const artifact: Artifact = { ...decl };
        if (decl.raw) artifact.raw = { data: substituteTags(decl.raw.data, vars, { onMissing: "keep" }) };
        if (decl.s3?.key) artifact.s3 = { ...decl.s3, key: substituteTags(decl.s3.key, vars, { onMissing: "keep" }) };
        artifacts.set(decl.name, { artifact });
      }
      else if (decl.http || decl.git) throw new EngineError(`${where}: inputs.artifacts.${decl.name}: http and git artifacts are not supported by the local engine`);
      else if (!decl.optional) throw new EngineError(`${where}: inputs.artifacts.${decl.name} was not supplied`);
    }
    return { parameters, artifacts };
  }

  private recordInputs(inputs: Inputs): Partial<NodeStatus> {
    if (inputs.parameters.length === 0 && inputs.artifacts.size === 0) return {};
    const rec: NonNullable<NodeStatus["inputs"]> = {};
    if (inputs.parameters.length > 0) rec.parameters = inputs.parameters.map((p) => ({ name: p.name, value: p.value ?? "" }));
    if (inputs.artifacts.size > 0) rec.artifacts = [...inputs.artifacts].map(([name, ref]) => ({ ...ref.artifact, name }));
    return { inputs: rec };
  }

  /** Runs a template invocation at `ctx`; never throws for a step's own failure. */
  private async invoke(ctx0: Ctx, inv: { template?: string; inline?: Template; templateRef?: { name: string; template: string } }, args: ResolvedArgs): Promise<NodeStatus> {
    const key = args.parameters.get(KEY_PARAMETER);
    const ctx: Ctx = key ? { ...ctx0, key } : ctx0;
    const restored = this.restore(ctx) ?? this.reuseKeyed(ctx, inv.template);
    if (restored) return restored;
    const where = `node "${ctx.name}"`;
    let tmpl: Template;
    let inputs: Inputs;
    try {
      tmpl = this.resolveTemplate(inv, where);
    } catch (err) {
      return this.errorNode(ctx, "Skipped", undefined, messageOf(err));
    }
    try {
      inputs = this.bindInputs(tmpl, args, `${where} (template "${tmpl.name}")`);
    } catch (err) {
      return this.errorNode(ctx, tmpl.steps ? "Steps" : tmpl.dag ? "DAG" : "Pod", tmpl, messageOf(err));
    }
    // The workflow's retryStrategy is the default of every template (as Argo).
    const strategy = tmpl.retryStrategy ?? this.cfg.manifest.spec.retryStrategy;
    if (strategy && (tmpl.container || tmpl.script || tmpl.steps || tmpl.dag)) return this.executeRetry(ctx, tmpl, inputs, strategy);
    return this.executeBody(ctx, tmpl, inputs, 0);
  }

  private async executeBody(ctx: Ctx, tmpl: Template, inputs: Inputs, retries: number): Promise<NodeStatus> {
    if (tmpl.steps) return this.executeSteps(ctx, tmpl, inputs);
    if (tmpl.dag) return this.executeDag(ctx, tmpl, inputs);
    if (tmpl.suspend) return this.executeSuspend(ctx, tmpl, inputs);
    const unsupported = (type: NodeType, what: string): Promise<NodeStatus> =>
      this.errorNode(ctx, type, tmpl, `template "${tmpl.name}": ${what} is not supported by the local engine`);
    if (tmpl.resource) return unsupported("Pod", "a resource template (it needs a Kubernetes API server)");
    if (tmpl.http) return unsupported("HTTP", "an HTTP template");
    if (tmpl.plugin) return unsupported("Plugin", "a plugin template");
    if (tmpl.data) return unsupported("Pod", "a data template");
    if (tmpl.containerSet) return unsupported("Pod", "a containerSet template");
    if (tmpl.daemon) return unsupported("Pod", "a daemon template (daemon: true)");
    if ((tmpl.sidecars?.length ?? 0) > 0) return unsupported("Pod", "sidecars");
    if ((tmpl.initContainers?.length ?? 0) > 0) return unsupported("Pod", "initContainers");
    if (tmpl.container || tmpl.script) return this.executePod(ctx, tmpl, inputs, retries);
    return this.errorNode(ctx, "Pod", tmpl, `template "${tmpl.name}": has no container, script, steps, dag or suspend`);
  }

  // ───────────────────────────── retry ─────────────────────────────

  private async executeRetry(ctx: Ctx, tmpl: Template, inputs: Inputs, strategy: NonNullable<Template["retryStrategy"]>): Promise<NodeStatus> {
    const node = this.createNode(ctx, "Retry", tmpl, "Running", this.recordInputs(inputs));
    const attempts: Attempt[] = [];
    const where = `node "${ctx.name}" (template "${tmpl.name}")`;
    for (let i = 0; ; i++) {
      const childCtx: Ctx = {
        name: `${ctx.name}(${i})`,
        displayName: `${ctx.displayName}(${i})`,
        parentId: node.id,
        ...(ctx.boundaryID ? { boundaryID: ctx.boundaryID } : {}),
        semaphores: ctx.semaphores,
        ...(ctx.key ? { key: `${ctx.key}(${i})` } : {}),
        ...inherited(ctx),
      };
      const child = this.restore(childCtx) ?? (await this.executeBody(childCtx, tmpl, inputs, i));
      if (child.phase === "Succeeded") {
        if (child.outputs) node.outputs = child.outputs;
        const arts = this.nodeArtifacts.get(child.id);
        if (arts) this.nodeArtifacts.set(node.id, arts);
        return this.finish(node, "Succeeded");
      }
      attempts.push({
        phase: child.phase,
        ...(child.outputs?.exitCode !== undefined ? { exitCode: Number(child.outputs.exitCode) } : {}),
        ...(child.message !== undefined ? { message: child.message } : {}),
        startedAt: Date.parse(child.startedAt ?? now()),
        finishedAt: Date.parse(child.finishedAt ?? now()),
      });
      if (this.halted(ctx)) return this.finish(node, isFailedOrError(child.phase) ? child.phase : "Failed", child.message ?? this.stopMessage);
      let decision;
      try {
        decision = decideRetry(strategy, attempts, where, (expr, env) => {
          const v = evaluateExpression(expr, env);
          return v === true || v === "true";
        });
      } catch (err) {
        return this.finish(node, "Error", messageOf(err));
      }
      if (!decision.retry) {
        if (child.outputs) node.outputs = child.outputs;
        return this.finish(node, isFailedOrError(child.phase) ? child.phase : "Failed", decision.message ?? child.message);
      }
      if (decision.waitMs > 0) {
        node.message = `Backoff for ${formatDuration(decision.waitMs)}`;
        this.changed();
        await sleep(decision.waitMs, this.signalFor(ctx));
        delete node.message;
      }
    }
  }

  // ────────────────────────────── pods ─────────────────────────────

  private async executePod(ctx: Ctx, tmpl: Template, inputs: Inputs, retries: number): Promise<NodeStatus> {
    const node = this.createNode(ctx, "Pod", tmpl, "Pending", this.recordInputs(inputs));
    const binding = this.cfg.bindings.get(tmpl.name);
    const release = await acquireAll([...ctx.semaphores, this.leafSlots, binding ? this.bindingSlots : this.processSlots]);
    this.activeLeaves++;
    try {
      if (this.halted(ctx)) return await this.finish(node, "Failed", this.stopMessage ?? "Stopped");
      this.setRunning(node);
      // The contract's folders: an in-process OP always gets outputs/parameters; a process only
      // what its template declares (an Argo container sees none of them either).
      const subdirs: string[] = [];
      if (binding || tmpl.outputs?.parameters?.length) subdirs.push(path.join("outputs", "parameters"));
      if (inputs.parameters.length > 0) subdirs.push(path.join("inputs", "parameters"));
      if (!binding) subdirs.push("workdir");
      if (tmpl.outputs?.artifacts?.length) subdirs.push(path.join("outputs", "artifacts"));
      // Few steps in flight (a chain): direct file calls have the lowest latency. Many (a fan-out):
      // the thread pool lets the disk work overlap with the engine's.
      const direct = this.activeLeaves <= 2;
      this.cfg.tree.direct = direct;
      const dir = direct ? this.cfg.tree.ensureNodeDir(node, ...subdirs) : await this.cfg.tree.ensureNodeDirAsync(node, ...subdirs);
      const spec = this.cfg.manifest.spec;
      const result = await runPod({
        nodeName: node.name,
        nodeId: node.id,
        dir,
        template: tmpl,
        parameters: inputs.parameters,
        artifacts: inputs.artifacts,
        globals: { ...this.globals, retries: String(retries) },
        ...(binding ? { binding } : {}),
        artifactIO: this.cfg.artifactIO,
        directIO: direct,
        namespaces: this.cfg.namespaces,
        environment: this.environment,
        volumesDir: path.join(this.cfg.tree.dir, ".volumes"),
        workflowVolumes: [...(spec.volumes ?? []), ...(spec.volumeClaimTemplates ?? []).map((v) => ({ name: (v["metadata"] as { name?: string } | undefined)?.name }))],
        signal: this.signalFor(ctx),
        onSpawn: (pid) => this.cfg.tree.recordPid(node, pid),
        onProgress: (p) => {
          node.progress = p;
          this.changed();
        },
      });
      if (result.inputs.parameters || result.inputs.artifacts) node.inputs = result.inputs;
      if (result.outputs) node.outputs = result.outputs;
      if (result.artifacts.size > 0) this.nodeArtifacts.set(node.id, result.artifacts);
      if (result.phase === "Succeeded") this.addGlobalOutputs(node, result.artifacts);
      // A step killed by a stop carries the stop's message, as Argo's do.
      const message = result.phase !== "Succeeded" && this.halted(ctx) && this.stopMessage !== undefined && this.stopMessage !== "Stopped" ? this.stopMessage : result.message;
      return await this.finish(node, result.phase, message);
    } finally {
      this.activeLeaves--;
      release();
    }
  }

  private async executeSuspend(ctx: Ctx, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
    const node = this.createNode(ctx, "Suspend", tmpl, "Running", this.recordInputs(inputs));
    const d = tmpl.suspend?.duration;
    if (d === undefined || d === "") {
      return this.finish(node, "Error", `template "${tmpl.name}": suspend without a duration waits for \`argo resume\`, which the local engine does not support; give suspend.duration`);
    }
    let ms: number;
    try {
      ms = parseDuration(substituteTags(d, this.varsWithInputs(inputs), { onMissing: "error" }), `template "${tmpl.name}": suspend.duration`, EngineError);
    } catch (err) {
      return this.finish(node, "Error", messageOf(err));
    }
    await sleep(ms, this.signalFor(ctx));
    if (this.halted(ctx)) return this.finish(node, "Failed", this.stopMessage ?? "Stopped");
    return this.finish(node, "Succeeded");
  }

  private varsWithInputs(inputs: Inputs): Vars {
    const v: Vars = { ...this.globals };
    for (const p of inputs.parameters) v[`inputs.parameters.${p.name}`] = p.value ?? "";
    return v;
  }

  private scopeFor(inputs: Inputs): Scope {
    const scope = new Scope(this.globals);
    for (const p of inputs.parameters) scope.set(`inputs.parameters.${p.name}`, p.value ?? "");
    for (const [name, ref] of inputs.artifacts) scope.artifacts.set(`inputs.artifacts.${name}`, ref);
    return scope;
  }

  /** Variables visible at a scope: globals, then the scope's own. */
  private varsOf(scope: Scope, extra?: Vars): Vars {
    const base = scope.vars;
    if (!extra) return base;
    // Item variables on top of the shared scope, without copying it (lookups follow the prototype).
    const v = Object.create(base) as Vars;
    for (const k in extra) v[k] = extra[k] as string;
    return v;
  }

  /**
   * Argo's `fromExpression`: an expression over the scope whose value is an artifact. Artifacts
   * enter the expression as tokens that name them; the value names the artifact chosen.
   */
  private artifactFromExpression(expression: string, scope: Scope, where: string): ArtifactRef | undefined {
    const token = (key: string): string => `\u0000artifact:${key}`;
    const extra: Vars = {};
    for (const key of [...this.globalArtifacts.keys(), ...scope.artifacts.keys()]) extra[key] = token(key);
    let v: unknown;
    try {
      v = evaluateExpression(expression, expandScope(this.varsOf(scope, extra)));
    } catch (err) {
      throw new EngineError(`${where}: ${messageOf(err)}`);
    }
    if (typeof v !== "string" || !v.startsWith(token(""))) return undefined;
    const key = v.slice(token("").length);
    return scope.artifacts.get(key) ?? this.globalArtifacts.get(key);
  }

  /** Resolves step/task arguments: parameter values (tags applied) and artifact `from`s. */
  private resolveArgs(args: Arguments | undefined, scope: Scope, where: string): ResolvedArgs {
    const parameters = new Map<string, string>();
    const artifacts = new Map<string, ArtifactRef>();
    for (const p of args?.parameters ?? []) {
      if (p.value !== undefined) parameters.set(p.name, p.value);
      else if (p.valueFrom?.default !== undefined) parameters.set(p.name, p.valueFrom.default);
      else if (p.valueFrom?.expression) parameters.set(p.name, this.evalExpressionString(p.valueFrom.expression, scope, `${where}: arguments.parameters.${p.name}.valueFrom.expression`));
    }
    for (const a of args?.artifacts ?? []) {
      let ref: ArtifactRef | undefined;
      if (a.from) {
        const key = /^\{\{\s*(.+?)\s*\}\}$/.exec(a.from.trim())?.[1];
        ref = key ? (scope.artifacts.get(key) ?? this.globalArtifacts.get(key)) : undefined;
        if (!ref && !a.optional) throw new EngineError(`${where}: arguments.artifacts.${a.name}: from ${JSON.stringify(a.from)} does not name an artifact in scope`);
      } else if (a.fromExpression) {
        ref = this.artifactFromExpression(a.fromExpression, scope, `${where}: arguments.artifacts.${a.name}.fromExpression`);
        if (!ref && !a.optional) throw new EngineError(`${where}: arguments.artifacts.${a.name}: fromExpression ${JSON.stringify(a.fromExpression)} names no artifact in scope`);
      } else if (a.raw || a.s3?.key) {
        ref = { artifact: a };
      } else if (!a.optional) {
        throw new EngineError(`${where}: arguments.artifacts.${a.name} has no from, raw or s3 key`);
      }
      if (ref) artifacts.set(a.name, a.subPath ? { artifact: { ...ref.artifact, subPath: a.subPath }, ...(ref.localPath ? { localPath: path.join(ref.localPath, a.subPath) } : {}) } : ref);
    }
    return { parameters, artifacts };
  }

  private evalExpressionString(expression: string, scope: Scope, where: string): string {
    let v: unknown;
    try {
      v = evaluateExpression(expression, expandScope(this.varsOf(scope)));
    } catch (err) {
      throw new EngineError(`${where}: ${messageOf(err)}`);
    }
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  /** Outputs of a Steps/DAG template from its scope (valueFrom.parameter / expression / default, artifact from). */
  private templateOutputs(tmpl: Template, scope: Scope, where: string): { outputs?: Outputs; artifacts: Map<string, ArtifactRef> } {
    const artifacts = new Map<string, ArtifactRef>();
    const decl = tmpl.outputs;
    if (!decl || (!decl.parameters?.length && !decl.artifacts?.length)) return { artifacts };
    const outputs: Outputs = {};
    const vars = this.varsOf(scope);
    for (const p of decl.parameters ?? []) {
      let value: string | undefined;
      try {
        if (p.valueFrom?.parameter) value = substituteTags(p.valueFrom.parameter, vars, { onMissing: "error" });
        else if (p.valueFrom?.expression) value = this.evalExpressionString(p.valueFrom.expression, scope, `${where}: outputs.parameters.${p.name}`);
        else if (p.value !== undefined) value = substituteTags(p.value, vars, { onMissing: "error" });
      } catch (err) {
        if (p.valueFrom?.default === undefined) throw new EngineError(`${where}: outputs.parameters.${p.name}: ${messageOf(err)}`);
      }
      value ??= p.valueFrom?.default;
      if (value === undefined) throw new EngineError(`${where}: outputs.parameters.${p.name}: no value (valueFrom.parameter, expression or default)`);
      (outputs.parameters ??= []).push({ name: p.name, value, ...(p.globalName ? { globalName: p.globalName } : {}) });
    }
    for (const a of decl.artifacts ?? []) {
      const key = a.from ? /^\{\{\s*(.+?)\s*\}\}$/.exec(a.from.trim())?.[1] : undefined;
      const ref = a.fromExpression
        ? this.artifactFromExpression(a.fromExpression, scope, `${where}: outputs.artifacts.${a.name}.fromExpression`)
        : key
          ? (scope.artifacts.get(key) ?? this.globalArtifacts.get(key))
          : undefined;
      if (!ref) {
        if (a.optional) continue;
        throw new EngineError(`${where}: outputs.artifacts.${a.name}: ${a.fromExpression ? `fromExpression ${JSON.stringify(a.fromExpression)}` : `from ${JSON.stringify(a.from ?? "")}`} does not name an artifact in scope`);
      }
      const art: Artifact = { ...ref.artifact, name: a.name, ...(a.globalName ? { globalName: a.globalName } : {}) };
      artifacts.set(a.name, { ...ref, artifact: art });
      (outputs.artifacts ??= []).push(art);
    }
    return { outputs, artifacts };
  }

  // ───────────────────────────── steps ─────────────────────────────

  private async executeSteps(ctx: Ctx, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
    const node = this.createNode(ctx, "Steps", tmpl, "Running", this.recordInputs(inputs));
    const scope = this.scopeFor(inputs);
    const semaphores = tmpl.parallelism ? [...ctx.semaphores, new Semaphore(tmpl.parallelism)] : ctx.semaphores;
    const groups = tmpl.steps ?? [];
    let previous: NodeStatus | undefined;
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i] as WorkflowStep[];
      // As Argo links them: group 0 under the Steps node, group i+1 under the steps of group i.
      const parents = previous ? (previous.children ?? []) : [node.id];
      const sgCtx: Ctx = { name: `${ctx.name}[${i}]`, displayName: `[${i}]`, parentId: parents[0] ?? node.id, boundaryID: node.id, semaphores, ...inherited(ctx) };
      const sg = this.restore(sgCtx) ?? (await this.executeStepGroup(sgCtx, node, tmpl, group, scope, semaphores));
      for (const extra of parents.slice(1)) this.addChild(extra, sg.id);
      previous = sg;
      // Steps of the group become visible to the next groups.
      for (const step of group) this.exposeStep(sg, `${sgCtx.name}.${step.name}`, step, scope);
      if (isFailedOrError(sg.phase)) return this.finish(node, "Failed", sg.message);
      if (this.halted(ctx)) return this.finish(node, "Failed", this.stopMessage);
    }
    return this.succeedWithOutputs(node, tmpl, scope, `node "${node.name}" (template "${tmpl.name}")`);
  }

  /** Adds `steps.<name>.*` for a finished step (or the aggregate of its expansion). */
  private exposeStep(sg: NodeStatus, childName: string, step: WorkflowStep, scope: Scope): void {
    const prefix = `steps.${step.name}`;
    const id = nodeId(this.wfName, childName);
    const direct = this.nodes[id];
    if (direct && direct.type !== "Skipped") {
      scope.addNode(prefix, direct, this.nodeArtifacts.get(id));
      return;
    }
    if (direct) {
      scope.set(`${prefix}.status`, direct.phase);
      this.exposeSkippedDefaults(prefix, step, scope);
      return;
    }
    const children = (sg.children ?? [])
      .map((c) => this.nodes[c] as NodeStatus)
      .filter((n) => n && n.name.startsWith(`${childName}(`) && n.type !== "Skipped");
    if (children.length === 0) return;
    let tmpl: Template | undefined;
    try {
      tmpl = this.resolveTemplate(step, `step "${step.name}"`);
    } catch {
      tmpl = undefined;
    }
    scope.addAggregate(prefix, children, tmpl);
  }

  private async executeStepGroup(ctx: Ctx, stepsNode: NodeStatus, tmpl: Template, group: readonly WorkflowStep[], scope: Scope, semaphores: readonly Semaphore[]): Promise<NodeStatus> {
    const sg = this.createNode(ctx, "StepGroup", tmpl, "Running");
    const runs: Promise<{ node: NodeStatus; step: WorkflowStep } | undefined>[] = [];
    const stepCtx = (name: string, displayName: string): Ctx => ({ name, displayName, parentId: sg.id, boundaryID: stepsNode.id, semaphores, ...inherited(ctx) });
    try {
      for (const raw of group) {
        const childName = `${ctx.name}.${raw.name}`;
        const where = `step "${raw.name}" of node "${stepsNode.name}"`;
        const resolved = substituteAll(raw, this.varsOf(scope), "keep", STEP_SKIP);
        const items = expansionItems(resolved, where);
        if (items === undefined) {
          runs.push(this.runStep(stepCtx(childName, raw.name), resolved, scope, {}, where).then((node) => ({ node, step: raw })));
          continue;
        }
        if (items.length === 0) {
          const restored = this.restore(stepCtx(childName, raw.name));
          if (!restored) {
            const n = this.createNode(stepCtx(childName, raw.name), "Skipped", undefined, "Pending");
            runs.push(this.finish(n, "Skipped", "Skipped, empty params").then((node) => ({ node, step: raw })));
          }
          continue;
        }
        const { withItems: _a, withParam: _b, withSequence: _c, ...base } = resolved;
        void _a, _b, _c;
        const gate = new Semaphore(EXPANSION_WINDOW);
        items.forEach((item, index) => {
          const label = loopChildName(raw.name, index, item);
          runs.push(gate.run(() => this.runStep(stepCtx(`${ctx.name}.${label}`, label), base, scope, itemVars(item), where)).then((node) => ({ node, step: raw })));
        });
      }
    } catch (err) {
      await Promise.all(runs);
      return this.finish(sg, "Error", messageOf(err));
    }
    const done = (await Promise.all(runs)).filter((r): r is { node: NodeStatus; step: WorkflowStep } => r !== undefined);
    for (const { node, step } of done) {
      if (isFailedOrError(node.phase) && !continues(step, node.phase)) return this.finish(sg, "Failed", `child '${node.id}' failed`);
    }
    return this.finish(sg, "Succeeded");
  }

  /** Runs one (possibly expanded) step: item substitution, `when`, arguments, the template, exit hooks. */
  private async runStep(ctx: Ctx, step: WorkflowStep, scope: Scope, item: Vars, where: string): Promise<NodeStatus> {
    const restored = this.restore(ctx);
    if (restored) return restored;
    let s: WorkflowStep;
    let args: ResolvedArgs;
    try {
      s = substituteAll(step, this.varsOf(scope, item), "error", STEP_SKIP);
      if (s.when !== undefined && s.when !== "") {
        let proceed: boolean;
        try {
          proceed = evaluateWhen(s.when);
        } catch (err) {
          throw new EngineError(`${where}: invalid 'when' expression '${s.when}': ${messageOf(err)}`);
        }
        if (!proceed) {
          const n = this.createNode(ctx, "Skipped", undefined, "Pending");
          return await this.finish(n, "Skipped", `when '${s.when}' evaluated false`);
        }
      }
      args = this.resolveArgs(s.arguments, scope, where);
    } catch (err) {
      return this.errorNode(ctx, "Skipped", undefined, messageOf(err));
    }
    // Expression hooks are evaluated while the step runs (Argo re-evaluates them on every
    // reconcile), each fires at most once; what has not fired is evaluated again at the end.
    const fired = new Set<string>();
    const hookRuns: Promise<unknown>[] = [];
    const hasExpressionHooks = Object.entries(step.hooks ?? {}).some(([k, h]) => k !== "exit" && h.expression && h.template);
    const id = nodeId(this.wfName, ctx.name);
    const stopHooks = hasExpressionHooks
      ? this.whileRunning(() => {
          const live = this.nodes[id];
          if (live && !isFulfilled(live.phase)) hookRuns.push(this.runExpressionHooks(ctx, step, live, scope, item, fired));
        })
      : undefined;
    let node: NodeStatus;
    try {
      node = await this.invoke(ctx, s, args);
    } finally {
      stopHooks?.();
    }
    await Promise.all(hookRuns);
    await this.runExitHooks(ctx, step, node, scope, item, fired);
    return node;
  }

  /** Fires the expression hooks of `step` that hold now and have not fired yet. */
  private async runExpressionHooks(ctx: Ctx, step: WorkflowStep, node: NodeStatus, scope: Scope, item: Vars, fired: Set<string>): Promise<void> {
    if (!step.hooks || !Object.entries(step.hooks).some(([k, h]) => k !== "exit" && h.expression && h.template && !fired.has(k))) return;
    const hookScope = scope.child();
    const prefix = ctx.boundaryID && this.nodes[ctx.boundaryID]?.type === "DAG" ? "tasks" : "steps";
    hookScope.addNode(`${prefix}.${step.name}`, node, this.nodeArtifacts.get(node.id));
    const runs: Promise<unknown>[] = [];
    for (const [hookName, hook] of Object.entries(step.hooks ?? {})) {
      if (hookName === "exit" || !hook.expression || !hook.template || fired.has(hookName)) continue;
      let fire = false;
      try {
        const vars = this.varsOf(hookScope, item);
        fire = Boolean(evaluateExpression(substituteTags(hook.expression, vars, { onMissing: "keep" }), expandScope(vars)));
      } catch {
        fire = false;
      }
      if (!fire) continue;
      fired.add(hookName);
      let args: ResolvedArgs = NO_ARGS;
      try {
        if (hook.arguments) args = this.resolveArgs(substituteAll(hook.arguments, this.varsOf(hookScope, item), "error"), hookScope, `node "${node.name}": hooks.${hookName}`);
      } catch (err) {
        runs.push(this.errorNode({ name: `${node.name}.hooks.${hookName}`, displayName: `${ctx.displayName}.hooks.${hookName}`, parentId: node.id, ...(ctx.boundaryID ? { boundaryID: ctx.boundaryID } : {}), semaphores: ctx.semaphores, ...inherited(ctx) }, "Skipped", undefined, messageOf(err)));
        continue;
      }
      runs.push(
        this.invoke(
          { name: `${node.name}.hooks.${hookName}`, displayName: `${ctx.displayName}.hooks.${hookName}`, parentId: node.id, ...(ctx.boundaryID ? { boundaryID: ctx.boundaryID } : {}), semaphores: ctx.semaphores, ...inherited(ctx) },
          { template: hook.template },
          args,
        ),
      );
    }
    await Promise.all(runs);
  }

  /** A step's or task's `onExit` / `hooks.exit`, and expression hooks, after it ran. */
  private async runExitHooks(ctx: Ctx, step: WorkflowStep, node: NodeStatus, scope: Scope, item: Vars, fired: Set<string>): Promise<void> {
    if (node.type === "Skipped") return;
    const exitTemplate = step.onExit ?? step.hooks?.["exit"]?.template;
    if (exitTemplate) {
      const hookScope = scope.child();
      const prefix = ctx.boundaryID && this.nodes[ctx.boundaryID]?.type === "DAG" ? "tasks" : "steps";
      hookScope.addNode(`${prefix}.${step.name}`, node, this.nodeArtifacts.get(node.id));
      let hookArgs: ResolvedArgs = NO_ARGS;
      const exitCtx: Ctx = { name: `${node.name}.onExit`, displayName: `${ctx.displayName}.onExit`, parentId: node.id, ...(ctx.boundaryID ? { boundaryID: ctx.boundaryID } : {}), semaphores: ctx.semaphores, exit: true };
      try {
        if (step.hooks?.["exit"]?.arguments) hookArgs = this.resolveArgs(substituteAll(step.hooks["exit"].arguments, this.varsOf(hookScope, item), "error"), hookScope, `node "${node.name}": hooks.exit`);
      } catch (err) {
        await this.errorNode(exitCtx, "Skipped", undefined, messageOf(err));
        hookArgs = NO_ARGS;
      }
      if (!this.nodes[nodeId(this.wfName, exitCtx.name)]) await this.invoke(exitCtx, { template: exitTemplate }, hookArgs);
    }
    await this.runExpressionHooks(ctx, step, node, scope, item, fired);
  }

  // ────────────────────────────── DAG ──────────────────────────────

  private async executeDag(ctx: Ctx, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
    const node = this.createNode(ctx, "DAG", tmpl, "Running", this.recordInputs(inputs));
    const dag = tmpl.dag as NonNullable<Template["dag"]>;
    const where = `node "${node.name}" (template "${tmpl.name}")`;
    const scope = this.scopeFor(inputs);
    const semaphores = tmpl.parallelism ? [...ctx.semaphores, new Semaphore(tmpl.parallelism)] : ctx.semaphores;
    const failFast = dag.failFast ?? tmpl.failFast ?? true;
    const tasks = new Map<string, DAGTask>();
    for (const t of dag.tasks) tasks.set(t.name, t);

    // Dependencies and depends logic of each task.
    const deps = new Map<string, string[]>();
    const logic = new Map<string, string>();
    try {
      for (const t of dag.tasks) {
        let d: string[];
        let expr: string;
        if (t.depends !== undefined && t.depends.trim() !== "") {
          if (t.dependencies?.length) throw new EngineError(`${where}: task "${t.name}" uses both depends and dependencies; use one`);
          expr = t.depends;
          d = [...new Set(dependsTasks(t.depends))];
        } else {
          d = [...(t.dependencies ?? [])];
          expr = d.join(" && ");
        }
        for (const dep of d) {
          if (!tasks.has(dep)) throw new EngineError(`${where}: task "${t.name}" depends on unknown task "${dep}"`);
        }
        deps.set(t.name, d);
        logic.set(t.name, expr);
      }
    } catch (err) {
      return this.finish(node, "Error", messageOf(err));
    }

    // Targets and everything they need.
    const targets = dag.target ? dag.target.split(/[\s,]+/).filter(Boolean) : dag.tasks.filter((t) => ![...deps.values()].some((d) => d.includes(t.name))).map((t) => t.name);
    const needed = new Set<string>();
    const want = (name: string): void => {
      if (needed.has(name)) return;
      needed.add(name);
      for (const d of deps.get(name) ?? []) want(d);
    };
    for (const t of targets) {
      if (!tasks.has(t)) return this.finish(node, "Error", `${where}: dag.target names unknown task "${t}"`);
      want(t);
    }

    const taskNode = new Map<string, NodeStatus>();
    const started = new Set<string>();
    let failed = false;
    let anyFailure = false;
    const running = new Set<Promise<void>>();
    const taskName = (name: string): string => `${ctx.name}.${name}`;

    const asResult = (phase: NodePhase): TaskResultPhase | "Pending" | "Running" => (phase === "Error" ? "Errored" : phase);
    const resultOf = (name: string): DependsTaskResult => {
      const n = taskNode.get(name) as NodeStatus;
      const t = tasks.get(name) as DAGTask;
      const continueOn = t.continueOn ? { continueOn: t.continueOn } : {};
      if (n.type === "TaskGroup") {
        const phases = (n.children ?? []).map((c) => asResult((this.nodes[c] as NodeStatus).phase)).filter((p): p is TaskResultPhase => p !== "Pending" && p !== "Running");
        return { phase: asResult(n.phase), fanOut: { phases }, ...continueOn };
      }
      return { phase: asResult(n.phase), ...continueOn };
    };

    // Branch phases of tasks (assessDAGPhase): a task's own phase once it completed; an omitted
    // task inherits its parents' branch phase, Failed/Error first; "" when it has no node yet.
    const branchPhases = (): ((name: string) => NodePhase | "") => {
      const memo = new Map<string, NodePhase | "">();
      const branchPhase = (name: string): NodePhase | "" => {
        const known = memo.get(name);
        if (known !== undefined) return known;
        const n = taskNode.get(name);
        let phase: NodePhase | "" = "";
        if (n && n.phase !== "Omitted") phase = n.phase;
        else if (n) {
          const parents = (deps.get(name) ?? []).map(branchPhase);
          phase = parents.find((p) => p === "Failed" || p === "Error") ?? parents.find((p) => p !== "") ?? "Succeeded";
        }
        memo.set(name, phase);
        return phase;
      };
      return branchPhase;
    };
    const targetFailed = (name: string, branch: (name: string) => NodePhase | ""): boolean => {
      const bp = branch(name);
      return (bp === "Failed" || bp === "Error") && !continues(tasks.get(name) as DAGTask, bp);
    };

    const launch = (t: DAGTask): void => {
      started.add(t.name);
      const d = deps.get(t.name) ?? [];
      const parentIds = d.length === 0 ? [node.id] : d.map((dep) => (taskNode.get(dep) as NodeStatus).id);
      const tctx: Ctx = { name: taskName(t.name), displayName: t.name, parentId: parentIds[0] as string, boundaryID: node.id, semaphores, ...inherited(ctx) };
      const p = this.runTask(tctx, t, scope, logic.get(t.name) ?? "", d, resultOf, where)
        .then((n) => {
          for (const extra of parentIds.slice(1)) this.addChild(extra, n.id);
          taskNode.set(t.name, n);
          this.exposeTask(n, t, scope);
          if (isFailedOrError(n.phase)) anyFailure = true;
          // failFast: the DAG fails as soon as a target's branch is known to have failed.
          if (anyFailure && failFast && !failed) failed = targets.some((tn) => targetFailed(tn, branchPhases()));
        })
        .finally(() => running.delete(p));
      running.add(p);
    };

    for (;;) {
      let progressed = false;
      for (const t of dag.tasks) {
        if (!needed.has(t.name) || started.has(t.name)) continue;
        if (this.halted(ctx) || (failed && failFast)) continue;
        const d = deps.get(t.name) ?? [];
        if (!d.every((dep) => taskNode.has(dep) && isFulfilled((taskNode.get(dep) as NodeStatus).phase))) continue;
        launch(t);
        progressed = true;
      }
      if (running.size === 0 && !progressed) break;
      if (running.size > 0) await Promise.race(running);
    }

    const branch = branchPhases();
    let phase: NodePhase = "Succeeded";
    let message: string | undefined;
    for (const t of targets) {
      const bp = branch(t);
      if (bp === "") {
        if (!this.halted(ctx) && !(failed && failFast)) continue;
        phase = "Failed";
        message ??= this.stopMessage ?? `task '${taskName(t)}' did not run: an earlier task failed`;
        continue;
      }
      if ((bp === "Failed" || bp === "Error") && !continues(tasks.get(t) as DAGTask, bp)) {
        if (phase !== "Failed" && phase !== "Error") phase = bp;
        const n = taskNode.get(t);
        message ??= n && n.phase !== "Omitted" ? `child '${n.id}' failed` : `task '${taskName(t)}' failed`;
      }
    }
    if (phase !== "Succeeded") return this.finish(node, phase, message);
    return this.succeedWithOutputs(node, tmpl, scope, where);
  }

  /** Ends a Steps/DAG node Succeeded with its template's outputs, or Error when they cannot be read. */
  private succeedWithOutputs(node: NodeStatus, tmpl: Template, scope: Scope, where: string): ReturnType<Scheduler["finish"]> {
    try {
      const { outputs, artifacts } = this.templateOutputs(tmpl, scope, where);
      if (outputs) node.outputs = outputs;
      if (artifacts.size > 0) this.nodeArtifacts.set(node.id, artifacts);
      this.addGlobalOutputs(node, artifacts);
    } catch (err) {
      return this.finish(node, "Error", messageOf(err));
    }
    return this.finish(node, "Succeeded");
  }

  /** A skipped or omitted producer's outputs resolve to their `valueFrom.default` (Argo 4.0.7). */
  private exposeSkippedDefaults(prefix: string, step: WorkflowStep, scope: Scope): void {
    let tmpl: Template;
    try {
      tmpl = this.resolveTemplate(step, `step "${step.name}"`);
    } catch {
      return;
    }
    for (const p of tmpl.outputs?.parameters ?? []) {
      if (p.valueFrom?.default !== undefined) scope.set(`${prefix}.outputs.parameters.${p.name}`, p.valueFrom.default);
    }
  }

  private exposeTask(n: NodeStatus, t: DAGTask, scope: Scope): void {
    const prefix = `tasks.${t.name}`;
    if (n.type === "TaskGroup") {
      const children = (n.children ?? []).map((c) => this.nodes[c] as NodeStatus).filter((c) => c && c.type !== "Skipped");
      let tmpl: Template | undefined;
      try {
        tmpl = this.resolveTemplate(t, `task "${t.name}"`);
      } catch {
        tmpl = undefined;
      }
      scope.addAggregate(prefix, children, tmpl);
      return;
    }
    if (n.type === "Skipped") {
      scope.set(`${prefix}.status`, n.phase);
      this.exposeSkippedDefaults(prefix, t, scope);
      return;
    }
    scope.addNode(prefix, n, this.nodeArtifacts.get(n.id));
  }

  private async runTask(
    ctx: Ctx,
    task: DAGTask,
    scope: Scope,
    depends: string,
    deps: readonly string[],
    resultOf: (name: string) => DependsTaskResult,
    where: string,
  ): Promise<NodeStatus> {
    const restored = this.restore(ctx);
    if (restored) return restored;
    const twhere = `task "${task.name}" of ${where}`;
    if (deps.length > 0) {
      let ok: boolean;
      try {
        ok = evaluateDepends(depends, resultOf);
      } catch (err) {
        return this.errorNode(ctx, "Skipped", undefined, `${twhere}: depends '${depends}': ${messageOf(err)}`);
      }
      if (!ok) {
        const n = this.createNode(ctx, "Skipped", undefined, "Pending");
        return this.finish(n, "Omitted", "omitted: depends condition not met");
      }
    }
    let resolved: DAGTask;
    let items: Item[] | undefined;
    try {
      resolved = substituteAll(task, this.varsOf(scope), "keep", STEP_SKIP);
      items = expansionItems(resolved, twhere);
    } catch (err) {
      return this.errorNode(ctx, "Skipped", undefined, messageOf(err));
    }
    if (items === undefined) return this.runStep(ctx, resolved, scope, {}, twhere);
    const group = this.createNode(ctx, "TaskGroup", undefined, "Running");
    if (items.length === 0) return this.finish(group, "Skipped", "Skipped, empty params");
    const { withItems: _a, withParam: _b, withSequence: _c, ...base } = resolved;
    void _a, _b, _c;
    const prefix = ctx.name.slice(0, ctx.name.length - task.name.length);
    const gate = new Semaphore(EXPANSION_WINDOW);
    const children = await Promise.all(
      items.map((item, index) => {
        const label = loopChildName(task.name, index, item);
        return gate.run(() => this.runStep({ name: `${prefix}${label}`, displayName: label, parentId: group.id, ...(ctx.boundaryID ? { boundaryID: ctx.boundaryID } : {}), semaphores: ctx.semaphores, ...inherited(ctx) }, base, scope, itemVars(item), twhere));
      }),
    );
    const bad = children.find((c) => isFailedOrError(c.phase));
    if (bad) return this.finish(group, "Failed", `child '${bad.id}' failed`);
    return this.finish(group, "Succeeded");
  }
}

function continues(step: WorkflowStep, phase: NodePhase): boolean {
  const c = step.continueOn;
  if (!c) return false;
  return (phase === "Failed" && c.failed === true) || (phase === "Error" && c.error === true);
}
