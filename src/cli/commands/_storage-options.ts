/**
 * Options shared by `opflow upload` and `opflow download`: where the artifact repository is.
 */
import { parseArgs } from "node:util";
import { OpflowError } from "../../errors.ts";
import type { StorageClient } from "../../storage/client.ts";
import { createStorageClient, loadArtifactRepositoryConfig } from "../../storage/config.ts";

/** Usage lines of the storage options. */
export const STORAGE_USAGE = [
  "storage options:",
  "  --storage DIR      use a local folder as the artifact repository",
  "  --config FILE      artifact repository config file (JSON or YAML)",
  "  (default: $OPFLOW_STORAGE_CONFIG, the OPFLOW_S3_* variables, else .opflow/artifacts)",
  "  --no-progress      never draw a progress bar",
  "  -h, --help         this help",
].join("\n");

/** A command-line mistake: usage is printed and the exit code is 2. */
export class UsageError extends OpflowError {
  override readonly name: string = "UsageError";
}

/** Parsed arguments: option values and positionals. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** Parses `argv` with the storage options plus `extra`. */
export function parseStorageArgs(
  argv: readonly string[],
  extra: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>,
): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        storage: { type: "string" },
        config: { type: "string" },
        "no-progress": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        ...extra,
      },
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The storage client the options name. */
export function storageFrom(values: ParsedArgs["values"]): StorageClient {
  const dir = values.storage;
  if (typeof dir === "string") return createStorageClient({ type: "local", root: dir });
  const file = typeof values.config === "string" ? values.config : undefined;
  return createStorageClient(loadArtifactRepositoryConfig(file === undefined ? {} : { file }));
}

/** Runs a command body, mapping errors to messages and exit codes (2: usage, 1: failure). */
export async function runStorageCommand(name: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`opflow ${name}: ${err.message}\n\n${usage}\n`);
      return 2;
    }
    process.stderr.write(`opflow ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
