/**
 * Dispatch: a template invocation becomes a node — its template resolved, its arguments bound to
 * its inputs, its digest made; taken over from an earlier run when it can be (resume by digest,
 * reuse by key, the content-hash cache), else its body run by kind (Steps, DAG, suspend, HTTP, data, pod, daemon), wrapped in a Retry node under a
 * `retryStrategy` (the template's, else the workflow's, as Argo).
 */
import type { NodeStatus, NodeType, Template } from "../argo/model.ts";
import { KEY_PARAMETER } from "../contract.ts";
import { MAX_DEPTH_MESSAGE, MAX_STACK_DEPTH, messageOf, type Inputs, type Invocation, type Place, type ResolvedArgs } from "./_context.ts";
import { bindInputs, varsWithInputs } from "./arguments.ts";
import type { LocalObjects } from "./local-objects.ts";
import { displayNameOf, withInputsApplied } from "./template-inputs.ts";
import { executeDag } from "./dag.ts";
import type { Leaves } from "./leaves.ts";
import { executeRetry } from "./retry-node.ts";
import type { Turn } from "./resume.ts";
import { executeSteps, type StepsEngine } from "./steps.ts";

/** What dispatch needs of the engine. */
export interface DispatchEngine extends StepsEngine {
  readonly leaves: Leaves;
  /** The workflow's `retryStrategy`, the default of every template. */
  readonly retryStrategy: Template["retryStrategy"];
  /** ConfigMaps and Secrets the workflow reads. */
  readonly objects: LocalObjects | undefined;
}

/** How long invocations may run one after another without letting timers, I/O and signals in. */
const BREATHE_EVERY_MS = 10;
let lastBreath = performance.now();
let breath: Promise<void> | undefined;

/**
 * Lets timers, I/O and signal handlers run between invocations once {@link BREATHE_EVERY_MS}
 * passed since they last could: invocations that only await each other (a template that calls
 * itself, a wide expansion) would otherwise chain microtasks without end, and Ctrl-C, a stop or
 * a deadline would wait until the run ran out of memory. Not at every invocation: a macrotask
 * turn each is a cost a wide fan-out pays ten thousand times. Invocations that arrive while a
 * pause is pending share it.
 */
function breathe(): Promise<void> | undefined {
  if (breath) return breath;
  if (performance.now() - lastBreath < BREATHE_EVERY_MS) return undefined;
  breath = new Promise<void>((resolve) =>
    setImmediate(() => {
      lastBreath = performance.now();
      breath = undefined;
      resolve();
    }),
  );
  return breath;
}

/** Runs a template invocation at `place`; never throws for a step's own failure. */
export async function invoke(e: DispatchEngine, place: Place, inv: Invocation, args: ResolvedArgs): Promise<NodeStatus> {
  // Nodes are made in the order they are invoked (the order of a loop's items, which its
  // aggregated outputs follow), though their digests take more or less time to make.
  const turn = e.resume.turn();
  try {
    return await invokeInTurn(e, place, inv, args, turn);
  } finally {
    turn.release();
  }
}

