/**
 * `opflow new-op NAME`: starts an OP package from `cookiecutter-op/` (the template that plain
 * `cookiecutter` renders too): package.json, tsconfig, one OP, a workflow using it, vitest tests,
 * a README with the OP table, a Dockerfile for the installed image mode and a CI script.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ValidationError } from "../../errors.ts";
import { renderTemplate } from "../../scaffold/cookiecutter.ts";
import { UsageError, parseCommandArgs, runCommand, stringArg } from "../args.ts";
import type { CommandModule } from "../command.ts";

/** opflow's package folder (holding cookiecutter-op/ and package.json), from src/cli/commands or dist/cli/commands. */
const packageRoot = fileURLToPath(new URL("../../../", import.meta.url));

const NAME = /^[a-z0-9][a-z0-9._-]{0,213}$/;

/** Written when the template's .gitignore is missing (npm leaves .gitignore files out of packages). */
const GITIGNORE = "node_modules/\nopflow-runs/\n*.tgz\n";

const usage = [
  "usage: opflow new-op NAME [--dir PARENT] [--description TEXT] [--image IMAGE] [--opflow SPEC]",
  "",
  "  NAME              the package's name and folder (lowercase letters, digits, '-', '.', '_')",
  "  --dir PARENT      where to create the folder (default: .)",
  "  --description T   the package's description",
  "  --image IMAGE     the image its OP templates run in on Argo (default: NAME:latest)",
  "  --opflow SPEC     the @opflow/core dependency (default: ^<this opflow's version>; e.g. file:../opflow-core-0.1.0.tgz)",
].join("\n");

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("new-op", usage, async () => {
      const { values, positionals } = parseCommandArgs(argv, {
        dir: { type: "string" },
        description: { type: "string" },
        image: { type: "string" },
        opflow: { type: "string" },
        help: { type: "boolean", short: "h" },
      });
      if (values["help"]) {
        console.log(usage);
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError(`expects one NAME, got ${positionals.length}`);
      const name = positionals[0] as string;
      if (!NAME.test(name)) {
        throw new ValidationError(
          `package name ${JSON.stringify(name)} is invalid: use lowercase letters, digits, "-", "." and "_", starting with a letter or digit`,
        );
      }
      const description = stringArg(values, "description");
      const image = stringArg(values, "image");
      const own = JSON.parse(await fs.readFile(path.join(packageRoot, "package.json"), "utf8")) as { version: string };
      const dir = await renderTemplate(path.join(packageRoot, "cookiecutter-op"), stringArg(values, "dir") ?? ".", {
        project_slug: name,
        opflow_version: stringArg(values, "opflow") ?? `^${own.version}`,
        ...(description !== undefined ? { description } : {}),
        ...(image !== undefined ? { image } : {}),
      });
      await fs.writeFile(path.join(dir, ".gitignore"), GITIGNORE, { flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
      const relative = path.relative(process.cwd(), dir);
      const shown = relative === "" ? "." : relative.startsWith("..") ? dir : relative;
      console.log(`Created ${shown}/ (OP package "${name}").\n\nNext:\n  cd ${shown}\n  npm install\n  npm test\n  npx opflow run src/workflow.ts`);
      return 0;
    }),
};
export default command;
