/**
 * The `opflow` command: a table of subcommands, each in its own module under `commands/`,
 * loaded only when used.
 */
export interface CommandModule {
  /** One line for `opflow help`. */
  readonly summary: string;
  /** Usage text for `opflow help <command>`. */
  readonly usage: string;
  /** Runs the command; returns the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

const commands: Record<string, () => Promise<CommandModule>> = {
  render: async () => (await import("./commands/render.ts")).default,
  execute: async () => (await import("./commands/execute.ts")).default,
  submit: async () => (await import("./commands/submit.ts")).default,
  get: async () => (await import("./commands/get.ts")).default,
  list: async () => (await import("./commands/list.ts")).default,
  watch: async () => (await import("./commands/watch.ts")).default,
  logs: async () => (await import("./commands/logs.ts")).default,
  terminate: async () => (await import("./commands/terminate.ts")).default,
  stop: async () => (await import("./commands/stop.ts")).default,
  suspend: async () => (await import("./commands/suspend.ts")).default,
  resume: async () => (await import("./commands/resume.ts")).default,
  retry: async () => (await import("./commands/retry.ts")).default,
  resubmit: async () => (await import("./commands/resubmit.ts")).default,
  delete: async () => (await import("./commands/delete.ts")).default,
  upload: async () => (await import("./commands/upload.ts")).default,
  download: async () => (await import("./commands/download.ts")).default,
  run: async () => (await import("./commands/run.ts")).default,
  status: async () => (await import("./commands/status.ts")).default,
};

function help(): string {
  const lines = ["usage: opflow <command> [options]", "", "commands:"];
  for (const name of Object.keys(commands).sort()) lines.push(`  ${name}`);
  lines.push("", "Run `opflow help <command>` for a command's options.");
  return lines.join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    const topic = rest[0];
    const load = topic ? commands[topic] : undefined;
    if (load) {
      const mod = await load();
      console.log(`${mod.summary}\n\n${mod.usage}`);
    } else console.log(help());
    return 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`opflow: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  const mod = await load();
  return mod.run(rest);
}
