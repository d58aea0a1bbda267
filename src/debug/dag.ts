/**
 * DAG templates: each task starts once its dependencies are fulfilled and its `depends` logic
 * holds (else it is Omitted); `target` limits the run to what the targets need; `failFast`
 * stops starting tasks once a target's branch failed; the DAG's phase is Argo's
 * `assessDAGPhase` over the targets' branches. Tasks expose `tasks.<name>.*` to the others.
 */
import type { DAGTask, Item, NodePhase, NodeStatus, Template } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import { dependsTasks, evaluateDepends, type DependsTaskResult, type TaskResultPhase } from "./_expr.ts";
import { callerOf, inherited, messageOf, type Inputs, type Place } from "./_context.ts";
import { exposeSkippedDefaults, recordInputs, scopeFor, STEP_SKIP, substituteAll, succeedWithOutputs, varsOf } from "./arguments.ts";
import { expand, expansionItems, withoutLoop } from "./expansion.ts";
import { isFailedOrError, isFulfilled } from "./node-state.ts";
import type { Scope } from "./scope.ts";
import type { Semaphore } from "./semaphore.ts";
import { childSemaphores, continues, runStep, type StepsEngine } from "./steps.ts";

/** What DAGs need of the engine (as much as Steps: their tasks run as steps). */
export type DagEngine = StepsEngine;

/** The tasks of a DAG, their dependencies and `depends` logic, and those the targets need. */
interface DagGraph {
  readonly tasks: ReadonlyMap<string, DAGTask>;
  readonly deps: ReadonlyMap<string, readonly string[]>;
  readonly logic: ReadonlyMap<string, string>;
  readonly targets: readonly string[];
  readonly needed: ReadonlySet<string>;
}

/** Reads a DAG's graph; throws for unknown tasks and for `depends` with `dependencies`. */
function dagGraph(dag: NonNullable<Template["dag"]>, where: string): DagGraph {
  const tasks = new Map<string, DAGTask>();
  for (const t of dag.tasks) tasks.set(t.name, t);
  const deps = new Map<string, string[]>();
  const logic = new Map<string, string>();
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
  // Targets and everything they need.
  const targets = dag.target ? dag.target.split(/[\s,]+/).filter(Boolean) : dag.tasks.filter((t) => ![...deps.values()].some((d) => d.includes(t.name))).map((t) => t.name);
  const needed = new Set<string>();
  const want = (name: string): void => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const d of deps.get(name) ?? []) want(d);
  };
  for (const t of targets) {
    if (!tasks.has(t)) throw new EngineError(`${where}: dag.target names unknown task "${t}"`);
    want(t);
  }
  return { tasks, deps, logic, targets, needed };
}

/** Runs a DAG template at `place`. */
export async function executeDag(e: DagEngine, place: Place, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
  const node = e.book.create(place, "DAG", tmpl, "Running", recordInputs(inputs));
  try {
    return await dagBody(e, place, node, tmpl, inputs);
  } finally {
    // Argo's killDaemonedChildren once the DAG node is fulfilled.
    if (e.daemons.used) await e.daemons.endScope(node.id);
  }
}

async function dagBody(e: DagEngine, place: Place, node: NodeStatus, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
  const dag = tmpl.dag as NonNullable<Template["dag"]>;
  const where = `node "${node.name}" (template "${tmpl.name}")`;
  let graph: DagGraph;
  try {
    graph = dagGraph(dag, where);
  } catch (err) {
    return e.book.finish(node, "Error", messageOf(err));
  }
  const scope = scopeFor(e.globals, inputs);
  let semaphores: readonly Semaphore[];
  try {
    semaphores = childSemaphores(place, tmpl);
  } catch (err) {
    return e.book.finish(node, "Error", messageOf(err));
  }
  const run = new DagRun(e, place, node, graph, scope, semaphores, dag.failFast ?? tmpl.failFast ?? true, where);
  await run.run(dag.tasks);
  const { phase, message } = run.outcome();
  if (phase !== "Succeeded") return e.book.finish(node, phase, message);
  return succeedWithOutputs(e, node, tmpl, scope, where);
}

/** Whether a task's dependants may start: it ended, or it is a daemon that became ready (Argo's `Fulfilled`). */
function isDone(n: NodeStatus): boolean {
  return isFulfilled(n.phase) || (n.daemoned === true && n.phase !== "Pending");
}

