/** `opflow render <file>`: prints the manifest of the workflow a module exports. */
import { toYaml } from "../../argo/yaml.ts";
import { OpflowError } from "../../errors.ts";
import { loadWorkflow } from "../load.ts";
import type { CommandModule } from "../main.ts";

const command: CommandModule = {
  summary: "Print the Argo manifest of the workflow a module exports",
  usage: "usage: opflow render <file.ts|manifest.yaml> [--json]",
  async run(argv) {
    const json = argv.includes("--json");
    const files = argv.filter((a) => !a.startsWith("--"));
    const unknown = argv.filter((a) => a.startsWith("--") && a !== "--json");
    if (files.length !== 1 || unknown.length) {
      console.error(unknown.length ? `opflow render: unknown option ${unknown[0]}` : command.usage);
      return 2;
    }
    try {
      const { manifest } = await loadWorkflow(files[0] as string);
      process.stdout.write(json ? `${JSON.stringify(manifest, null, 2)}\n` : toYaml(manifest));
      return 0;
    } catch (e) {
      if (e instanceof OpflowError) {
        console.error(`opflow render: ${e.message}`);
        return 1;
      }
      throw e;
    }
  },
};
export default command;
