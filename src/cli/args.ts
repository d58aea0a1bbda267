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
    throw new UsageError(usageMessage(error as Error & { code?: string }));
  }
}

/** `parseArgs`' message, shortened where it explains more than a command line needs. */
function usageMessage(error: Error & { code?: string }): string {
  const unknown = error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /^Unknown option '([^']+)'/.exec(error.message) : null;
  return unknown ? `unknown option ${unknown[1]}` : error.message;
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
