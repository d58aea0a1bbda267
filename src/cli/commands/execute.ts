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

function parse(argv: readonly string[]): ExecuteArgs | undefined {
  const { values, positionals } = parseCommandArgs(argv, { module: { type: "string" }, op: { type: "string" }, root: { type: "string" }, help: { type: "boolean", short: "h" } });
  if (values["help"]) return undefined;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const spec = stringArg(values, "module");
  const name = stringArg(values, "op");
  if (!spec || !name) throw new UsageError("expects --module and --op");
  return { spec, name, root: stringArg(values, "root") };
}

const command: CommandModule = {
  usage: [
    "usage: opflow execute --module <path-or-package> --op <name> [--root <dir>]",
    "",
    "  --module SPEC   the module (path or package) that exports the OP",
    "  --op NAME       the OP's name",
    "  --root DIR      the contract root (default: $OPFLOW_ROOT, else /tmp)",
    "  -h, --help      this help",
  ].join("\n"),
  async run(argv) {
    let args: ExecuteArgs | undefined;
    try {
      args = parse(argv);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      console.error(`opflow execute: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    if (!args) {
      console.log(command.usage);
      return 0;
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
