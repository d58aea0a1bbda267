/**
 * Argo's `retryStrategy` for the local engine: how many attempts, which failures are retried
 * (`retryPolicy`), how long to wait between attempts (`backoff`), and the `expression` over
 * `lastRetry.*`. Semantics of workflow/controller/operator.go (`processNodeRetries`).
 */
import type { NodePhase, RetryStrategy } from "../argo/model.ts";
import { ExitCode } from "../contract.ts";
import { EngineError } from "../errors.ts";
import { parseDuration } from "../duration.ts";

/** One finished attempt, as the retry decision sees it. */
export interface Attempt {
  readonly phase: NodePhase;
  readonly exitCode?: number;
  readonly message?: string;
  /** ms since epoch. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** What to do after an attempt. */
export type RetryDecision =
  | { readonly retry: true; readonly waitMs: number; readonly message?: string }
  | { readonly retry: false; readonly message?: string };

/** Evaluates `retryStrategy.expression` with `lastRetry.*` in scope. */
export type RetryExpressionEvaluator = (expression: string, env: Record<string, unknown>) => boolean;

function toInt(value: string | number | undefined, where: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new EngineError(`${where}: expects a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Decides whether to try again after `attempts` (the newest last) failed.
 *
 * - `limit` counts retries: at most `limit + 1` attempts (no limit when absent).
 * - `retryPolicy` (default `OnFailure`): `Always`, `OnFailure` (Failed), `OnError` (Error),
 *   `OnTransientError` (exit code {@link ExitCode.Transient}). A {@link ExitCode.Fatal} exit is
 *   never retried.
 * - `backoff`: wait `duration × factor^(n-1)` capped by `cap`; stop when `maxDuration` since the
 *   first attempt would be exceeded.
 * - `expression`: evaluated over `lastRetry.exitCode/status/duration/message`; false stops.
 *
 * @example
 * decideRetry({ limit: "2" }, [{ phase: "Failed", exitCode: 1, startedAt: 0, finishedAt: 5 }], "t", evalBool);
 * // { retry: true, waitMs: 0 }
 */
export function decideRetry(
  strategy: RetryStrategy,
  attempts: readonly Attempt[],
  where: string,
  evaluate: RetryExpressionEvaluator,
  now: number = Date.now(),
): RetryDecision {
  const last = attempts[attempts.length - 1];
  if (!last) return { retry: true, waitMs: 0 };
  if (last.phase !== "Failed" && last.phase !== "Error") return { retry: false };
  const first = attempts[0] as Attempt;

  let waitMs = 0;
  if (strategy.backoff) {
    const b = strategy.backoff;
    let deadline: number | undefined;
    if (b.maxDuration) {
      deadline = first.startedAt + parseDuration(b.maxDuration, `${where}: retryStrategy.backoff.maxDuration`, EngineError);
      if (now > deadline) return { retry: false, message: "Max duration limit exceeded" };
    }
    if (!b.duration) throw new EngineError(`${where}: retryStrategy.backoff needs a duration, got none`);
    waitMs = parseDuration(b.duration, `${where}: retryStrategy.backoff.duration`, EngineError);
    const factor = toInt(b.factor, `${where}: retryStrategy.backoff.factor`);
    if (factor !== undefined && factor > 0) waitMs *= Math.pow(factor, attempts.length - 1);
    if (b.cap) waitMs = Math.min(waitMs, parseDuration(b.cap, `${where}: retryStrategy.backoff.cap`, EngineError));
    if (deadline !== undefined && last.finishedAt + waitMs > deadline) {
      return { retry: false, message: "Backoff would exceed max duration limit" };
    }
  }

  const policy = strategy.retryPolicy ?? "OnFailure";
  let retryable: boolean;
  switch (policy) {
    case "Always":
      retryable = true;
      break;
    case "OnFailure":
      retryable = last.phase === "Failed";
      break;
    case "OnError":
      retryable = last.phase === "Error";
      break;
    case "OnTransientError":
      retryable = last.exitCode === ExitCode.Transient;
      break;
    default:
      throw new EngineError(`${where}: retryStrategy.retryPolicy must be Always, OnFailure, OnError or OnTransientError, got ${JSON.stringify(policy)}`);
  }
  if (!retryable) return { retry: false, message: last.message };
  if (last.exitCode === ExitCode.Fatal) return { retry: false, message: last.message };

  const limit = toInt(strategy.limit, `${where}: retryStrategy.limit`);
  if (limit !== undefined && attempts.length > limit) return { retry: false, message: "No more retries left" };

  if (strategy.expression) {
    const env = {
      lastRetry: {
        exitCode: String(last.exitCode ?? -1),
        status: last.phase,
        duration: String(Math.round((last.finishedAt - last.startedAt) / 1000)),
        message: last.message ?? "",
      },
    };
    if (!evaluate(strategy.expression, env)) return { retry: false, message: notRetried(strategy.expression, last.exitCode, last.message) };
  }
  return { retry: true, waitMs };
}

/** The condition opflow's OP templates retry under by default (`retry: N`): a TransientError's exit code. */
const TRANSIENT_ONLY = `asInt(lastRetry.exitCode) == ${ExitCode.Transient}`;

/**
 * Why a failed attempt was not retried although the limit allows it: Argo's words, then — under
 * an OP's default policy — what is retried, what the attempt ended with, and how to retry any
 * failure.
 */
function notRetried(expression: string, exitCode: number | undefined, message: string | undefined): string {
  const argo = "retryStrategy.expression evaluated to false";
  if (expression.includes(TRANSIENT_ONLY) && exitCode !== ExitCode.Transient) {
    return `${argo}: under this retry policy only a TransientError (exit code ${ExitCode.Transient}) is retried, and the attempt ended with exit code ${exitCode ?? "unknown"}${message ? ` (${message})` : ""}; throw TransientError for failures worth retrying, or retry on any failure with retry: { limit: N, on: "failure" }`;
  }
  return argo;
}