const asResult = (phase: NodePhase): TaskResultPhase | "Pending" | "Running" => (phase === "Error" ? "Errored" : phase);

/** One run of a DAG's tasks. */
class DagRun {
  private readonly taskNode = new Map<string, NodeStatus>();
  private readonly started = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private failed = false;
  private anyFailure = false;

  constructor(
    private readonly e: DagEngine,
    private readonly place: Place,
    private readonly node: NodeStatus,
    private readonly graph: DagGraph,
    private readonly scope: Scope,
    private readonly semaphores: readonly Semaphore[],
    private readonly failFast: boolean,
    private readonly where: string,
  ) {}

  private taskName(name: string): string {
    return `${this.place.name}.${name}`;
  }

  /** Starts every needed task once it may start, until none runs and none may start. */
  async run(tasks: readonly DAGTask[]): Promise<void> {
    for (;;) {
      let progressed = false;
      for (const t of tasks) {
        if (!this.graph.needed.has(t.name) || this.started.has(t.name)) continue;
        if (this.e.control.halted(this.place) || (this.failed && this.failFast)) continue;
        const d = this.graph.deps.get(t.name) ?? [];
        if (!d.every((dep) => this.taskNode.has(dep) && isDone(this.taskNode.get(dep) as NodeStatus))) continue;
        this.launch(t);
        progressed = true;
      }
      if (this.running.size === 0 && !progressed) break;
      if (this.running.size > 0) await Promise.race(this.running);
    }
  }

  /** What `depends` logic sees of a finished task. */
  private resultOf(name: string): DependsTaskResult {
    const n = this.taskNode.get(name) as NodeStatus;
    const t = this.graph.tasks.get(name) as DAGTask;
    const continueOn = t.continueOn ? { continueOn: t.continueOn } : {};
    if (n.type === "TaskGroup") {
      const phases = (n.children ?? []).map((c) => asResult((this.e.book.nodes[c] as NodeStatus).phase)).filter((p): p is TaskResultPhase => p !== "Pending" && p !== "Running");
      return { phase: asResult(n.phase), fanOut: { phases }, ...continueOn };
    }
    // A daemon that became ready is Daemoned to depends logic (dag.go: daemoned and not Pending).
    return { phase: n.daemoned && n.phase === "Running" ? "Daemoned" : asResult(n.phase), ...continueOn };
  }

  /**
   * Branch phases of tasks (assessDAGPhase): a task's own phase once it completed; an omitted
   * task inherits its parents' branch phase, Failed/Error first; "" when it has no node yet.
   */
  private branchPhases(): (name: string) => NodePhase | "" {
    const memo = new Map<string, NodePhase | "">();
    const branchPhase = (name: string): NodePhase | "" => {
      const known = memo.get(name);
      if (known !== undefined) return known;
      const n = this.taskNode.get(name);
      let phase: NodePhase | "" = "";
      if (n && n.phase !== "Omitted") phase = n.phase;
      else if (n) {
        const parents = (this.graph.deps.get(name) ?? []).map(branchPhase);
        phase = parents.find((p) => p === "Failed" || p === "Error") ?? parents.find((p) => p !== "") ?? "Succeeded";
      }
      memo.set(name, phase);
      return phase;
    };
    return branchPhase;
  }

  private targetFailed(name: string, branch: (name: string) => NodePhase | ""): boolean {
    const bp = branch(name);
    return (bp === "Failed" || bp === "Error") && !continues(this.graph.tasks.get(name) as DAGTask, bp);
  }

