/**
 * Retries of a template: the authoring options (`retry: 3`, `{ limit, on, backoff }`) and
 * their rendering to Argo's `retryStrategy`.
 */
import type { RetryStrategy } from "../argo/model.ts";
import { type Duration, renderDuration } from "../duration.ts";
import { ExitCode, ValidationError } from "../errors.ts";
import { compact } from "./compact.ts";

/** When to retry a failed attempt. */
export type RetryOn =
  /** Only a `TransientError` of an OP (exit code 75). The default for OP templates. */
  | "transient-error"
  /** Any failure of the main container (Argo's `OnFailure`). */
  | "failure"
  /** Errors of the system around it (Argo's `OnError`: pod deleted, node lost, …). */
  | "error"
  /** Any of these (Argo's `Always`). */
  | "always";

/** How a template retries. */
export interface RetryOptions {
  /** Retries after the first attempt (Argo's `limit`). */
  readonly limit: number;
  /** @default "transient-error" for OP templates, "failure" otherwise */
  readonly on?: RetryOn;
  /** Wait between attempts: `duration × factor^n`, at most `cap`, in all at most `maxDuration`. */
  readonly backoff?: {
    readonly duration: Duration;
    readonly factor?: number;
    readonly cap?: Duration;
    readonly maxDuration?: Duration;
  };
  /**
   * An extra expr-lang condition over `lastRetry.*` that must hold for a retry
   * (ANDed with the `on` rule).
   * @default none
   */
  readonly expression?: string;
  /**
   * Retry an attempt that ran past its deadline (`timeout`) as a `TransientError` (dflow's
   * `timeout_as_transient_error`). Only changes the `"transient-error"` rule: the others retry
   * timeouts anyway.
   * @default false
   */
  readonly timeoutAsTransientError?: boolean;
}

/** Checks a retry option's limit; `template` names the template for the error. */
export function checkRetry(template: string, retry: RetryOptions | number): void {
  const limit = typeof retry === "number" ? retry : retry.limit;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ValidationError(`template "${template}": retry limit must be a non-negative integer, got ${JSON.stringify(limit)}`);
  }
}

/** Renders retry options to Argo's `retryStrategy`. */
export function renderRetry(template: string, retry: RetryOptions | number, defaultOn: RetryOn): RetryStrategy {
  const r: RetryOptions = typeof retry === "number" ? { limit: retry } : retry;
  const on = r.on ?? defaultOn;
  const out: RetryStrategy = { limit: r.limit };
  const expressions: string[] = [];
  switch (on) {
    case "transient-error":
      out.retryPolicy = "Always";
      expressions.push(
        r.timeoutAsTransientError
          ? `(asInt(lastRetry.exitCode) == ${ExitCode.Transient} || lastRetry.message contains "deadline")`
          : `asInt(lastRetry.exitCode) == ${ExitCode.Transient}`,
      );
      break;
    case "failure":
      // Argo's default retryPolicy is OnFailure: left implicit.
      break;
    case "error":
      out.retryPolicy = "OnError";
      break;
    case "always":
      out.retryPolicy = "Always";
      break;
    default:
      throw new ValidationError(`template "${template}": retry.on must be one of transient-error, failure, error, always; got ${JSON.stringify(on)}`);
  }
  if (r.expression) expressions.push(`(${r.expression})`);
  if (expressions.length) out.expression = expressions.join(" && ");
  if (r.backoff) {
    const b = r.backoff;
    out.backoff = compact({
      duration: renderDuration(b.duration, `template "${template}": retry.backoff.duration`),
      factor: b.factor !== undefined ? String(b.factor) : undefined,
      cap: b.cap !== undefined ? renderDuration(b.cap, `template "${template}": retry.backoff.cap`) : undefined,
      maxDuration: b.maxDuration !== undefined ? renderDuration(b.maxDuration, `template "${template}": retry.backoff.maxDuration`) : undefined,
    });
  }
  return out;
}
