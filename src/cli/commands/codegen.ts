/**
 * `opflow codegen FILE.yaml` (or `--run NAME`): prints a TypeScript module, written with
 * opflow's DSL, whose default export is a Workflow that compiles to the manifest in FILE, or to
 * the manifest a past local run stored (see `src/workflow/codegen.ts`, `src/workflow/from-run.ts`).
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseManifestText } from "../../workflow/from-manifest.ts";
import { generateWorkflowCode } from "../../workflow/codegen.ts";
import { runManifest } from "../../workflow/from-run.ts";
import { DEFAULT_WORKDIR } from "../../debug/workdir.ts";
import { UsageError, parseCommandArgs, runCommand, stringArg } from "../args.ts";
import type { CommandModule } from "../command.ts";

const usage = `usage: opflow codegen MANIFEST.yaml [options]
       opflow codegen --run NAME [--workdir DIR] [options]

Prints a TypeScript module that builds the workflow of MANIFEST (an Argo Workflow, YAML or
JSON) with opflow's DSL: Steps and DAG templates as Steps and DAG objects with their steps and
tasks, other templates verbatim (ManifestTemplate). Its default export compiles to the same
manifest: opflow render wf.ts gives MANIFEST back (templates nothing runs are left out).

With --run, the manifest is the one the local run NAME stored (DIR/NAME/manifest.yaml), made
ready to submit again as Workflow.fromRun makes it: a new generated name, labelled as
resubmitted from NAME.

options:
  --run NAME           the local run to generate code for (instead of MANIFEST)
  --workdir DIR        where the local runs are (default: ./${DEFAULT_WORKDIR})
  -o, --output FILE    write the module to FILE instead of printing it
  --import FROM        import opflow from FROM (default: @opflow/core)
  -h, --help           this help

example:
  opflow codegen workflow.yaml > wf.ts && opflow run wf.ts
  opflow codegen --run reuse-x7k2p --workdir runs -o again.ts`;

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("codegen", usage, async () => {
      const { values, positionals } = parseCommandArgs(argv, {
        output: { type: "string", short: "o" },
        run: { type: "string" },
        workdir: { type: "string" },
        import: { type: "string" },
        help: { type: "boolean", short: "h" },
      });
      if (values["help"]) {
        console.log(usage);
        return 0;
      }
      const run = stringArg(values, "run");
      const workdir = stringArg(values, "workdir");
      let manifest: unknown;
      let source: string;
      if (run !== undefined) {
        if (positionals.length > 0) throw new UsageError(`expects MANIFEST or --run NAME, not both (got ${JSON.stringify(positionals[0])} and --run ${run})`);
        ({ manifest, source } = await runManifest(run, { mode: "debug", ...(workdir ? { workdir } : {}) }));
        source = `run ${run} (${source})`;
      } else {
        if (workdir !== undefined) throw new UsageError("--workdir goes with --run NAME");
        if (positionals.length !== 1) throw new UsageError(`expects one MANIFEST, got ${positionals.length} (or --run NAME)`);
        source = positionals[0] as string;
        manifest = parseManifestText(await readFile(source, "utf8"), source);
      }
      const importFrom = stringArg(values, "import");
      const code = generateWorkflowCode(manifest, { source, ...(importFrom ? { importFrom } : {}) });
      const output = stringArg(values, "output");
      if (output) await writeFile(output, code);
      else process.stdout.write(code);
      return 0;
    }),
};
export default command;
