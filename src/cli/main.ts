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

const commands: Record<string, () => Promise<CommandModule>> = {};

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
