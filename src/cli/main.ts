/**
 * The `opflow` command: a table of subcommands with one line each for `opflow help`; each
 * subcommand lives in its own module under `commands/`, imported only when it runs (or when
 * its usage is asked for), so that `opflow render` does not load the Kubernetes client.
 */
import { readFileSync } from "node:fs";
import { closest } from "./args.ts";
import type { CommandModule } from "./command.ts";

interface CommandEntry {
  /** One line for `opflow help`. */
  readonly summary: string;
  readonly load: () => Promise<{ default: CommandModule }>;
}

const commands: Readonly<Record<string, CommandEntry>> = {
  render: { summary: "Print the Argo manifest of the workflow a module exports", load: () => import("./commands/render.ts") },
  codegen: { summary: "Print a TypeScript module (opflow's DSL) that builds the workflow of an Argo manifest", load: () => import("./commands/codegen.ts") },
  execute: { summary: "Run one OP against the runtime contract (used inside OP template containers)", load: () => import("./commands/execute.ts") },
  submit: { summary: "Submit a workflow (module or manifest) to Argo (like argo submit)", load: () => import("./commands/submit.ts") },
  get: { summary: "Show a cluster workflow's status and steps (like argo get)", load: () => import("./commands/get.ts") },
  list: { summary: "List cluster workflows by label, phase and name prefix (like argo list)", load: () => import("./commands/list.ts") },
  watch: { summary: "Follow a cluster workflow until it finishes (like argo watch)", load: () => import("./commands/watch.ts") },
  logs: { summary: "Print or follow the logs of a workflow or of one step, local run or cluster (like argo logs)", load: () => import("./commands/logs.ts") },
  terminate: {
    summary: "Terminate a workflow at once, without exit handlers (like argo terminate); --mode debug: a local run",
    load: () => import("./commands/terminate.ts"),
  },
  stop: { summary: "Stop a workflow, running its exit handlers (like argo stop); --mode debug: a local run", load: () => import("./commands/stop.ts") },
  suspend: { summary: "Suspend a cluster workflow (like argo suspend)", load: () => import("./commands/suspend.ts") },
  resume: {
    summary: "Resume a suspended workflow or its waiting suspend nodes (like argo resume); --mode debug: a local run",
    load: () => import("./commands/resume.ts"),
  },
  node: {
    summary: "Set supplied outputs, message or phase of waiting suspend nodes (like argo node set); --mode debug: a local run",
    load: () => import("./commands/node.ts"),
  },
  retry: { summary: "Re-run the failed steps of a Failed or Error cluster workflow (like argo retry)", load: () => import("./commands/retry.ts") },
  resubmit: { summary: "Submit a copy of a cluster workflow under a new name (like argo resubmit)", load: () => import("./commands/resubmit.ts") },
  delete: { summary: "Delete cluster workflows by name, label, prefix or completion (like argo delete)", load: () => import("./commands/delete.ts") },
  upload: { summary: "Upload files or directories as an artifact and print its reference", load: () => import("./commands/upload.ts") },
  download: { summary: "Download an artifact by reference or key, checking MD5s", load: () => import("./commands/download.ts") },
  run: { summary: "Run a workflow with the local engine (live step tree; resumable by name)", load: () => import("./commands/run.ts") },
  status: { summary: "Show the step tree of a local run from its folder", load: () => import("./commands/status.ts") },
  cache: { summary: "Show or clear the cache of OP bundles (cache dir, cache clear)", load: () => import("./commands/cache.ts") },
  ops: {
    summary: "List the OPs a package exports (read, not imported): inputs, outputs, types, defaults",
    load: () => import("./commands/ops.ts"),
  },
  "new-op": {
    summary: "Start an OP package (cookiecutter-op): an OP, a workflow, tests, README with the OP table, Dockerfile, CI",
    load: () => import("./commands/new-op.ts"),
  },
};

function entryOf(name: string | undefined): CommandEntry | undefined {
  return name !== undefined && Object.hasOwn(commands, name) ? commands[name] : undefined;
}

function help(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((n) => n.length));
  const lines = ["usage: opflow <command> [options]", "       opflow --version", "", "commands:"];
  for (const name of names) lines.push(`  ${name.padEnd(width)}  ${commands[name]?.summary}`);
  lines.push("", "Run `opflow help <command>` or `opflow <command> --help` for a command's options.");
  return lines.join("\n");
}

/** opflow's version, from its package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "unknown";
}

/** Runs `opflow ...argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V" || name === "version") {
    console.log(`opflow ${version()}`);
    return 0;
  }
  if (!name || name === "help" || name === "--help" || name === "-h") {
    const topic = entryOf(rest[0]);
    if (topic) {
      const mod = (await topic.load()).default;
      console.log(`${topic.summary}\n\n${mod.usage}`);
    } else console.log(help());
    return 0;
  }
  const entry = entryOf(name);
  if (!entry) {
    const near = closest(name, Object.keys(commands));
    if (near) {
      console.error(`opflow: unknown command ${JSON.stringify(name)}; did you mean "${near}"?\n\nRun \`opflow help\` for the list of commands.`);
      return 2;
    }
    console.error(`opflow: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  return (await entry.load()).default.run(rest);
}
