/** What each `opflow` subcommand module (`commands/<name>.ts`) exports by default. */
export interface CommandModule {
  /** Usage text for `opflow help <command>` and usage errors. */
  readonly usage: string;
  /** Runs the command; returns the exit code. */
  run(argv: readonly string[]): Promise<number>;
}
