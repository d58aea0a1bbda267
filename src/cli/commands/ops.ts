/**
 * `opflow ops [path|package]`: lists the OPs a package exports, read from its sources or `.d.ts`
 * without importing it. ts-morph is loaded only here.
 */
import fs from "node:fs/promises";
import { OpflowError } from "../../errors.ts";
import { UsageError, parseCommandArgs, runCommand, stringArg } from "../args.ts";
import type { CommandModule } from "../command.ts";

const usage = [
  "usage: opflow ops [path|package] [--json | --markdown] [--update FILE]",
  "",
  "  path|package   a .ts or .d.ts file, a package directory, or an installed package's name (default: .)",
  "  --json         the OPs as JSON (for tools)",
  "  --markdown     a Markdown table (for a README)",
  "  --update FILE  write the Markdown table between the opflow-ops markers of FILE (as `npm run docs` does)",
].join("\n");

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("ops", usage, async () => {
      const { values, positionals } = parseCommandArgs(argv, {
        json: { type: "boolean" },
        markdown: { type: "boolean" },
        update: { type: "string" },
        help: { type: "boolean", short: "h" },
      });
      if (values["help"]) {
        console.log(usage);
        return 0;
      }
      const update = stringArg(values, "update");
      if (positionals.length > 1) throw new UsageError(`expects at most one path or package, got ${positionals.length}`);
      if (values["json"] && (values["markdown"] || update)) throw new UsageError("--json cannot go with --markdown or --update");
      const { readOps } = await import("../../catalog/read-ops.ts");
      const render = await import("../../catalog/render-ops.ts");
      const ops = readOps(positionals[0]);
      if (update) {
        const before = await fs.readFile(update, "utf8").catch(() => {
          throw new OpflowError(`${update}: cannot be read`);
        });
        const after = render.replaceOpsTable(before, render.opsMarkdown(ops), update);
        if (after !== before) await fs.writeFile(update, after);
        console.log(`${update}: ${after === before ? "up to date" : "updated"} (${ops.length} OP${ops.length === 1 ? "" : "s"})`);
      } else if (values["json"]) process.stdout.write(`${JSON.stringify(ops, null, 2)}\n`);
      else if (values["markdown"]) process.stdout.write(render.opsMarkdown(ops));
      else process.stdout.write(render.opsText(ops));
      return 0;
    }),
};
export default command;
