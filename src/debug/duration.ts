/**
 * Durations as Argo writes them: Go duration strings (`"90s"`, `"1h30m"`, `"500ms"`) or bare
 * numbers, which Argo reads as seconds (`backoff.duration: "1"`, `activeDeadlineSeconds: 30`).
 */
import { EngineError } from "../errors.ts";

/** A duration as written in a manifest: a Go duration string, or a number of seconds. */
export type DurationLike = string | number;

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a duration into milliseconds.
 *
 * @param value - `"30s"`, `"1m30s"`, `"2h"`, `"1"` (seconds) or `5` (seconds).
 * @param where - names the field for error messages, e.g. `template "t": retryStrategy.backoff.cap`.
 * @example
 * parseDuration("1m30s", "timeout"); // 90000
 * parseDuration("5", "backoff.cap"); // 5000
 */
export function parseDuration(value: DurationLike, where: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw new EngineError(`${where}: expects a non-negative duration, got ${value}`);
    return value * 1000;
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = re.exec(text)) !== null) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || text.length === 0) {
    throw new EngineError(`${where}: expects a duration such as "30s", "1m30s" or a number of seconds, got ${JSON.stringify(value)}`);
  }
  return total;
}

/** Renders milliseconds for humans: `850ms`, `12.3s`, `4m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
