/**
 * `opflow download REF DEST`: downloads an artifact (by the reference `opflow upload` printed,
 * or by key) and checks every object's MD5.
 */
import { readFile } from "node:fs/promises";
import { downloadArtifact, type StoredArtifact } from "../../artifacts/transfer.ts";
import type { CommandModule } from "../command.ts";
import { withProgressBar } from "../progress-bar.ts";
import { STORAGE_USAGE, parseStorageArgs, storageFrom } from "./_storage-options.ts";
import { UsageError, runCommand } from "../args.ts";

const usage = [
  "usage: opflow download REF DEST [options]",
  "",
  "Downloads an artifact to DEST. REF is a reference file written by `opflow upload --out`,",
  "`-` to read the reference from stdin, or --key KEY to name a stored key instead",
  "(a .tgz key is unpacked; a key with objects under KEY/ is a directory).",
  "",
  "options:",
  "  --key KEY          download this key (then DEST is the only positional)",
  "  --overwrite        replace DEST when it exists",
  STORAGE_USAGE,
].join("\n");

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("download", usage, async () => {
      const { values, positionals } = parseStorageArgs(argv, {
        key: { type: "string" },
        overwrite: { type: "boolean" },
      });
      if (values.help) {
        process.stdout.write(`${usage}\n`);
        return 0;
      }
      let ref: StoredArtifact | string;
      let dest: string;
      if (typeof values.key === "string") {
        if (positionals.length !== 1) throw new UsageError("with --key, expected exactly one DEST");
        ref = values.key;
        dest = positionals[0] as string;
      } else {
        if (positionals.length !== 2) throw new UsageError("expected REF and DEST");
        const refPath = positionals[0] as string;
        const text = refPath === "-" ? await readStdin() : await readFile(refPath, "utf8");
        try {
          ref = JSON.parse(text) as StoredArtifact;
        } catch (err) {
          throw new UsageError(`REF ${JSON.stringify(refPath)} is not a JSON artifact reference: ${(err as Error).message}`);
        }
        dest = positionals[1] as string;
      }
      const storage = storageFrom(values);
      const got = await withProgressBar(values["no-progress"] === true ? false : "auto", (onProgress) =>
        downloadArtifact(storage, ref, dest, { overwrite: values.overwrite === true, onProgress }),
      );
      for (const p of got.paths) process.stdout.write(`${p}\n`);
      return 0;
    }),
};
export default command;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