  private launch(t: DAGTask): void {
    this.started.add(t.name);
    const d = this.graph.deps.get(t.name) ?? [];
    const parentIds = d.length === 0 ? [this.node.id] : d.map((dep) => (this.taskNode.get(dep) as NodeStatus).id);
    const tplace: Place = { name: this.taskName(t.name), displayName: t.name, parentId: parentIds[0] as string, boundaryID: this.node.id, semaphores: this.semaphores, ...inherited(this.place), ...callerOf("tasks", t.name) };
    const p = runTask(this.e, tplace, t, this.scope, this.graph.logic.get(t.name) ?? "", d, (name) => this.resultOf(name), this.where)
      .then((n) => {
        for (const extra of parentIds.slice(1)) this.e.book.addChild(extra, n.id);
        this.taskNode.set(t.name, n);
        exposeTask(this.e, n, t, this.scope);
        if (isFailedOrError(n.phase)) this.anyFailure = true;
        // failFast: the DAG fails as soon as a target's branch is known to have failed.
        if (this.anyFailure && this.failFast && !this.failed) this.failed = this.graph.targets.some((tn) => this.targetFailed(tn, this.branchPhases()));
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** The DAG's phase and message once no task runs. */
  outcome(): { phase: NodePhase; message?: string } {
    const branch = this.branchPhases();
    let phase: NodePhase = "Succeeded";
    let message: string | undefined;
    for (const t of this.graph.targets) {
      const bp = branch(t);
      if (bp === "") {
        if (!this.e.control.halted(this.place) && !(this.failed && this.failFast)) continue;
        phase = "Failed";
        message ??= this.e.control.stopMessage ?? `task '${this.taskName(t)}' did not run: an earlier task failed`;
        continue;
      }
      if ((bp === "Failed" || bp === "Error") && !continues(this.graph.tasks.get(t) as DAGTask, bp)) {
        if (phase !== "Failed" && phase !== "Error") phase = bp;
        const n = this.taskNode.get(t);
        message ??= n && n.phase !== "Omitted" ? `child '${n.id}' failed` : `task '${this.taskName(t)}' failed`;
      }
    }
    return { phase, ...(message !== undefined ? { message } : {}) };
  }
}

/** Adds `tasks.<name>.*` for a finished task (or the aggregate of its expansion). */
function exposeTask(e: DagEngine, n: NodeStatus, t: DAGTask, scope: Scope): void {
  const prefix = `tasks.${t.name}`;
  if (n.type === "TaskGroup") {
    const children = (n.children ?? []).map((c) => e.book.nodes[c] as NodeStatus).filter((c) => c && c.type !== "Skipped");
    scope.addAggregate(prefix, children, e.templates.find(t, `task "${t.name}"`));
    return;
  }
  if (n.type === "Skipped") {
    scope.set(`${prefix}.status`, n.phase);
    exposeSkippedDefaults(e.templates, prefix, t, scope);
    return;
  }
  scope.addNode(prefix, n, e.book.artifacts.get(n.id));
}

/** Runs one task whose dependencies are fulfilled: its `depends` logic, then the step (or its expansion in a TaskGroup). */
async function runTask(e: DagEngine, place: Place, task: DAGTask, scope: Scope, depends: string, deps: readonly string[], resultOf: (name: string) => DependsTaskResult, where: string): Promise<NodeStatus> {
  const twhere = `task "${task.name}" of ${where}`;
  if (deps.length > 0) {
    let ok: boolean;
    try {
      ok = evaluateDepends(depends, resultOf);
    } catch (err) {
      return e.book.error(place, "Skipped", undefined, `${twhere}: depends '${depends}': ${messageOf(err)}`);
    }
    if (!ok) return e.book.skip(place, "omitted: depends condition not met", "Omitted");
  }
  let resolved: DAGTask;
  let items: Item[] | undefined;
  try {
    resolved = substituteAll(task, varsOf(scope), "keep", STEP_SKIP);
    items = expansionItems(resolved, twhere);
  } catch (err) {
    return e.book.error(place, "Skipped", undefined, messageOf(err));
  }
  if (items === undefined) return runStep(e, place, resolved, scope, {}, twhere, task.when);
  const group = e.book.create(place, "TaskGroup", undefined, "Running");
  if (items.length === 0) return e.book.finish(group, "Skipped", "Skipped, empty params");
  const base = withoutLoop(resolved);
  const prefix = place.name.slice(0, place.name.length - task.name.length);
  const childPlace = (label: string): Place => ({ name: `${prefix}${label}`, displayName: label, parentId: group.id, ...(place.boundaryID ? { boundaryID: place.boundaryID } : {}), semaphores: place.semaphores, ...inherited(place), ...callerOf("tasks", label) });
  const children = await Promise.all(expand(task.name, items, (label, item) => runStep(e, childPlace(label), base, scope, item, twhere, task.when)));
  const bad = children.find((c) => isFailedOrError(c.phase));
  if (bad) return e.book.finish(group, "Failed", `child '${bad.id}' failed`);
  return e.book.finish(group, "Succeeded");
}
