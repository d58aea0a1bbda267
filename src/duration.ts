/**
 * Durations: one type and one grammar for the whole of opflow — the compiler (template
 * timeouts, retry backoff, workflow deadline and TTL) and the local engine (backoff, suspend,
 * deadlines read from a manifest).
 *
 * The grammar is Argo's (`parseStringToDuration` in the workflow controller):
 *
 * - a Go duration (`time.ParseDuration`): one or more decimal numbers, each with a unit, such
 *   as `"300ms"`, `"1.5h"`, `"2h45m"`; units `ns`, `us` (or `µs`, `μs`), `ms`, `s`, `m`, `h`;
 * - or a whole number of seconds written as a string (`"30"`), as Argo reads
 *   `backoff.duration`, `suspend.duration` and `activeDeadlineSeconds`;
 * - from TypeScript, also a non-negative number of seconds (`90`, `0.5`).
 *
 * There is no `d` unit (Go and Argo have none: write `"24h"`), no sign, and a bare decimal
 * string such as `"1.5"` is not a duration (Argo rejects it: write `"1.5s"`).
 */
import { type OpflowError, ValidationError } from "./errors.ts";

/** A unit of a Go duration. */
export type DurationUnit = "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h";

/**
 * A duration: seconds as a number, or a Go duration string such as `"30s"`, `"5m"`, `"1h30m"`,
 * `"250ms"` (see the module comment for the full grammar).
 */
export type Duration =
  | number
  | `${number}`
  | `${number}${DurationUnit}`
  | `${number}${DurationUnit}${number}${DurationUnit}`
  | `${number}${DurationUnit}${number}${DurationUnit}${number}${DurationUnit}`;

const UNIT_MS: Readonly<Record<DurationUnit, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GO_DURATION = /^([+-])?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Go's `time.ParseDuration`, in milliseconds (negative with a leading `-`), or undefined when
 * `text` is not a Go duration. The grammar's one implementation: {@link parseDuration} and the
 * expression language's `duration()` use it.
 */
export function goDurationMs(text: string): number | undefined {
  if (text === "0") return 0;
  const m = GO_DURATION.exec(text);
  if (m === null) return undefined;
  let total = 0;
  for (const part of text.matchAll(PART)) total += Number(part[1]) * UNIT_MS[part[2] as DurationUnit];
  return m[1] === "-" ? -total : total;
}

type ErrorClass = new (message: string) => OpflowError;

function invalid(value: unknown, where: string, hint: string, ErrorType: ErrorClass): OpflowError {
  return new ErrorType(
    `${where}: expects a duration such as "30s", "1m30s", "500ms" or a whole number of seconds; ${JSON.stringify(value)} is not a duration${hint}`,
  );
}

/**
 * Parses a duration into milliseconds.
 *
 * @param where - names the object and field for the error, e.g. `template "t": timeout`.
 * @param ErrorType - the error raised on a bad value. @default ValidationError
 * @throws `ErrorType` when `value` is not a duration.
 * @example
 * parseDuration("1m30s", "timeout"); // 90000
 * parseDuration("5", "backoff.cap"); // 5000
 * parseDuration(0.25, "backoff.duration"); // 250
 */
export function parseDuration(value: Duration | string, where: string, ErrorType: ErrorClass = ValidationError): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new ErrorType(`${where}: expects a non-negative number of seconds, got ${value}`);
    }
    return value * 1000;
  }
  if (typeof value !== "string") throw invalid(value, where, "", ErrorType);
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const ms = /^[+-]/.test(text) ? undefined : goDurationMs(text);
  if (ms === undefined) {
    const hint = /^\d+(?:\.\d+)?d$/.test(text)
      ? ` (Argo and Go durations have no "d" unit: write hours, e.g. "${Number(text.slice(0, -1)) * 24}h")`
      : /^\d*\.\d+$/.test(text)
        ? ` (a bare number of seconds must be whole: write "${text}s")`
        : "";
    throw invalid(value, where, hint, ErrorType);
  }
  return ms;
}

/** Parses a duration into seconds (see {@link parseDuration}). */
export function durationSeconds(value: Duration | string, where: string, ErrorType: ErrorClass = ValidationError): number {
  return parseDuration(value, where, ErrorType) / 1000;
}

/**
 * Renders a duration for a string field of a manifest (`backoff.duration`, …): a string is
 * checked and kept as written; a whole number of seconds stays a bare number (`"2"`), a
 * fraction gets the unit (`"0.5s"`).
 */
export function renderDuration(value: Duration, where: string): string {
  parseDuration(value, where);
  if (typeof value === "number" && !Number.isInteger(value)) return `${value}s`;
  return String(value);
}

/** Renders milliseconds for humans: `850ms`, `12.3s`, `4m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
