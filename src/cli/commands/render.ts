/**
 * `opflow render FILE`: prints (or writes) the manifest of the workflow a module exports. OP
 * templates in bundle mode run their module's bundle from the artifact repository: with `-o`
 * the bundles are written next to the manifest (`opflow-bundles/`), ready for one
 * `opflow upload`; otherwise the command says which keys the manifest expects.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { toYaml } from "../../argo/yaml.ts";
import { UsageError, parseCommandArgs, runCommand, stringArg } from "../args.ts";
import type { CommandModule } from "../command.ts";
import { loadWorkflow } from "../load.ts";

const usage = `usage: opflow render FILE.ts|MANIFEST.yaml [options]

Prints the Argo manifest of the workflow FILE exports. OP templates (bundle mode) run their
module's bundle, which the manifest names by key in the artifact repository.

options:
  -o, --output FILE    write the manifest to FILE, and the bundles to opflow-bundles/ beside it
  --bundles DIR        write the bundles to DIR (as stored: <hash>.mjs, or <hash>.tgz with externals)
  --no-bundles         render OP templates with their installed-mode command (no bundles)
  --json               JSON instead of YAML
  -h, --help           this help

Upload written bundles once with: opflow upload DIR --key opflow-bundles --archive none
(opflow submit uploads them itself).`;

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("render", usage, async () => {
      const { values, positionals } = parseCommandArgs(argv, {
        json: { type: "boolean" },
        output: { type: "string", short: "o" },
        bundles: { type: "string" },
        "no-bundles": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      });
      if (values["help"]) {
        console.log(usage);
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError(`expects one FILE, got ${positionals.length}`);
      const output = stringArg(values, "output");
      const bundleDirOption = stringArg(values, "bundles");
      if (values["no-bundles"] && bundleDirOption !== undefined) throw new UsageError("--bundles and --no-bundles exclude each other");
      const loaded = await loadWorkflow(positionals[0] as string, { bundles: values["no-bundles"] !== true });
      const text = values["json"] ? `${JSON.stringify(loaded.manifest, null, 2)}\n` : toYaml(loaded.manifest);
      if (output) {
        await mkdir(path.dirname(path.resolve(output)), { recursive: true });
        await writeFile(output, text);
      }
      else process.stdout.write(text);
      if (loaded.bundles.length === 0) return 0;
      const bundleDir = bundleDirOption ?? (output ? path.join(path.dirname(output), "opflow-bundles") : undefined);
      if (bundleDir) {
        for (const b of loaded.bundles) await b.writeObject(bundleDir);
        console.error(
          `opflow render: wrote ${loaded.bundles.length} OP bundle(s) to ${bundleDir}; put them in the artifact repository once with:\n  opflow upload ${bundleDir} --key opflow-bundles --archive none`,
        );
      } else {
        console.error(
          `opflow render: the manifest runs ${loaded.bundles.length} OP bundle(s) from the artifact repository (${loaded.bundles.map((b) => b.key).join(", ")}); write them with -o FILE or --bundles DIR, or let opflow submit upload them`,
        );
      }
      return 0;
    }),
};
export default command;
