/**
 * `opflow execute --module <spec> --op <name>`: runs one OP against the runtime contract.
 * This is the command OP templates run inside their containers.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CONTAINER_ROOT, ROOT_ENV } from "../../contract.ts";
import { findOp } from "../../op/find-op.ts";
import { runOp } from "../../op/runner.ts";
import type { CommandModule } from "../main.ts";

const command: CommandModule = {
  summary: "Run one OP against the runtime contract (used inside OP template containers)",
  usage: "usage: opflow execute --module <path-or-package> --op <name> [--root <dir>]",
  async run(argv) {
    const get = (flag: string): string | undefined => {
      const i = argv.indexOf(flag);
      return i >= 0 ? argv[i + 1] : undefined;
    };
    const spec = get("--module");
    const name = get("--op");
    if (!spec || !name) {
      console.error(command.usage);
      return 2;
    }
    const root = get("--root") ?? process.env[ROOT_ENV] ?? CONTAINER_ROOT;
    const url = spec.startsWith(".") || spec.startsWith("/") || /\.[cm]?[jt]s$/.test(spec) ? pathToFileURL(path.resolve(spec)).href : spec;
    const mod = (await import(url)) as Record<string, unknown>;
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
