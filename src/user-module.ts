/**
 * Importing a user's module — a workflow file given to the CLI, an OP's module in a worker
 * thread or a container. JavaScript is imported as it is; a TypeScript file (`.ts`, `.mts`,
 * `.cts`, `.tsx`) through tsx, whose loader is registered in this thread when the first one is
 * imported (never for opflow itself, which runs from compiled JavaScript when installed). A
 * TypeScript file that its package makes CommonJS (`.cts`, or `.ts` without `"type": "module"`,
 * as `npm init` writes) is loaded as CommonJS by tsx's `require`, so that it just works: its
 * `import … from "@opflow/core"` becomes a `require` of opflow's ES modules, which Node ≥ 20.19
 * allows.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { OpflowError } from "./errors.ts";

const TYPESCRIPT = /\.(?:[cm]?ts|tsx)$/i;

let typescript: Promise<void> | undefined;

/** Registers tsx's loader in this thread, once. Not needed (and skipped) where opflow itself runs from its `.ts` sources. */
function loadTypeScript(): Promise<void> {
  typescript ??= import.meta.url.endsWith(".ts") ? Promise.resolve() : registerTsx();
  return typescript;
}

async function registerTsx(): Promise<void> {
  // opflow's own modules first: a module loaded before the loader is registered never passes
  // through its hooks (which run in another thread), so the user's `import "@opflow/core"` then
  // costs nothing. This halves the start of `opflow run x.ts`.
  await import("@opflow/core");
  const { register } = await import("tsx/esm/api");
  register();
}

/** A file URL for a path or file URL; `undefined` for a bare package specifier. */
function fileUrlOf(specifier: string): string | undefined {
  if (specifier.startsWith("file:")) return specifier;
  if (path.isAbsolute(specifier) || specifier.startsWith(".") || /\.(?:[cm]?[jt]s|tsx|jsx)$/i.test(specifier)) {
    return pathToFileURL(path.resolve(specifier)).href;
  }
  return undefined;
}

/** The nearest package.json's `type` for a file, and the package.json's path. */
async function packageType(file: string): Promise<{ type: string; packageJson: string } | undefined> {
  const fs = await import("node:fs/promises");
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "package.json");
    try {
      const json = JSON.parse(await fs.readFile(candidate, "utf8")) as { type?: unknown };
      return { type: typeof json.type === "string" ? json.type : "commonjs", packageJson: candidate };
    } catch {
      // no (readable) package.json here: look further up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Imports `specifier` (a path, a file URL or a package name) and returns its exports. A
 * TypeScript module that cannot be loaded because its package is CommonJS gets an
 * {@link OpflowError} that says what to change.
 *
 * @example
 * const mod = await importUserModule("examples/hello.ts");
 */
export async function importUserModule(specifier: string): Promise<Record<string, unknown>> {
  const url = fileUrlOf(specifier);
  const file = url ? fileURLToPath(url) : undefined;
  if (file && TYPESCRIPT.test(file)) {
    if (/\.cts$/i.test(file) || (!/\.mts$/i.test(file) && (await packageType(file))?.type !== "module")) {
      const { require } = await import("tsx/cjs/api");
      const exports: unknown = require(file, import.meta.url);
      // as `import()` of CommonJS gives it: `default` is module.exports unless the module set its own
      return typeof exports === "object" && exports !== null ? { default: exports, ...(exports as Record<string, unknown>) } : { default: exports };
    }
    await loadTypeScript();
  }
  try {
    return (await import(url ?? specifier)) as Record<string, unknown>;
  } catch (error) {
    if (!file) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    const moduleTrouble =
      code === "ERR_REQUIRE_CYCLE_MODULE" || code === "ERR_REQUIRE_ESM" || code === "ERR_REQUIRE_ASYNC_MODULE" ||
      /Cannot use import statement outside a module|require\(\) of ES Module|Cannot require\(\) ES Module|exports is not defined in ES module scope/.test(message);
    const pkg = moduleTrouble ? await packageType(file) : undefined;
    if (pkg && pkg.type !== "module" && !/\.m[jt]s$/i.test(file)) {
      throw new OpflowError(
        `${specifier}: cannot load it as an ES module: its package (${pkg.packageJson}) is CommonJS ` +
          `("type": ${JSON.stringify(pkg.type)}). Add "type": "module" to that package.json, or rename the file to .mts/.mjs ` +
          `(Node said: ${message.split("\n")[0]})`,
      );
    }
    throw error;
  }
}
