/**
 * Durations as types: a number of seconds, or a string with units as Argo and Go write them
 * (`"90s"`, `"5m"`, `"1h30m"`, `"250ms"`).
 */
import { ValidationError } from "../errors.ts";

type Unit = "ms" | "s" | "m" | "h" | "d";
/** A duration: seconds as a number, or a string such as `"30s"`, `"5m"`, `"1h30m"`. */
export type Duration = number | `${number}${Unit}` | `${number}${Unit}${number}${Unit}` | `${number}${Unit}${number}${Unit}${number}${Unit}`;

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const FACTOR: Record<Unit, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Parses a duration into seconds; `what` names the field for the error. */
export function durationSeconds(value: Duration | string, what: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw new ValidationError(`${what}: duration must be a non-negative number of seconds, got ${value}`);
    return value;
  }
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let consumed = "";
  for (const m of text.matchAll(PART)) {
    total += Number(m[1]) * FACTOR[m[2] as Unit];
    consumed += m[0];
  }
  if (!consumed || consumed !== text) {
    throw new ValidationError(`${what}: ${JSON.stringify(value)} is not a duration: use seconds as a number or units such as "30s", "5m", "1h30m"`);
  }
  return total;
}

/** Renders a duration the way Argo accepts it in string fields (`"1"`, `"2m"`). */
export function renderDuration(value: Duration, what: string): string {
  durationSeconds(value, what);
  return String(value);
}
