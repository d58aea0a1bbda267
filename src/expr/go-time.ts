/**
 * Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`), as sprig's `date`, `dateInZone`,
 * `toDate` use them. Zones: `UTC`, `Local` (taken as UTC: Argo's controller runs in UTC) and
 * IANA names (through `Intl`).
 */
import { goDurationMs } from "../duration.ts";
import { EvaluationFailure } from "./evaluation-failure.ts";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

// Longest tokens first.
const TOKENS = [
  "January", "Monday", "Z07:00:00", "-07:00:00", "Z07:00", "-07:00", "Z0700", "-0700", "2006", "Jan", "Mon", "MST",
  "002", "__2", "_2", "01", "02", "03", "04", "05", "06", "15", "PM", "pm", "-07", "Z07", "1", "2", "3", "4", "5",
];

/** The offset of `zone` at `date`, in minutes east of UTC. */
function zoneOffset(date: Date, zone: string): number {
  if (zone === "" || zone === "UTC" || zone === "Local") return 0;
  try {
    const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(date)
      .find((p) => p.type === "timeZoneName")?.value ?? "GMT";
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(part);
    return m === null ? 0 : (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  } catch {
    return 0; // sprig falls back to UTC on an unknown zone
  }
}

function pad(n: number, width: number, char = "0"): string {
  return String(n).padStart(width, char);
}

function offsetText(minutes: number, colon: boolean, z: boolean, short = false): string {
  if (z && minutes === 0) return "Z";
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const h = pad(Math.floor(abs / 60), 2);
  if (short) return `${sign}${h}`;
  return `${sign}${h}${colon ? ":" : ""}${pad(abs % 60, 2)}`;
}

/**
 * Formats `date` with a Go layout in `zone`.
 *
 * @example
 * formatGoTime(new Date("2021-03-04T05:06:07Z"), "2006-01-02 15:04:05", "UTC"); // "2021-03-04 05:06:07"
 */
export function formatGoTime(date: Date, layout: string, zone = "UTC"): string {
  const offset = zoneOffset(date, zone);
  const t = new Date(date.getTime() + offset * 60_000);
  const year = t.getUTCFullYear();
  const month = t.getUTCMonth();
  const day = t.getUTCDate();
  const hour = t.getUTCHours();
  const minute = t.getUTCMinutes();
  const second = t.getUTCSeconds();
  const ms = t.getUTCMilliseconds();
  const zoneName = offset === 0 ? "UTC" : offsetText(offset, false, false);
  let out = "";
  let i = 0;
  while (i < layout.length) {
    // Fractional seconds: .000 / ,000 (fixed) or .999 (trimmed).
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac !== null && i > 0) {
      const digits = frac[1]!;
      let f = (pad(ms, 3) + "000000").slice(0, digits.length);
      if (digits[0] === "9") f = f.replace(/0+$/, "");
      out += f === "" ? "" : layout[i] + f;
      i += frac[0].length;
      continue;
    }
    const tok = TOKENS.find((k) => layout.startsWith(k, i));
    if (tok === undefined) {
      out += layout[i];
      i++;
      continue;
    }
    const h12 = hour % 12 === 0 ? 12 : hour % 12;
    switch (tok) {
      case "2006": out += pad(year, 4); break;
      case "06": out += pad(year % 100, 2); break;
      case "January": out += MONTHS[month]; break;
      case "Jan": out += MONTHS[month]!.slice(0, 3); break;
      case "01": out += pad(month + 1, 2); break;
      case "1": out += String(month + 1); break;
      case "Monday": out += DAYS[t.getUTCDay()]; break;
      case "Mon": out += DAYS[t.getUTCDay()]!.slice(0, 3); break;
      case "02": out += pad(day, 2); break;
      case "_2": out += pad(day, 2, " "); break;
      case "2": out += String(day); break;
      case "002": {
        const start = Date.UTC(year, 0, 1);
        out += pad(Math.floor((Date.UTC(year, month, day) - start) / 86_400_000) + 1, 3);
        break;
      }
      case "__2": {
        const start = Date.UTC(year, 0, 1);
        out += pad(Math.floor((Date.UTC(year, month, day) - start) / 86_400_000) + 1, 3, " ");
        break;
      }
      case "15": out += pad(hour, 2); break;
      case "03": out += pad(h12, 2); break;
      case "3": out += String(h12); break;
      case "04": out += pad(minute, 2); break;
      case "4": out += String(minute); break;
      case "05": out += pad(second, 2); break;
      case "5": out += String(second); break;
      case "PM": out += hour >= 12 ? "PM" : "AM"; break;
      case "pm": out += hour >= 12 ? "pm" : "am"; break;
      case "MST": out += zoneName; break;
      case "-0700": out += offsetText(offset, false, false); break;
      case "-07:00": out += offsetText(offset, true, false); break;
      case "-07": out += offsetText(offset, false, false, true); break;
      case "-07:00:00": out += offsetText(offset, true, false) + ":00"; break;
      case "Z0700": out += offsetText(offset, false, true); break;
      case "Z07:00": out += offsetText(offset, true, true); break;
      case "Z07": out += offsetText(offset, false, true, true); break;
      case "Z07:00:00": out += offset === 0 ? "Z" : offsetText(offset, true, false) + ":00"; break;
    }
    i += tok.length;
  }
  return out;
}

