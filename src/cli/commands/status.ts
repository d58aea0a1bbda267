/**
 * `opflow status DIR`: shows the step tree of a local run (finished, running, or killed) from
 * its state tree.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { StateTree } from "../../debug/state-tree.ts";
import type { CommandModule } from "../main.ts";
import { renderStatus } from "../status-view.ts";
import { runDocument } from "./run.ts";

const usage = `usage: opflow status DIR [--json]

Shows the step tree of the local run in DIR (a run's folder, <workdir>/<workflow-name>, or a
workflow name under ./opflow-runs): phase, duration, retries and progress of every step.

options:
  --json   print the status in Argo's shape (phase, outputs, nodes as status.nodes)`;

async function isRunDir(dir: string): Promise<boolean> {
  try {
    await fs.access(path.join(dir, "manifest.yaml"));
    return true;
  } catch {
    return false;
  }
}

const command: CommandModule = {
  summary: "show the step tree of a local run from its folder",
  usage,
  async run(argv) {
    const json = argv.includes("--json");
    const rest = argv.filter((a) => a !== "--json");
    const unknown = rest.find((a) => a.startsWith("-"));
    if (unknown || rest.length !== 1) {
      console.error(`opflow status: ${unknown ? `unknown option ${unknown}` : "expects one DIR"}\n\n${usage}`);
      return 2;
    }
    let dir = rest[0] as string;
    if (!(await isRunDir(dir)) && (await isRunDir(path.join("opflow-runs", dir)))) dir = path.join("opflow-runs", dir);
    if (!(await isRunDir(dir))) {
      console.error(`opflow status: ${dir} is not the folder of a local run (no manifest.yaml)`);
      return 2;
    }
    const { status, engineAlive } = await StateTree.read(dir);
    const name = path.basename(path.resolve(dir));
    if (json) {
      process.stdout.write(`${JSON.stringify(runDocument(name, path.resolve(dir), status), null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${renderStatus(status, { name, color: process.stdout.isTTY === true })}\n`);
    if (status.phase === "Running" && engineAlive === false) {
      process.stdout.write(`\nThe engine of this run is gone (killed?). Resume with: opflow run <file> --name ${name}\n`);
    }
    return 0;
  },
};

export default command;
