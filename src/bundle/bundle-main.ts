/**
 * What an OP bundle runs when a pod starts it (`node <hash>.mjs --op <name>`): finds the OP
 * among the bundled module's exports and runs it through the OP runner against the runtime
 * contract, exactly as `opflow execute --module … --op …` does with an installed package.
 *
 * This file is compiled into every bundle: it imports nothing but the runner and its own
 * small helpers, so a bundle holds no CLI, engine or cluster code.
 */
import { appendFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CONTAINER_ROOT, PROGRESS_FILE_ENV, ROOT_ENV } from "../contract.ts";
import { findOp } from "../op/find-op.ts";
import { runOp } from "../op/runner.ts";

/** Usage line of a bundle's command line. */
export const BUNDLE_USAGE = "usage: node <bundle>.mjs --op <name> [--root <dir>]";

/** Where the output of {@link runBundledOp} goes. */
export interface BundleMainIO {
  /** Environment (`OPFLOW_ROOT`, `ARGO_PROGRESS_FILE`, input parameters). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Receives usage errors and the OP's log. @default process.stderr */
  readonly error?: (text: string) => void;
}

/**
 * Runs the OP named on the command line (`--op <name>`, optional `--root <dir>`, else
 * `$OPFLOW_ROOT`, else `/tmp`) out of `mod`, the bundled module's exports. Returns the exit
 * code of the runtime contract (2 for a bad command line or an unknown OP).
 *
 * @example
 * // the last lines of every bundle:
 * process.exitCode = await runBundledOp(mod, process.argv.slice(2), { module: "examples/hello.ts" });
 */
export async function runBundledOp(
  mod: Readonly<Record<string, unknown>>,
  argv: readonly string[],
  about: { readonly module: string },
  io: BundleMainIO = {},
): Promise<number> {
  const env = io.env ?? process.env;
  const error = io.error ?? ((text: string) => void process.stderr.write(text));
  let values: { op?: string | undefined; root?: string | undefined };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { op: { type: "string" }, root: { type: "string" } }, strict: true, allowPositionals: false }));
  } catch (err) {
    error(`opflow bundle of ${about.module}: ${(err as Error).message}\n${BUNDLE_USAGE}\n`);
    return 2;
  }
  if (!values.op) {
    error(`opflow bundle of ${about.module}: option --op is required\n${BUNDLE_USAGE}\n`);
    return 2;
  }
  const op = findOp(mod as Record<string, unknown>, values.op);
  if (!op) {
    error(`opflow bundle of ${about.module}: the module exports no OP named ${JSON.stringify(values.op)}\n`);
    return 2;
  }
  const root = values.root ?? env[ROOT_ENV] ?? CONTAINER_ROOT;
  const progressFile = env[PROGRESS_FILE_ENV];
  const result = await runOp(op, {
    root,
    env,
    workdir: process.cwd(),
    progress: progressFile ? (done, total) => void appendFile(progressFile, `${done}/${total}\n`).catch(() => undefined) : undefined,
    log: (text) => error(text.endsWith("\n") ? text : `${text}\n`),
  });
  return result.exitCode;
}
