/**
 * Steps templates: groups run in order, the steps of a group together (each possibly expanded
 * over items), each step's `when`, arguments, template and hooks; what finished steps expose to
 * later groups (`steps.<name>.*`).
 */
import type { NodePhase, NodeStatus, Template, WorkflowStep } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import { evaluateWhen } from "./_expr.ts";
import { callerOf, FAIL_FAST_MESSAGE, inherited, messageOf, type FailFastGuard, type Inputs, type Place, type ResolvedArgs } from "./_context.ts";
import { markAbsentArguments } from "./absent-arguments.ts";
import { exposeSkippedDefaults, recordInputs, resolveArgs, scopeFor, STEP_SKIP, substituteAll, succeedWithOutputs, varsOf } from "./arguments.ts";
import { expand, expansionItems, withoutLoop } from "./expansion.ts";
import { fireStepHooks, runStepExitHooks, watchHooks, type HookEngine } from "./hooks.ts";
import { isFailedOrError, isFulfilled } from "./node-state.ts";
import type { Resume } from "./resume.ts";
import type { Scope, Vars } from "./scope.ts";
import { Semaphore } from "./semaphore.ts";
import type { RunControl } from "./signals.ts";
import type { Templates } from "./templates.ts";
import type { Daemons } from "./daemons.ts";

/** What Steps (and the steps of DAG tasks) need of the engine. */
export interface StepsEngine extends HookEngine {
  /** The run's daemons: a Steps or DAG node ends those of its scope once it ended. */
  readonly daemons: Daemons;
  readonly control: RunControl;
  readonly resume: Resume;
  readonly templates: Templates;
}

/** Whether a step's or task's `continueOn` lets its parent go on after it ended `phase`. */
export function continues(step: WorkflowStep, phase: NodePhase): boolean {
  const c = step.continueOn;
  if (!c) return false;
  return (phase === "Failed" && c.failed === true) || (phase === "Error" && c.error === true);
}

/**
 * The semaphores of a Steps/DAG template's children: the ancestors' and its own `parallelism`.
 *
 * @throws EngineError when `parallelism` is not an integer of at least 1 (Argo's schema).
 */
export function childSemaphores(place: Place, tmpl: Template): readonly Semaphore[] {
  if (tmpl.parallelism === undefined) return place.semaphores;
  checkParallelism(tmpl.parallelism, `template "${tmpl.name}": parallelism`);
  return [...place.semaphores, new Semaphore(tmpl.parallelism)];
}

/**
 * Argo's schema takes `parallelism` ≥ 1, on the workflow and on a template alike: the local
 * engine refuses anything else in both places, with the same message (0 or a negative number
 * is not "no limit").
 *
 * @throws EngineError naming `field` and the value.
 */
export function checkParallelism(value: unknown, field: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new EngineError(`${field} must be an integer of at least 1 (Argo's schema), got ${JSON.stringify(value)}`);
  }
}

/**
 * Runs a Steps template at `place`; once it ended, the daemons it started are killed and
 * recorded Succeeded (Argo's `killDaemonedChildren` when a Steps node is fulfilled).
 */
export async function executeSteps(e: StepsEngine, place: Place, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
  const node = e.book.create(place, "Steps", tmpl, "Running", recordInputs(inputs));
  try {
    return await stepsBody(e, place, node, tmpl, inputs);
  } finally {
    if (e.daemons.used) await e.daemons.endScope(node.id);
  }
}

async function stepsBody(e: StepsEngine, place: Place, node: NodeStatus, tmpl: Template, inputs: Inputs): Promise<NodeStatus> {
  const scope = scopeFor(e.globals, inputs);
  let semaphores: readonly Semaphore[];
  try {
    semaphores = childSemaphores(place, tmpl);
  } catch (err) {
    return e.book.finish(node, "Error", messageOf(err));
  }
  const groups = tmpl.steps ?? [];
  // failFast: true (explicit, as Argo's Template.IsFailFast): once a child failed, no new one starts.
  const guard: FailFastGuard | undefined = tmpl.failFast === true ? { failed: false } : undefined;
  let previous: NodeStatus | undefined;
  for (let i = 0; i < groups.length; i++) {
    // Nothing new starts once the run stops (also before the first group: a template that
    // calls itself must stop growing the moment the run is stopped).
    if (e.control.halted(place)) return e.book.finish(node, "Failed", e.control.stopMessage);
    const group = groups[i] as WorkflowStep[];
    // As Argo links them: group 0 under the Steps node, group i+1 under the steps of group i.
    const parents = previous ? (previous.children ?? []) : [node.id];
    const sgPlace: Place = { name: `${place.name}[${i}]`, displayName: `[${i}]`, parentId: parents[0] ?? node.id, boundaryID: node.id, semaphores, ...inherited(place), ...(guard ? { failFast: guard } : {}) };
    const sg = await executeStepGroup(e, sgPlace, node, tmpl, group, scope, semaphores);
    for (const extra of parents.slice(1)) e.book.addChild(extra, sg.id);
    previous = sg;
    // Steps of the group become visible to the next groups.
    for (const step of group) exposeStep(e, sg, `${sgPlace.name}.${step.name}`, step, scope);
    if (isFailedOrError(sg.phase)) return e.book.finish(node, "Failed", sg.message);
    if (e.control.halted(place)) return e.book.finish(node, "Failed", e.control.stopMessage);
  }
  return succeedWithOutputs(e, node, tmpl, scope, `node "${node.name}" (template "${tmpl.name}")`);
}

