/**
 * `opflow cache [dir|clear]`: where opflow keeps the OP bundles it made (see
 * `src/bundle/bundle-cache.ts`), and emptying that folder. Nothing else is cached there; a
 * cleared cache only costs the next `render`, `run` or `submit` one esbuild run per module.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { CACHE_DIR_ENV, bundleCacheDir, clearBundleCache } from "../../bundle/bundle-cache.ts";
import { UsageError, parseCommandArgs, runCommand } from "../args.ts";
import type { CommandModule } from "../command.ts";

const usage = `usage: opflow cache [dir|clear] [--project DIR]

The cache of OP bundles: one esbuild run per module and change, reused by every later
render, run and submit while no file that went into a bundle has changed.

  dir          print the cache folder and what it holds (the default)
  clear        remove every cached bundle there

options:
  --project DIR   the project whose cache is meant (default: the current folder)
  -h, --help      this help

The folder is $${CACHE_DIR_ENV}/bundles when ${CACHE_DIR_ENV} is set, else
node_modules/.cache/opflow/bundles of the project, else the user's cache folder
(~/.cache/opflow/bundles on Linux).`;

function contentsOf(dir: string): { bundles: number; bytes: number } {
  let bundles = 0;
  let bytes = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return { bundles, bytes };
  }
  for (const name of names) {
    try {
      bytes += statSync(path.join(dir, name)).size;
      if (name.endsWith(".mjs")) bundles++;
    } catch {
      /* removed meanwhile */
    }
  }
  return { bundles, bytes };
}

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("cache", usage, async () => {
      const { values, positionals } = parseCommandArgs(argv, { project: { type: "string" }, help: { type: "boolean", short: "h" } });
      if (values["help"]) {
        console.log(usage);
        return 0;
      }
      const [action = "dir", ...extra] = positionals;
      if (extra.length > 0) throw new UsageError(`expects at most one action, got ${positionals.length}: ${positionals.join(" ")}`);
      const project = path.resolve(typeof values["project"] === "string" ? values["project"] : process.cwd());
      // The folder of a module directly in the project (the cache is per project, not per module).
      const dir = bundleCacheDir(path.join(project, "_"));
      if (action === "dir") {
        const { bundles, bytes } = contentsOf(dir);
        console.log(`${dir}\n${bundles} bundle(s), ${(bytes / 1024).toFixed(1)} KB`);
        return 0;
      }
      if (action === "clear") {
        const removed = clearBundleCache(dir);
        console.log(`opflow cache: removed ${removed} file(s) from ${dir}`);
        return 0;
      }
      throw new UsageError(`unknown action ${JSON.stringify(action)}: expected dir or clear`);
    }),
};
export default command;
