/**
 * The node state machine of the local engine, with Argo's phase vocabulary:
 *
 * ```
 * Pending ──► Running ──► Succeeded | Failed | Error
 *    └──────────────────► Skipped | Omitted | Failed | Error   (never started)
 * ```
 *
 * A fulfilled node never changes phase again. `Running → Running` updates progress and message.
 */
import type { NodePhase } from "../argo/model.ts";
import { EngineError } from "../errors.ts";

/** Phases after which a node never changes (Argo's `Fulfilled`). */
export function isFulfilled(phase: NodePhase): boolean {
  return phase === "Succeeded" || phase === "Failed" || phase === "Error" || phase === "Skipped" || phase === "Omitted";
}

/** Failed or Error. */
export function isFailedOrError(phase: NodePhase | undefined): boolean {
  return phase === "Failed" || phase === "Error";
}

const NEXT: Readonly<Record<NodePhase, readonly NodePhase[]>> = {
  Pending: ["Pending", "Running", "Succeeded", "Failed", "Error", "Skipped", "Omitted"],
  Running: ["Running", "Succeeded", "Failed", "Error"],
  Succeeded: [],
  Failed: [],
  Error: [],
  Skipped: [],
  Omitted: [],
};

/** Whether a node may go from `from` to `to`. */
export function canTransition(from: NodePhase, to: NodePhase): boolean {
  return NEXT[from].includes(to);
}

/**
 * Checks a transition and throws an {@link EngineError} naming the node when it is illegal
 * (a bug in the engine, never a user error).
 */
export function assertTransition(nodeName: string, from: NodePhase, to: NodePhase): void {
  if (!canTransition(from, to)) {
    throw new EngineError(`node "${nodeName}": phase may not change from ${from} to ${to} (a fulfilled node is final)`);
  }
}
