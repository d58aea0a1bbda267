/**
 * A small, fast YAML emitter for manifests (plain JSON data: objects, arrays, strings,
 * numbers, booleans, null). Block style, two-space indentation, keys in insertion order.
 * Strings are written plain only when they cannot be read back as anything else; scripts
 * with newlines become literal blocks; everything else is double-quoted with JSON escapes
 * (a subset of YAML's). Deterministic: the same value always gives the same text.
 */
import { CompileError } from "../errors.ts";

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;

function scalarString(s: string): string {
  if (s !== "" && PLAIN.test(s) && !RESERVED.test(s)) return s;
  return JSON.stringify(s);
}

function blockLiteral(s: string, indent: string): string | undefined {
  // Literal blocks keep text as written; refuse what they cannot carry exactly.
  if (!s.includes("\n") || /[\r\t\u0000-\u0008\u000b-\u001f\u007f\u0085\u2028\u2029\ufeff]/.test(s)) return undefined;
  if (s.startsWith(" ") || s.startsWith("\n")) return undefined;
  const lines = s.split("\n");
  if (lines.some((l) => / $/.test(l))) return undefined;
  let chomp: string;
  if (!s.endsWith("\n")) chomp = "-";
  else if (s.endsWith("\n\n")) chomp = "+";
  else chomp = "";
  const body = s.endsWith("\n") ? lines.slice(0, -1) : lines;
  return `|${chomp}\n${body.map((l) => (l === "" ? "" : `${indent}${l}`)).join("\n")}`;
}

function scalar(v: unknown, indent: string): string {
  if (v === null) return "null";
  if (typeof v === "string") return blockLiteral(v, indent) ?? scalarString(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new CompileError(`YAML: cannot write the number ${v}`);
    return String(v);
  }
  if (typeof v === "boolean") return String(v);
  throw new CompileError(`YAML: cannot write a value of type ${typeof v}`);
}

function isEmptyCollection(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
}

function emit(v: unknown, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (item !== null && typeof item === "object" && !isEmptyCollection(item)) {
        const lines: string[] = [];
        emit(item, `${indent}  `, lines);
        const first = (lines[0] as string).slice(indent.length + 2);
        out.push(`${indent}- ${first}`);
        for (let i = 1; i < lines.length; i++) out.push(lines[i] as string);
      } else {
        out.push(`${indent}- ${item === undefined ? "null" : isEmptyCollection(item) ? (Array.isArray(item) ? "[]" : "{}") : scalar(item, `${indent}  `)}`);
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === undefined) continue;
    const key = scalarString(k);
    if (val !== null && typeof val === "object") {
      if (isEmptyCollection(val)) out.push(`${indent}${key}: ${Array.isArray(val) ? "[]" : "{}"}`);
      else {
        out.push(`${indent}${key}:`);
        emit(val, Array.isArray(val) ? `${indent}  ` : `${indent}  `, out);
      }
    } else out.push(`${indent}${key}: ${scalar(val, `${indent}  `)}`);
  }
}

/**
 * Writes a JSON-like value as YAML.
 *
 * @example
 * toYaml({ kind: "Workflow", spec: { templates: [] } }) // "kind: Workflow\nspec:\n  templates: []\n"
 */
export function toYaml(value: unknown): string {
  if (value === null || typeof value !== "object") return `${scalar(value, "")}\n`;
  if (isEmptyCollection(value)) return Array.isArray(value) ? "[]\n" : "{}\n";
  const out: string[] = [];
  emit(value, "", out);
  return `${out.join("\n")}\n`;
}
