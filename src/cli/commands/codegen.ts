/**
 * `opflow codegen FILE.yaml`: prints a TypeScript module, written with opflow's DSL, whose
 * default export is a Workflow that compiles to the manifest in FILE (see
 * `src/workflow/codegen.ts`).
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseManifestText } from "../../workflow/from-manifest.ts";
import { generateWorkflowCode } from "../../workflow/codegen.ts";
import { UsageError, parseCommandArgs, runCommand, stringArg } from "../args.ts";
import type { CommandModule } from "../command.ts";

const usage = `usage: opflow codegen MANIFEST.yaml [options]

Prints a TypeScript module that builds the workflow of MANIFEST (an Argo Workflow, YAML or
JSON) with opflow's DSL: Steps and DAG templates as Steps and DAG objects with their steps and
tasks, other templates verbatim (ManifestTemplate). Its default export compiles to the same
manifest: opflow render wf.ts gives MANIFEST back (templates nothing runs are left out).

options:
  -o, --output FILE    write the module to FILE instead of printing it
  --import FROM        import opflow from FROM (default: @opflow/core)
  -h, --help           this help

example:
  opflow codegen workflow.yaml > wf.ts && opflow run wf.ts`;

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("codegen", usage, async () => {
      const { values, positionals } = parseCommandArgs(argv, {
        output: { type: "string", short: "o" },
        import: { type: "string" },
        help: { type: "boolean", short: "h" },
      });
      if (values["help"]) {
        console.log(usage);
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError(`expects one MANIFEST, got ${positionals.length}`);
      const file = positionals[0] as string;
      const text = await readFile(file, "utf8");
      const importFrom = stringArg(values, "import");
      const code = generateWorkflowCode(parseManifestText(text, file), { source: file, ...(importFrom ? { importFrom } : {}) });
      const output = stringArg(values, "output");
      if (output) await writeFile(output, code);
      else process.stdout.write(code);
      return 0;
    }),
};
export default command;