/**
 * Parses `text` laid out as the Go `layout` (numeric fields, month names, zones), as sprig's
 * `toDate`. Missing fields default as in Go (year 0 → 1, month and day 1).
 *
 * @throws EvaluationFailure when the text does not match the layout.
 */
export function parseGoTime(layout: string, text: string): Date {
  let y = 1, mo = 1, d = 1, h = 0, mi = 0, s = 0, ms = 0, offset = 0, pm: boolean | undefined;
  let i = 0;
  let j = 0;
  const fail = (): never => {
    throw new EvaluationFailure(`parsing time ${JSON.stringify(text)} as ${JSON.stringify(layout)}: cannot parse`);
  };
  const num = (min: number, max: number): number => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(text.slice(j));
    if (m === null) return fail();
    j += m[0].length;
    return Number(m[0]);
  };
  while (i < layout.length) {
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac !== null && i > 0) {
      const m = /^[.,](\d+)/.exec(text.slice(j));
      if (m !== null) {
        ms = Math.round(Number(`0.${m[1]}`) * 1000);
        j += m[0].length;
      } else if (frac[1]![0] === "0") fail();
      i += frac[0].length;
      continue;
    }
    const tok = TOKENS.find((k) => layout.startsWith(k, i));
    if (tok === undefined) {
      if (text[j] !== layout[i]) fail();
      i++;
      j++;
      continue;
    }
    switch (tok) {
      case "2006": y = num(4, 4); break;
      case "06": y = 2000 + num(2, 2); if (y >= 2069) y -= 100; break;
      case "01": mo = num(2, 2); break;
      case "1": mo = num(1, 2); break;
      case "January":
      case "Jan": {
        const idx = MONTHS.findIndex((m) => text.slice(j).startsWith(tok === "Jan" ? m.slice(0, 3) : m));
        if (idx < 0) fail();
        j += tok === "Jan" ? 3 : MONTHS[idx]!.length;
        mo = idx + 1;
        break;
      }
      case "Monday":
      case "Mon": {
        const idx = DAYS.findIndex((dd) => text.slice(j).startsWith(tok === "Mon" ? dd.slice(0, 3) : dd));
        if (idx < 0) fail();
        j += tok === "Mon" ? 3 : DAYS[idx]!.length;
        break;
      }
      case "02": d = num(2, 2); break;
      case "_2": if (text[j] === " ") j++; d = num(1, 2); break;
      case "2": d = num(1, 2); break;
      case "002": case "__2": num(1, 3); break;
      case "15": h = num(1, 2); break;
      case "03": h = num(2, 2); break;
      case "3": h = num(1, 2); break;
      case "04": mi = num(2, 2); break;
      case "4": mi = num(1, 2); break;
      case "05": s = num(2, 2); break;
      case "5": s = num(1, 2); break;
      case "PM": case "pm": {
        const m = /^(AM|PM|am|pm)/.exec(text.slice(j));
        if (m === null) fail();
        pm = m![0].toUpperCase() === "PM";
        j += 2;
        break;
      }
      case "MST": {
        const m = /^[A-Z]{3,4}/.exec(text.slice(j));
        if (m === null) fail();
        j += m![0].length;
        break;
      }
      default: {
        // numeric zone
        if (tok.startsWith("Z") && text[j] === "Z") {
          j++;
          offset = 0;
          break;
        }
        const m = /^([+-])(\d{2}):?(\d{2})?(?::?\d{2})?/.exec(text.slice(j));
        if (m === null) fail();
        offset = (m![1] === "-" ? -1 : 1) * (Number(m![2]) * 60 + Number(m![3] ?? 0));
        j += m![0].length;
      }
    }
    i += tok.length;
  }
  if (j !== text.length) fail();
  if (pm !== undefined) h = (h % 12) + (pm ? 12 : 0);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) fail();
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms) - offset * 60_000);
}

/**
 * Parses a Go duration (`1h30m`, `-1.5h`, `300ms`) into milliseconds.
 *
 * @throws EvaluationFailure on text that is not a Go duration.
 */
export function parseGoDuration(text: string): number {
  const ms = goDurationMs(text);
  if (ms === undefined) throw new EvaluationFailure(`time: invalid duration ${JSON.stringify(text)}`);
  return ms;
}

/** Go's `time.Duration.String()` for a whole number of milliseconds: `1h2m3.5s`, `0s`, `250ms`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = (rest / 1000).toString();
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}
