// `opflow run` says something at once: loading the workflow's module (and TypeScript for a .ts
// one) and the engine takes a moment. Not when the output is for scripts or help was asked for.
// Plain JavaScript, so that the command from sources can call it before tsx is loaded.

/** The flag `opflow run` reads to know the line was written. */
export const ANNOUNCED = Symbol.for("opflow.run.announced");

/**
 * Writes "opflow run: loading workflow…" to stderr for `opflow run FILE …` in a terminal-facing
 * mode, and marks it done.
 * @param {readonly string[]} argv the command's arguments (without node and the script)
 */
export function announceRun(argv) {
  const [command, ...rest] = argv;
  if (command !== "run" || rest.length === 0) return;
  if (rest.some((a) => ["--json", "--outputs", "-q", "--quiet", "-h", "--help"].includes(a))) return;
  process.stderr.write("opflow run: loading workflow…\n");
  /** @type {Record<symbol, unknown>} */ (globalThis)[ANNOUNCED] = true;
}
