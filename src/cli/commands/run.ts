/**
 * `opflow run FILE`: runs a workflow (a TypeScript module exporting one, or an Argo manifest)
 * with the local engine, showing the live step tree, and tells where the state tree is.
 */
import path from "node:path";
import type { WorkflowStatus } from "../../argo/model.ts";
import { runWorkflow, workflowRunName } from "../../debug/run.ts";
import { OpflowError } from "../../errors.ts";
import { LocalStorageClient } from "../../storage/local.ts";
import { loadWorkflow } from "../load.ts";
import type { CommandModule } from "../main.ts";
import { humanDuration, LiveStatusView, renderStatus } from "../status-view.ts";

const usage = `usage: opflow run FILE [options]

Runs FILE (a .ts/.js module exporting a workflow, or an Argo Workflow .yaml/.json) with the
local engine. Each step gets a directory under <workdir>/<workflow-name>/.

options:
  -p, --parameter NAME=VALUE  set a workflow argument (repeatable)
  --name NAME                 the workflow's name; the name of an earlier run resumes it
                              (its Succeeded steps are not run again)
  --workdir DIR               where runs are written (default: ./opflow-runs)
  --parallelism N             most steps running at once
  --json                      print one JSON document at the end: name, dir and the status
                              in Argo's shape (phase, outputs, nodes as status.nodes)
  -q, --quiet                 no live tree (also when stdout is not a terminal)

exit code: 0 when the workflow Succeeded, 1 when it Failed or Errored, 2 on usage errors.`;

interface Parsed {
  file: string;
  parameters: Record<string, string>;
  name?: string;
  workdir?: string;
  parallelism?: number;
  json: boolean;
  quiet: boolean;
}

function parse(argv: readonly string[]): Parsed | string {
  const out: Parsed = { file: "", parameters: {}, json: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string | undefined => {
      const eq = a.indexOf("=");
      if (a.startsWith("--") && eq > 0) return a.slice(eq + 1);
      return argv[++i];
    };
    const flag = a.startsWith("--") && a.includes("=") ? a.slice(0, a.indexOf("=")) : a;
    switch (flag) {
      case "-p":
      case "--parameter": {
        const v = value();
        const eq = v?.indexOf("=") ?? -1;
        if (!v || eq <= 0) return `${flag} expects NAME=VALUE, got ${JSON.stringify(v ?? "")}`;
        out.parameters[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case "--name": {
        const v = value();
        if (!v) return "--name expects a value";
        out.name = v;
        break;
      }
      case "--workdir": {
        const v = value();
        if (!v) return "--workdir expects a folder";
        out.workdir = v;
        break;
      }
      case "--parallelism": {
        const v = Number(value());
        if (!Number.isInteger(v) || v < 1) return `--parallelism expects a positive integer, got ${JSON.stringify(argv[i])}`;
        out.parallelism = v;
        break;
      }
      case "--json":
        out.json = true;
        break;
      case "-q":
      case "--quiet":
        out.quiet = true;
        break;
      default:
        if (a.startsWith("-")) return `unknown option ${a}`;
        if (out.file) return `expects one FILE, got ${JSON.stringify(out.file)} and ${JSON.stringify(a)}`;
        out.file = a;
    }
  }
  if (!out.file) return "expects a FILE to run";
  return out;
}

/** The JSON document `--json` prints: name, dir, and the status in Argo's shape. */
export function runDocument(name: string, dir: string, status: WorkflowStatus): Record<string, unknown> {
  return { name, dir, ...status };
}

const command: CommandModule = {
  summary: "run a workflow with the local engine (live step tree; resumable by name)",
  usage,
  async run(argv) {
    const args = parse(argv);
    if (typeof args === "string") {
      console.error(`opflow run: ${args}\n\n${usage}`);
      return 2;
    }
    let loaded;
    try {
      loaded = await loadWorkflow(args.file);
    } catch (err) {
      console.error(`opflow run: ${err instanceof Error ? err.message : String(err)}`);
      return 2;
    }
    const stop = new AbortController();
    let interrupts = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      if (!args.json) process.stderr.write(`\nopflow run: ${sig}: stopping the running steps (again to quit at once)…\n`);
      stop.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const live = !args.quiet && !args.json && process.stdout.isTTY === true;
    let view: LiveStatusView | undefined;
    const started = Date.now();
    try {
      const name = workflowRunName(loaded.manifest, args.name);
      // The engine's store, made here so that local input files can be put in it first.
      const storage = new LocalStorageClient({ root: path.join(path.resolve(args.workdir ?? "opflow-runs"), ".storage") });
      for (const a of loaded.localArtifacts) await a.upload(storage);
      const result = await runWorkflow(loaded.manifest, {
        bindings: loaded.bindings,
        storage,
        parameters: args.parameters,
        signal: stop.signal,
        // `opflow stop|terminate NAME --mode debug` from elsewhere.
        acceptControl: true,
        name,
        ...(args.workdir ? { workdir: args.workdir } : {}),
        ...(args.parallelism ? { parallelism: args.parallelism } : {}),
        ...(live
          ? {
              onUpdate: (status: WorkflowStatus) => {
                view ??= new LiveStatusView(process.stdout, name);
                view.update(status);
              },
            }
          : {}),
      });
      view?.close(result.status);
      const phase = result.status.phase ?? "Error";
      const rel = path.relative(process.cwd(), result.dir) || ".";
      if (args.json) {
        process.stdout.write(`${JSON.stringify(runDocument(result.name, result.dir, result.status), null, 2)}\n`);
      } else {
        if (!live && !args.quiet) process.stdout.write(`${renderStatus(result.status, { name: result.name })}\n`);
        const reused = result.reusedNodes > 0 ? ` (${result.reusedNodes} nodes reused from the earlier run)` : "";
        process.stdout.write(`\nWorkflow ${result.name} ${phase} in ${humanDuration(Date.now() - started)}${reused}\nState tree: ${rel}\n`);
        if (phase !== "Succeeded") {
          if (result.status.message) process.stdout.write(`Message: ${result.status.message}\n`);
          process.stdout.write(`Resume with: opflow run ${args.file} --name ${result.name}${args.workdir ? ` --workdir ${args.workdir}` : ""}\n`);
        }
      }
      return phase === "Succeeded" ? 0 : 1;
    } catch (err) {
      view?.close();
      console.error(`opflow run: ${err instanceof OpflowError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return 1;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
};

export default command;
