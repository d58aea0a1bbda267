/**
 * `opflow upload PATH...`: uploads files or directories to the artifact repository as one
 * artifact and prints its reference (JSON), which `opflow download` takes back.
 */
import { writeFile } from "node:fs/promises";
import { uploadArtifact, type LocalPaths } from "../../artifacts/transfer.ts";
import type { ArchiveFormat } from "../../artifacts/archive.ts";
import type { CommandModule } from "../command.ts";
import { withProgressBar } from "../progress-bar.ts";
import { STORAGE_USAGE, parseStorageArgs, storageFrom } from "./_storage-options.ts";
import { UsageError, runCommand } from "../args.ts";

const usage = [
  "usage: opflow upload PATH... [options]",
  "       opflow upload --name NAME=PATH... [options]",
  "",
  "Uploads one path (file or directory), a list of paths, or named paths as one artifact,",
  "and prints the artifact reference as JSON (keys, sizes, MD5s).",
  "",
  "options:",
  "  --key KEY              the artifact's key (default uploads/<uuid>/...)",
  "  --archive tar|none     tar.gz per path (default, as Argo) or files as they are",
  "  --name NAME=PATH       upload named paths (a record); repeatable",
  "  --out FILE             write the reference to FILE instead of stdout",
  STORAGE_USAGE,
].join("\n");

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("upload", usage, async () => {
      const { values, positionals } = parseStorageArgs(argv, {
        key: { type: "string" },
        archive: { type: "string" },
        name: { type: "string", multiple: true },
        out: { type: "string" },
      });
      if (values.help) {
        process.stdout.write(`${usage}\n`);
        return 0;
      }
      const archive = (values.archive ?? "tar") as string;
      if (archive !== "tar" && archive !== "none") throw new UsageError(`--archive must be tar or none, got ${JSON.stringify(archive)}`);
      const names = (values.name ?? []) as string[];
      let source: LocalPaths;
      if (names.length > 0) {
        if (positionals.length > 0) throw new UsageError("give either PATH... or --name NAME=PATH, not both");
        const record: Record<string, string> = {};
        for (const pair of names) {
          const eq = pair.indexOf("=");
          if (eq <= 0 || eq === pair.length - 1) throw new UsageError(`--name expects NAME=PATH, got ${JSON.stringify(pair)}`);
          record[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        source = record;
      } else if (positionals.length === 0) throw new UsageError("expected at least one PATH");
      else source = positionals.length === 1 ? (positionals[0] as string) : positionals;
      const storage = storageFrom(values);
      const ref = await withProgressBar(values["no-progress"] === true ? false : "auto", (onProgress) =>
        uploadArtifact(storage, source, {
          archive: archive as ArchiveFormat,
          ...(typeof values.key === "string" && { key: values.key }),
          onProgress,
        }),
      );
      const text = `${JSON.stringify(ref, null, 2)}\n`;
      if (typeof values.out === "string") {
        await writeFile(values.out, text);
        process.stderr.write(`opflow upload: ${ref.key} in ${ref.location} (reference in ${values.out})\n`);
      } else process.stdout.write(text);
      return 0;
    }),
};
export default command;
