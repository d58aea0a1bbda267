/**
 * How every `opflow` command reads its arguments: `node:util` `parseArgs` (strict, with
 * positionals), one {@link UsageError} for command-line mistakes, and {@link runCommand}, which
 * turns errors into a message and an exit code.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { OpflowError } from "../errors.ts";

/** A command-line mistake: the command prints it with its usage and exits 2. */
export class UsageError extends OpflowError {
  override readonly name: string = "UsageError";
}

/** The options a command accepts, in `parseArgs`' shape. */
export type CommandOptions = NonNullable<ParseArgsConfig["options"]>;

/** Option values by long name. */
export type ArgValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** Parsed arguments: option values and positionals. */
export interface ParsedArgs {
  readonly values: ArgValues;
  readonly positionals: readonly string[];
}

/**
 * Parses `argv` strictly against `options`: an unknown option, a missing value or a value given
 * to a flag is a {@link UsageError}.
 */
export function parseCommandArgs(argv: readonly string[], options: CommandOptions): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as ArgValues, positionals };
  } catch (error) {
    throw new UsageError(usageMessage(error as Error & { code?: string }, options));
  }
}

/** `parseArgs`' message, shortened where it explains more than a command line needs; a near option suggested. */
function usageMessage(error: Error & { code?: string }, options: CommandOptions): string {
  const unknown = error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /^Unknown option '([^']+)'/.exec(error.message) : null;
  if (!unknown) return error.message;
  const given = unknown[1] as string;
  const near = closest(given.replace(/^-+/, "").split("=")[0] as string, Object.keys(options));
  return `unknown option ${given}${near ? `; did you mean --${near}?` : ""}`;
}

/** Edit distance of two short strings (insertions, deletions, substitutions, transpositions). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The candidate nearest to `word` (git's "did you mean"): within a third of its length in
 * edits (at least 1, at most 3), or one it begins; undefined when none is near.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = c.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, c);
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** The value of a string option, or undefined. */
export function stringArg(values: ArgValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** The values of a repeatable string option (`multiple: true`), in order. */
export function stringArgs(values: ArgValues, name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
}

/**
 * Runs a command body, turning errors into a message on standard error and an exit code:
 * 2 and the usage for a {@link UsageError}, 1 otherwise.
 */
export async function runCommand(command: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`opflow ${command}: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`opflow ${command}: ${message}\n`);
    return 1;
  }
}
