/**
 * Options shared by `opflow upload` and `opflow download`: where the artifact repository is.
 */
import type { StorageClient } from "../../storage/client.ts";
import { createStorageClient, loadArtifactRepositoryConfig } from "../../storage/config.ts";
import { engineStorageRoot } from "../../debug/workdir.ts";
import { parseCommandArgs, type ArgValues, type CommandOptions, type ParsedArgs } from "../args.ts";

/** Usage lines of the storage options. */
export const STORAGE_USAGE = [
  "storage options:",
  "  --workdir DIR      use the artifact store of the local runs in DIR (DIR/.storage)",
  "  --storage DIR      use a local folder as the artifact repository",
  "  --config FILE      artifact repository config file (JSON or YAML)",
  "  (default: $OPFLOW_STORAGE_CONFIG, the OPFLOW_S3_* variables, else the store of",
  "  `opflow run` in the default workdir, opflow-runs/.storage)",
  "  --no-progress      never draw a progress bar",
  "  -h, --help         this help",
].join("\n");

/** Parses `argv` with the storage options plus `extra`. */
export function parseStorageArgs(argv: readonly string[], extra: CommandOptions): ParsedArgs {
  return parseCommandArgs(argv, {
    storage: { type: "string" },
    workdir: { type: "string" },
    config: { type: "string" },
    "no-progress": { type: "boolean" },
    help: { type: "boolean", short: "h" },
    ...extra,
  });
}

/** The storage client the options name. */
export function storageFrom(values: ArgValues): StorageClient {
  const dir = values.storage;
  if (typeof dir === "string") return createStorageClient({ type: "local", root: dir });
  if (typeof values.workdir === "string") return createStorageClient({ type: "local", root: engineStorageRoot(values.workdir) });
  const file = typeof values.config === "string" ? values.config : undefined;
  return createStorageClient(loadArtifactRepositoryConfig(file === undefined ? {} : { file }));
}
