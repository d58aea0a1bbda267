/** Which back-end `workflow.submit()` uses (`debug`: the local engine; `cluster`: Argo), and its debug-mode options. */
import { SubmitError } from "../errors.ts";
import type { StorageClient } from "../storage/client.ts";

/**
 * Options of `workflow.submit()` for debug mode: which back-end, and where the local engine
 * keeps runs and artifacts.
 */
export interface DebugSubmitOptions {
  /**
   * `debug` runs the workflow with the local engine in this process (through a
   * `LocalArgoClient`, with the workflow's in-process OPs); `cluster` submits it to Argo.
   * @default `process.env.OPFLOW_MODE` when it is `debug` or `cluster` (read at the call), else `cluster`
   */
  readonly mode?: "debug" | "cluster";
  /**
   * Debug mode: the folder holding the runs (`<workdir>/<name>/`).
   * @default `./opflow-runs`
   */
  readonly workdir?: string;
  /**
   * Where local input artifacts are uploaded first; in debug mode also the engine's artifact store.
   * @default debug mode: a local-directory store at `<workdir>/.storage`; cluster mode: the
   *   artifact repository configuration (`loadArtifactRepositoryConfig()`)
   */
  readonly storage?: StorageClient;
}

/**
 * The back-end `submit()` uses: `options.mode`, else `OPFLOW_MODE` from `env` (`debug` or
 * `cluster`), else `cluster`. Any other `OPFLOW_MODE` value is an error.
 *
 * @example
 * ```ts
 * submitMode({}, { OPFLOW_MODE: "debug" }); // "debug"
 * ```
 */
export function submitMode(options: Pick<DebugSubmitOptions, "mode">, env: NodeJS.ProcessEnv = process.env): "debug" | "cluster" {
  const mode = options.mode ?? env["OPFLOW_MODE"];
  if (mode === undefined || mode === "") return "cluster";
  if (mode !== "debug" && mode !== "cluster") {
    throw new SubmitError(`submit: ${options.mode !== undefined ? "mode" : "OPFLOW_MODE"} must be "debug" or "cluster", got ${JSON.stringify(mode)}`);
  }
  return mode;
}
