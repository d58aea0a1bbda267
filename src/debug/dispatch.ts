/**
 * Dispatch: a template invocation becomes a node — taken over from an earlier run when it can
 * be (resume, reuse by key), else its template resolved, its arguments bound to its inputs, and
 * its body run by kind (Steps, DAG, suspend, pod), wrapped in a Retry node under a
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
import { executeSteps, type StepsEngine } from "./steps.ts";

/** What dispatch needs of the engine. */
export interface DispatchEngine extends StepsEngine {
  readonly leaves: Leaves;
  /** The workflow's `retryStrategy`, the default of every template. */
  readonly retryStrategy: Template["retryStrategy"];
  /** ConfigMaps and Secrets the workflow reads. */
  readonly objects: LocalObjects | undefined;
}

/**
 * Lets timers, I/O and signal handlers run between invocations: invocations that only await
 * each other (a template that calls itself, a wide expansion) would otherwise chain microtasks
 * without end, and Ctrl-C, a stop or a deadline would wait until the run ran out of memory.
 */
function breathe(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** Runs a template invocation at `place`; never throws for a step's own failure. */
export async function invoke(e: DispatchEngine, place0: Place, inv: Invocation, args: ResolvedArgs): Promise<NodeStatus> {
  await breathe();
  const key = args.parameters.get(KEY_PARAMETER);
  const depth = (place0.depth ?? 0) + 1;
  const place: Place = key ? { ...place0, key, depth } : { ...place0, depth };
  const restored = e.resume.takeOver(place, inv.template);
  if (restored) return restored;
  const where = `node "${place.name}"`;
  let tmpl: Template;
  let inputs: Inputs;
  try {
    tmpl = e.templates.resolve(inv, where);
  } catch (err) {
    return e.book.error(place, "Skipped", undefined, messageOf(err));
  }
  // Argo's stack depth: a template that calls itself without end stops here, with a short message.
  if (depth >= MAX_STACK_DEPTH) {
    return e.book.error(place, tmpl.steps ? "Steps" : tmpl.dag ? "DAG" : "Pod", tmpl, MAX_DEPTH_MESSAGE);
  }
  try {
    inputs = bindInputs(e.globals, tmpl, args, `${where} (template "${tmpl.name}")`, e.objects);
  } catch (err) {
    return e.book.error(place, tmpl.steps ? "Steps" : tmpl.dag ? "DAG" : "Pod", tmpl, messageOf(err));
  }
  // Argo substitutes the inputs into the template before it uses it; an annotation may name the node.
  let at = place;
  try {
    tmpl = withInputsApplied(tmpl, varsWithInputs(e.globals, inputs));
    const displayName = displayNameOf(tmpl);
    if (displayName) at = { ...place, displayName };
  } catch (err) {
    return e.book.error(place, tmpl.steps ? "Steps" : tmpl.dag ? "DAG" : "Pod", tmpl, `${where}: ${messageOf(err)}`);
  }
  const strategy = tmpl.retryStrategy ?? e.retryStrategy;
  if (strategy && (tmpl.container || tmpl.script || tmpl.containerSet || tmpl.steps || tmpl.dag)) {
    return executeRetry(e, at, tmpl, inputs, strategy, (p, t, i, retries) => executeBody(e, p, t, i, retries));
  }
  return executeBody(e, at, tmpl, inputs, 0);
}

/** What the local engine cannot run, by template kind: the node type and what to say. */
function unsupported(tmpl: Template): [NodeType, string] | undefined {
  if (tmpl.resource) return ["Pod", "a resource template (it needs a Kubernetes API server)"];
  if (tmpl.plugin) return ["Plugin", "a plugin template"];
  if (tmpl.data) return ["Pod", "a data template"];
  if (tmpl.daemon) return ["Pod", "a daemon template (daemon: true)"];
  return undefined;
}

/** Runs attempt `retries` of a template's body at `place`, by the template's kind. */
function executeBody(e: DispatchEngine, place: Place, tmpl: Template, inputs: Inputs, retries: number): Promise<NodeStatus> {
  if (tmpl.steps) return executeSteps(e, place, tmpl, inputs);
  if (tmpl.dag) return executeDag(e, place, tmpl, inputs);
  if (tmpl.suspend) return e.leaves.suspend(place, tmpl, inputs);
  if (tmpl.http) return e.leaves.http(place, tmpl, inputs);
  const no = unsupported(tmpl);
  if (no) return e.book.error(place, no[0], tmpl, `template "${tmpl.name}": ${no[1]} is not supported by the local engine`);
  if (tmpl.container || tmpl.script || tmpl.containerSet) return e.leaves.pod(place, tmpl, inputs, retries);
  return e.book.error(place, "Pod", tmpl, `template "${tmpl.name}": has no container, script, steps, dag or suspend`);
}
