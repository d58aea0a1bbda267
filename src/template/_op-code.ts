/**
 * How an OP's code reaches its pod, and the container command that follows from it:
 *
 * - `"bundle"`: the compiler bundles the OP's module into one file (`src/bundle/`) that reaches
 *   the pod as an input artifact; the pod runs `node /tmp/opflow/<hash>.mjs --op <name>` in any
 *   image with Node.js ≥ 20;
 * - `"installed"`: the image has the package and opflow; the pod runs
 *   `npx --no-install opflow execute --module <module> --op <name>`.
 *
 * A compile that makes no bundles (a local run that calls OPs in-process) renders the installed
 * form of bundle-mode templates.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Template as ArgoTemplate } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";
import type { OPDefinition } from "../op/op.ts";
import type { TemplateCompiler } from "./template.ts";

/** How an OP's code reaches its pod (see {@link OPCodeOptions.code}). */
export type OPCode = "bundle" | "installed";

/** The options of OP templates about their code. */
export interface OPCodeOptions {
  /**
   * How the OP's code reaches the pod. `"bundle"`: opflow bundles the OP's module (your code,
   * opflow's OP runner, zod and what the module imports) into one file named by its hash,
   * delivered as an input artifact from the artifact repository, so that any image with
   * Node.js ≥ 20 runs it (`node /tmp/opflow/<hash>.mjs --op <name>`). `"installed"`: the
   * image has your package and opflow installed (see docs/cluster.md for a Dockerfile), and the
   * pod runs `command` with `--module` and `--op`.
   * @default "installed" when `module` or `command` is given, else "bundle"
   */
  readonly code?: OPCode;
  /**
   * Bundle mode: packages left out of the bundle and installed into its folder from the
   * project's package-lock.json (native addons, packages that load modules by computed names).
   * @default none
   */
  readonly externals?: readonly string[];
  /**
   * Installed mode: how the container finds the OP: a package name (`"my-ops"`) or a path
   * relative to the container's working directory (`"ops/train.ts"`).
   * @default the defining file, relative to its package root
   */
  readonly module?: string;
  /**
   * Installed mode: the command that starts opflow in the image; the runner's arguments are
   * appended.
   * @default ["npx", "--no-install", "opflow", "execute"]
   */
  readonly command?: readonly string[];
}

/** The checked code settings of an OP template. */
export interface OPCodeSettings {
  readonly code: OPCode;
  /** The module that defines the OP (a `file:` URL), to bundle. */
  readonly moduleUrl: string | undefined;
  /** Installed mode: the module specifier the container imports (computed when first needed in bundle mode). */
  readonly module: string | undefined;
  readonly command: readonly string[];
  readonly externals: readonly string[];
}

function packageRoot(file: string): string | undefined {
  let dir = path.dirname(file);
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The module specifier a container uses to import an OP defined in `moduleUrl`. */
export function moduleSpecifier(moduleUrl: string | undefined, opName: string): string {
  if (!moduleUrl) {
    throw new ValidationError(`OP "${opName}": cannot tell which module defines it; pass the "module" option of OPTemplate.fromOp`);
  }
  const file = moduleUrl.startsWith("file:") ? fileURLToPath(moduleUrl) : moduleUrl;
  const root = packageRoot(file);
  return root ? path.relative(root, file).split(path.sep).join("/") : path.basename(file);
}

/** Checks the code options of an OP template for `op`. */
export function opCodeSettings(op: OPDefinition, options: OPCodeOptions): OPCodeSettings {
  const where = `OP template "${op.name}"`;
  const code = options.code ?? (options.module !== undefined || options.command !== undefined ? "installed" : "bundle");
  if (code !== "bundle" && code !== "installed") throw new ValidationError(`${where}: option "code" must be "bundle" or "installed", got ${JSON.stringify(code)}`);
  const externals = [...(options.externals ?? [])];
  for (const e of externals) {
    if (typeof e !== "string" || !/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(e)) throw new ValidationError(`${where}: option "externals": ${JSON.stringify(e)} is not an npm package name`);
  }
  if (code === "installed" && externals.length > 0) {
    throw new ValidationError(`${where}: option "externals" applies to bundle mode; in installed mode the image has every package (got code "installed" and externals ${externals.join(", ")})`);
  }
  const command = options.command ?? ["npx", "--no-install", "opflow", "execute"];
  if (code === "installed") return { code, moduleUrl: op.modulePath, module: options.module ?? moduleSpecifier(op.modulePath, op.name), command, externals };
  if (!op.modulePath) {
    throw new ValidationError(`OP "${op.name}": cannot tell which module defines it, so it cannot be bundled; define it in a module of its own, or use installed mode (code: "installed", module: …)`);
  }
  return { code, moduleUrl: op.modulePath, module: options.module, command, externals };
}

/**
 * Sets the container's command and args for running `opName`, and for a bundle adds the input
 * artifact that brings it to the pod.
 */
export function renderOPCommand(compiler: TemplateCompiler, settings: OPCodeSettings, opName: string, tmpl: ArgoTemplate, container: NonNullable<ArgoTemplate["container"]>): void {
  const bundle = settings.code === "bundle" && settings.moduleUrl ? compiler.bundle?.(settings.moduleUrl, settings.externals) : undefined;
  if (bundle) {
    container.command = ["node", bundle.entry];
    container.args = ["--op", opName];
    tmpl.inputs = { ...tmpl.inputs, artifacts: [...(tmpl.inputs?.artifacts ?? []), bundle.input] };
    return;
  }
  container.command = [...settings.command];
  container.args = ["--module", settings.module ?? moduleSpecifier(settings.moduleUrl, opName), "--op", opName];
}
