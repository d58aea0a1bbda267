/**
 * `opflow execute --module <spec> --op <name>`: runs one OP against the runtime contract.
 * This is the command OP templates run inside their containers.
 */
import { CONTAINER_ROOT, ROOT_ENV } from "../../contract.ts";
import { findOp } from "../../op/find-op.ts";
import { runOp } from "../../op/runner.ts";
import { importUserModule } from "../../user-module.ts";
import { UsageError, parseCommandArgs, stringArg } from "../args.ts";
import type { CommandModule } from "../command.ts";

interface ExecuteArgs {
  readonly spec: string;
  readonly name: string;
  readonly root: string | undefined;
}

function parse(argv: readonly string[]): ExecuteArgs {
  const { values, positionals } = parseCommandArgs(argv, { module: { type: "string" }, op: { type: "string" }, root: { type: "string" } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const spec = stringArg(values, "module");
  const name = stringArg(values, "op");
  if (!spec || !name) throw new UsageError("expects --module and --op");
  return { spec, name, root: stringArg(values, "root") };
}

const command: CommandModule = {
  usage: "usage: opflow execute --module <path-or-package> --op <name> [--root <dir>]",
  async run(argv) {
    let args: ExecuteArgs;
    try {
      args = parse(argv);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      console.error(`opflow execute: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    const { spec, name } = args;
    const root = args.root ?? process.env[ROOT_ENV] ?? CONTAINER_ROOT;
    const mod = await importUserModule(spec);
    const op = findOp(mod, name);
    if (!op) {
      console.error(`opflow execute: module ${JSON.stringify(spec)} exports no OP named ${JSON.stringify(name)}`);
      return 2;
    }
    const progressFile = process.env["ARGO_PROGRESS_FILE"];
    const fs = await import("node:fs/promises");
    const result = await runOp(op, {
      root,
      workdir: process.cwd(),
      progress: progressFile ? (done, total) => void fs.appendFile(progressFile, `${done}/${total}\n`) : undefined,
    });
    return result.exitCode;
  },
};
export default command;
