/** `opflow render <file>`: prints the manifest of the workflow a module exports. */
import { toYaml } from "../../argo/yaml.ts";
import { UsageError, parseCommandArgs, runCommand } from "../args.ts";
import type { CommandModule } from "../command.ts";
import { loadWorkflow } from "../load.ts";

const usage = "usage: opflow render <file.ts|manifest.yaml> [--json]";

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("render", usage, async () => {
      const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" }, help: { type: "boolean", short: "h" } });
      if (values["help"]) {
        console.log(usage);
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError(`expects one FILE, got ${positionals.length}`);
      const { manifest } = await loadWorkflow(positionals[0] as string);
      process.stdout.write(values["json"] ? `${JSON.stringify(manifest, null, 2)}\n` : toYaml(manifest));
      return 0;
    }),
};
export default command;
