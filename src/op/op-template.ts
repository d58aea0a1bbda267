/**
 * `OPTemplate`: an OP as a template (dflow's PythonOPTemplate). In a container it runs
 * `opflow execute`, which imports the OP's module and runs it through the OP runner against
 * the runtime contract; in the local engine the same runner runs it in-process.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Template as ArgoTemplate } from "../argo/model.ts";
import type { LocalBinding } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import { PodTemplate, orderTemplate } from "./container-template.ts";
import { type OPClass, type OPDefinition, toOPDefinition } from "./op.ts";
import { runOp } from "./runner.ts";
import type { Signature } from "./signature.ts";
import type { PodTemplateOptions, RetryOn, TemplateCompiler } from "./template.ts";
import { compact } from "./template.ts";

/** Options of {@link OPTemplate.fromOp}. */
export interface OPTemplateOptions extends PodTemplateOptions {
  /**
   * Image holding Node.js, opflow and the OP's package.
   * @default "node:20-slim"
   */
  readonly image?: string;
  /**
   * How the container finds the OP: a package name (`"my-ops"`) or a path relative to the
   * container's working directory (`"ops/train.ts"`).
   * @default the defining file, relative to its package root
   */
  readonly module?: string;
  /**
   * The command that starts opflow in the image; the runner's arguments are appended.
   * @default ["npx", "--no-install", "opflow", "execute"]
   */
  readonly command?: readonly string[];
}

/** The default image of OP templates. */
export const DEFAULT_OP_IMAGE = "node:20-slim";

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

/**
 * An OP as a template.
 *
 * @example
 * const hello = OPTemplate.fromOp(Hello, { image: "ghcr.io/me/ops:1.0", retry: 3 });
 */
export class OPTemplate<I extends Signature = Signature, O extends Signature = Signature> extends PodTemplate<I, O> {
  readonly op: OPDefinition<I, O>;
  private readonly module: string;
  private readonly command: readonly string[];

  private constructor(op: OPDefinition<I, O>, options: OPTemplateOptions) {
    super(options.name ?? op.name, op.inputs, op.outputs, { image: DEFAULT_OP_IMAGE, ...options });
    this.op = op;
    this.module = options.module ?? moduleSpecifier(op.modulePath, op.name);
    this.command = options.command ?? ["npx", "--no-install", "opflow", "execute"];
  }

  /** Makes a template of an OP (a class extending `OP`, or the result of `defineOp`). */
  static fromOp<I extends Signature, O extends Signature>(
    op: OPDefinition<I, O> | OPClass<I, O>,
    options: OPTemplateOptions = {},
  ): OPTemplate<I, O> {
    return new OPTemplate(toOPDefinition(op), options);
  }

  protected override defaultRetryOn(): RetryOn {
    return "transient-error";
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const { tmpl, container } = this.renderBase(compiler, this.contractEnv());
    tmpl.container = compact({
      ...container,
      command: [...this.command],
      args: ["--module", this.module, "--op", this.op.name],
    });
    return [orderTemplate(tmpl)];
  }

  override localBinding(): LocalBinding {
    const op = this.op as unknown as OPDefinition;
    return (task) =>
      runOp(op, {
        root: task.root,
        parameters: task.parameters,
        env: {},
        workdir: path.join(task.root, "workdir"),
        progress: (done, total) => task.progress(done, total),
        log: (text) => task.log(text),
        signal: task.signal,
      });
  }
}
