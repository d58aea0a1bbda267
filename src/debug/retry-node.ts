/**
 * The Retry node: runs a template's body as attempts `name(0)`, `name(1)`, … under the
 * template's (or the workflow's) `retryStrategy`, waiting its backoff between attempts; the
 * decision itself is {@link decideRetry}.
 */
import type { NodeStatus, Template } from "../argo/model.ts";
import { evaluateExpression } from "./_expr.ts";
import { inherited, messageOf, now, type Inputs, type Place } from "./_context.ts";
import { recordInputs } from "./arguments.ts";
import { formatDuration } from "../duration.ts";
import type { Daemons } from "./daemons.ts";
import type { NodeBook } from "./node-book.ts";
import { isFailedOrError } from "./node-state.ts";
import { decideRetry, type Attempt } from "./retry.ts";
import type { RunControl } from "./signals.ts";
import { sleep } from "../sleep.ts";

/** What retrying needs of the engine. */
export interface RetryEngine {
  readonly book: NodeBook;
  /** The run's daemons: a Retry node over a daemon that became ready is daemoned with it. */
  readonly daemons: Daemons;
  readonly control: RunControl;
}

/** Runs attempt `retries` of the template's body at `place`. */
export type Body = (place: Place, tmpl: Template, inputs: Inputs, retries: number) => Promise<NodeStatus>;

/** The attempt as the retry decision sees it. */
function attemptOf(child: NodeStatus): Attempt {
  return {
    phase: child.phase,
    ...(child.outputs?.exitCode !== undefined ? { exitCode: Number(child.outputs.exitCode) } : {}),
    ...(child.message !== undefined ? { message: child.message } : {}),
    startedAt: Date.parse(child.startedAt ?? now()),
    finishedAt: Date.parse(child.finishedAt ?? now()),
  };
}

/** Runs a template with a retryStrategy at `place`: a Retry node over its attempts. */
export async function executeRetry(e: RetryEngine, place: Place, tmpl: Template, inputs: Inputs, strategy: NonNullable<Template["retryStrategy"]>, body: Body): Promise<NodeStatus> {
  const node = e.book.create(place, "Retry", tmpl, "Running", recordInputs(inputs));
  return attemptsFrom({ e, node, place, tmpl, inputs, strategy, body, scope: tmpl.daemon ? e.daemons.scopeSignal(place.boundaryID ?? "") : NEVER }, 0, []);
}

/** A signal never aborted (the scope of a template that is no daemon does not matter here). */
const NEVER = new AbortController().signal;

/** One Retry node's run. */
interface RetryRun {
  readonly e: RetryEngine;
  readonly node: NodeStatus;
  readonly place: Place;
  readonly tmpl: Template;
  readonly inputs: Inputs;
  readonly strategy: NonNullable<Template["retryStrategy"]>;
  readonly body: Body;
  /** Aborted when the Steps or DAG around it ends (daemons.ts). */
  readonly scope: AbortSignal;
}

/**
 * Runs attempts `first`, `first + 1` … after the `attempts` made so far. An attempt that is a
 * daemon and became ready daemons the Retry node and returns it; should that attempt end by
 * itself before its scope does, the attempts go on from the next (Argo retries a daemon that
 * failed after it was ready: test/e2e/daemon_pod_test.go TestDaemonPodRetry).
 */
async function attemptsFrom(r: RetryRun, first: number, attempts: Attempt[]): Promise<NodeStatus> {
  const { e, node, place, tmpl, inputs, strategy, body } = r;
  const where = `node "${place.name}" (template "${tmpl.name}")`;
  for (let i = first; ; i++) {
    // A daemon's scope ended while it was retried: its daemoned Retry node ends with it.
    if (node.daemoned && r.scope.aborted) {
      delete node.daemoned;
      return e.book.finish(node, "Succeeded");
    }
    const childPlace: Place = {
      name: `${place.name}(${i})`,
      displayName: `${place.displayName}(${i})`,
      parentId: node.id,
      ...(place.boundaryID ? { boundaryID: place.boundaryID } : {}),
      semaphores: place.semaphores,
      ...(place.key ? { key: `${place.key}(${i})` } : {}),
      ...inherited(place),
      // The attempts see the step's name and, as operator.go sets them per attempt, lastRetry.*.
      locals: { ...place.locals, ...lastRetryVars(attempts[attempts.length - 1]) },
    };
    const child = await body(childPlace, tmpl, inputs, i);
    if (child.daemoned && child.phase === "Running") {
      // Daemoned as its attempt is (operator.go), and ended with it (daemons.ts).
      node.daemoned = true;
      e.book.persist(node);
      e.book.changed();
      e.daemons.follow(child.id, node, (ended) => attemptsFrom(r, i + 1, [...attempts, attemptOf(ended)]));
      return node;
    }
    if (child.phase === "Succeeded") {
      if (child.outputs) node.outputs = child.outputs;
      const arts = e.book.artifacts.get(child.id);
      if (arts) e.book.artifacts.set(node.id, arts);
      return e.book.finish(node, "Succeeded");
    }
    attempts.push(attemptOf(child));
    if (node.daemoned && r.scope.aborted) continue;
    if (e.control.halted(place)) {
      delete node.daemoned;
      return e.book.finish(node, isFailedOrError(child.phase) ? child.phase : "Failed", child.message ?? e.control.stopMessage);
    }
    let decision;
    try {
      decision = decideRetry(strategy, attempts, where, (expr, env) => {
        const v = evaluateExpression(expr, env);
        return v === true || v === "true";
      });
    } catch (err) {
      delete node.daemoned;
      return e.book.finish(node, "Error", messageOf(err));
    }
    if (!decision.retry) {
      if (child.outputs) node.outputs = child.outputs;
      delete node.daemoned;
      return e.book.finish(node, isFailedOrError(child.phase) ? child.phase : "Failed", decision.message ?? child.message);
    }
    if (decision.waitMs > 0) {
      node.message = `Backoff for ${formatDuration(decision.waitMs)}`;
      e.book.changed();
      await sleep(decision.waitMs, node.daemoned ? AbortSignal.any([e.control.signalFor(place), r.scope]) : e.control.signalFor(place));
      delete node.message;
    }
  }
}

/**
 * `lastRetry.*` for the next attempt (operator.go): the previous attempt's exit code, phase,
 * duration in seconds and message; "0", "", "0" and "" before the first.
 */
function lastRetryVars(last: Attempt | undefined): Record<string, string> {
  return {
    "lastRetry.exitCode": last?.exitCode !== undefined ? String(last.exitCode) : "0",
    "lastRetry.status": last?.phase ?? "",
    "lastRetry.duration": last ? String((last.finishedAt - last.startedAt) / 1000) : "0",
    "lastRetry.message": last?.message ?? "",
  };
}
