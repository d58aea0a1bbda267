/**
 * `opflow status DIR`: shows the step tree of a local run (finished, running, or killed) from
 * its state tree.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { StateTree } from "../../debug/state-tree.ts";
import type { CommandModule } from "../command.ts";
import { DEFAULT_WORKDIR, localWorkdir } from "../../debug/workdir.ts";
import { UsageError, parseCommandArgs, runCommand } from "../args.ts";
import { renderStatus } from "../status-view.ts";
import { runDocument } from "./run.ts";
import { formatFailure, formatOutputs, runOutputs } from "../results.ts";
import { readRunStatus } from "../../debug/run-folder.ts";

const usage = `usage: opflow status DIR [--json | --outputs]

Shows the step tree of the local run in DIR (a run's folder, <workdir>/<workflow-name>, or a
workflow name under ./${DEFAULT_WORKDIR}): phase, duration, retries and progress of every step.

options:
  --json      print the status in Argo's shape (phase, outputs, nodes as status.nodes)
  --outputs   print only the workflow's outputs, as one JSON object
  -h, --help  this help`;

async function isRunDir(dir: string): Promise<boolean> {
  try {
    await fs.access(path.join(dir, "manifest.yaml"));
    return true;
  } catch {
    return false;
  }
}

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("status", usage, async () => {
      const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" }, outputs: { type: "boolean" }, help: { type: "boolean", short: "h" } });
      if (values["help"]) {
        console.log(usage);
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError("expects one DIR");
      let dir = positionals[0] as string;
      if (!(await isRunDir(dir)) && (await isRunDir(path.join(localWorkdir(), dir)))) dir = path.join(localWorkdir(), dir);
      if (!(await isRunDir(dir))) {
        console.error(`opflow status: ${dir} is not the folder of a local run (no manifest.yaml)`);
        return 2;
      }
      const { status, engineAlive } = await readRunStatus(dir);
      const name = path.basename(path.resolve(dir));
      if (values["json"]) {
        process.stdout.write(`${JSON.stringify(runDocument(name, path.resolve(dir), status), null, 2)}\n`);
        return 0;
      }
      if (values["outputs"]) {
        process.stdout.write(`${JSON.stringify(runOutputs(name, status), null, 2)}\n`);
        return 0;
      }
      process.stdout.write(`${renderStatus(status, { name, color: process.stdout.isTTY === true })}\n`);
      const outputs = formatOutputs(name, status, path.relative(process.cwd(), path.dirname(path.resolve(dir))) || ".");
      const failure = formatFailure(name, status);
      if (outputs || failure) process.stdout.write(`\n${outputs}${failure}`);
      if (status.phase === "Running" && engineAlive === false) {
        process.stdout.write(`\nThe engine of this run is gone (killed?). Resume with: opflow run <file> --name ${name}\n`);
      }
      return 0;
    }),
};

export default command;