async function invokeInTurn(e: DispatchEngine, place0: Place, inv: Invocation, args: ResolvedArgs, turn: Turn): Promise<NodeStatus> {
  const pause = breathe();
  if (pause) await pause;
  const key = args.parameters.get(KEY_PARAMETER);
  const depth = (place0.depth ?? 0) + 1;
  const place: Place = key ? { ...place0, key, depth } : { ...place0, depth };
  const where = `node "${place.name}"`;
  let tmpl: Template;
  let inputs: Inputs;
  try {
    tmpl = e.templates.resolve(inv, where);
  } catch (err) {
    await turn.prior;
    return e.book.error(place, "Skipped", undefined, messageOf(err));
  }
  // Argo's stack depth: a template that calls itself without end stops here, with a short message.
  if (depth >= MAX_STACK_DEPTH) {
    await turn.prior;
    return e.book.error(place, tmpl.steps ? "Steps" : tmpl.dag ? "DAG" : "Pod", tmpl, MAX_DEPTH_MESSAGE);
  }
  // A template that always calls itself again would reach that depth for sure (recursion.ts):
  // said at once, before it grows a tree of 2^depth nodes.
  const cycle = inv.inline === undefined ? e.templates.endlessCycle(tmpl.name) : undefined;
  if (cycle) {
    await turn.prior;
    const why = `template "${tmpl.name}" calls itself without a condition (${cycle.join(" → ")}): Argo stops it at depth ${MAX_STACK_DEPTH}`;
    return e.book.error(place, tmpl.steps ? "Steps" : "DAG", tmpl, `${MAX_DEPTH_MESSAGE} (${why})`);
  }
  try {
    inputs = bindInputs(e.globals, tmpl, args, `${where} (template "${tmpl.name}")`, e.objects);
  } catch (err) {
    await turn.prior;
    return e.book.error(place, tmpl.steps ? "Steps" : tmpl.dag ? "DAG" : "Pod", tmpl, messageOf(err));
  }
  // Argo substitutes the inputs into the template before it uses it; an annotation may name the node.
  let at = place;
  try {
    tmpl = withInputsApplied(tmpl, { ...varsWithInputs(e.globals, inputs), ...place.locals });
    const displayName = displayNameOf(tmpl);
    if (displayName) at = { ...place, displayName };
  } catch (err) {
    await turn.prior;
    return e.book.error(place, tmpl.steps ? "Steps" : tmpl.dag ? "DAG" : "Pod", tmpl, `${where}: ${messageOf(err)}`);
  }
  // What decides the node's result: an earlier run's node is taken over only when it matches.
  const digest = await e.resume.digest(at, tmpl, inv.inline !== undefined, inputs.parameters, inputs.artifacts);
  await turn.prior;
  // A daemon serves the steps after it: it runs again, never taken over.
  const taken = tmpl.daemon ? undefined : await e.resume.takeOver(at, tmpl, inv.template, digest, inputs.parameters);
  if (taken) return taken;
  // What runs inside this node is invoked after it.
  turn.release();
  const strategy = tmpl.retryStrategy ?? e.retryStrategy;
  const node =
    strategy && (tmpl.container || tmpl.script || tmpl.containerSet || tmpl.steps || tmpl.dag)
      ? await executeRetry(e, at, tmpl, inputs, strategy, (p, t, i, retries) => executeBody(e, p, t, i, retries))
      : await executeBody(e, at, tmpl, inputs, 0);
  if (!tmpl.daemon) await e.resume.cacheStore(node, tmpl, digest);
  return node;
}

/** What the local engine cannot run, by template kind: the node type and what to say. */
function unsupported(tmpl: Template): [NodeType, string] | undefined {
  if (tmpl.resource) return ["Pod", "a resource template (it needs a Kubernetes API server)"];
  if (tmpl.plugin) return ["Plugin", "a plugin template"];
  return undefined;
}

/** Runs attempt `retries` of a template's body at `place`, by the template's kind. */
function executeBody(e: DispatchEngine, place: Place, tmpl: Template, inputs: Inputs, retries: number): Promise<NodeStatus> {
  if (tmpl.steps) return executeSteps(e, place, tmpl, inputs);
  if (tmpl.dag) return executeDag(e, place, tmpl, inputs);
  if (tmpl.suspend) return e.leaves.suspend(place, tmpl, inputs);
  if (tmpl.http) return e.leaves.http(place, tmpl, inputs);
  if (tmpl.data) return e.leaves.data(place, tmpl, inputs);
  const no = unsupported(tmpl);
  if (no) return e.book.error(place, no[0], tmpl, `template "${tmpl.name}": ${no[1]} is not supported by the local engine`);
  if (tmpl.container || tmpl.script || tmpl.containerSet) return e.leaves.pod(place, tmpl, inputs, retries);
  return e.book.error(place, "Pod", tmpl, `template "${tmpl.name}": has no container, script, steps, dag or suspend`);
}