/** Adds `steps.<name>.*` for a finished step (or the aggregate of its expansion). */
function exposeStep(e: StepsEngine, sg: NodeStatus, childName: string, step: WorkflowStep, scope: Scope): void {
  const prefix = `steps.${step.name}`;
  const id = e.book.idOf(childName);
  const direct = e.book.nodes[id];
  if (direct && direct.type !== "Skipped") {
    scope.addNode(prefix, direct, e.book.artifacts.get(id));
    return;
  }
  if (direct) {
    scope.set(`${prefix}.status`, direct.phase);
    exposeSkippedDefaults(e.templates, prefix, step, scope);
    return;
  }
  const children = (sg.children ?? []).map((c) => e.book.nodes[c] as NodeStatus).filter((n) => n && n.name.startsWith(`${childName}(`) && n.type !== "Skipped");
  if (children.length === 0) return;
  scope.addAggregate(prefix, children, e.templates.find(step, `step "${step.name}"`));
}

/** Runs one group of steps together; Failed when one of them failed and may not continue. */
async function executeStepGroup(e: StepsEngine, place: Place, stepsNode: NodeStatus, tmpl: Template, group: readonly WorkflowStep[], scope: Scope, semaphores: readonly Semaphore[]): Promise<NodeStatus> {
  const sg = e.book.create(place, "StepGroup", tmpl, "Running");
  const runs: Promise<{ node: NodeStatus; step: WorkflowStep }>[] = [];
  const stepPlace = (name: string, displayName: string): Place => ({ name, displayName, parentId: sg.id, boundaryID: stepsNode.id, semaphores, ...inherited(place), ...(place.failFast ? { failFast: place.failFast } : {}), ...callerOf("steps", displayName) });
  try {
    for (const raw of group) {
      const childName = `${place.name}.${raw.name}`;
      const where = `step "${raw.name}" of node "${stepsNode.name}"`;
      const resolved = substituteAll(raw, varsOf(scope), "keep", STEP_SKIP);
      const items = expansionItems(resolved, where);
      const ran = (node: NodeStatus): { node: NodeStatus; step: WorkflowStep } => {
        if (place.failFast && isFailedOrError(node.phase)) place.failFast.failed = true;
        return { node, step: raw };
      };
      if (items === undefined) {
        runs.push(runStep(e, stepPlace(childName, raw.name), resolved, scope, {}, where, raw.when).then(ran));
      } else if (items.length === 0) {
        runs.push(e.book.skip(stepPlace(childName, raw.name), "Skipped, empty params").then(ran));
      } else {
        const base = withoutLoop(resolved);
        runs.push(...expand(raw.name, items, (label, item) => runStep(e, stepPlace(`${place.name}.${label}`, label), base, scope, item, where, raw.when).then(ran)));
      }
    }
  } catch (err) {
    await Promise.all(runs);
    return e.book.finish(sg, "Error", messageOf(err));
  }
  const done = await Promise.all(runs);
  if (place.failFast?.failed && done.some(({ node, step }) => isFailedOrError(node.phase) && !continues(step, node.phase))) return e.book.finish(sg, "Failed", FAIL_FAST_MESSAGE);
  for (const { node, step } of done) {
    if (isFailedOrError(node.phase) && !continues(step, node.phase)) return e.book.finish(sg, "Failed", `child '${node.id}' failed`);
  }
  return e.book.finish(sg, "Succeeded");
}

/**
 * Runs one (possibly expanded) step or task: item substitution, `when`, arguments, the template,
 * hooks. `writtenWhen` is the condition as the manifest writes it (for the skip message).
 */
export async function runStep(e: StepsEngine, place: Place, step: WorkflowStep, scope: Scope, item: Vars, where: string, writtenWhen: string | undefined = step.when): Promise<NodeStatus> {
  let s: WorkflowStep;
  let args: ResolvedArgs;
  try {
    s = substituteAll(markAbsentArguments(step, scope.absent), varsOf(scope, { ...item, ...place.locals }), "error", STEP_SKIP);
    if (s.when !== undefined && s.when !== "") {
      let proceed: boolean;
      try {
        proceed = evaluateWhen(s.when);
      } catch (err) {
        throw new EngineError(`${where}: invalid 'when' expression '${s.when}': ${messageOf(err)}`);
      }
      // Argo's message, then the condition as written when substitution changed it.
      if (!proceed) return await e.book.skip(place, `when '${s.when}' evaluated false${writtenWhen !== undefined && writtenWhen !== s.when ? ` (as written: '${writtenWhen}')` : ""}`);
    }
    args = resolveArgs(e.globals, s.arguments, scope, where);
  } catch (err) {
    return e.book.error(place, "Skipped", undefined, messageOf(err));
  }
  const fired = new Set<string>();
  const hooks = watchHooks(e.book, step.hooks, () => {
    const live = e.book.at(place);
    return live && !isFulfilled(live.phase) ? fireStepHooks(e, place, step, live, scope, item, fired) : undefined;
  });
  let node: NodeStatus;
  try {
    node = await e.invoke(place, s, args);
  } finally {
    hooks.stop();
  }
  await hooks.settled();
  await runStepExitHooks(e, place, step, node, scope, item, fired);
  return node;
}
