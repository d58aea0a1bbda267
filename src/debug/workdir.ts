/**
 * Where the local engine keeps its runs: one folder per workflow under the workdir, and its
 * default artifact store in `<workdir>/.storage`. Every caller (engine, `Workflow.run` and
 * `submit`, the CLI) resolves the workdir here, so the default is spelled once.
 */
import path from "node:path";

/** The workdir of local runs when none is given, relative to the current directory. */
export const DEFAULT_WORKDIR = "opflow-runs";

/**
 * The absolute workdir of local runs: `workdir` (default {@link DEFAULT_WORKDIR}) resolved
 * against the current directory.
 */
export function localWorkdir(workdir?: string): string {
  return path.resolve(workdir ?? DEFAULT_WORKDIR);
}

/** The root of the engine's default artifact store (a local storage folder) in a workdir. */
export function engineStorageRoot(workdir?: string): string {
  return path.join(localWorkdir(workdir), ".storage");
}
