/**
 * Script templates: a script in any interpreter (`ScriptOPTemplate`) or a shell
 * (`ShellOPTemplate`). They follow the runtime contract: parameter values reach the script
 * through environment variables and files, never through its text.
 */
import type { Artifact, Template as ArgoTemplate } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";
import { type Signature, splitSignature } from "../op/signature.ts";
import { type PrePost, checkPrePost, scriptSource } from "./_pre-post.ts";
import { compact } from "./compact.ts";
import { orderTemplate } from "./order.ts";
import type { PodTemplateOptions } from "./pod.ts";
import { type ContractPathOverrides, PodTemplate, contractPath } from "./pod-template.ts";
import type { TemplateCompiler } from "./template.ts";

/** Options of a {@link ScriptOPTemplate}. */
export interface ScriptTemplateOptions<I extends Signature, O extends Signature> extends PodTemplateOptions {
  /** The template's name (lowercase RFC 1123). */
  readonly name: string;
  /** The script's text. It reads parameters from `$name` or `/tmp/inputs/parameters/<name>`. */
  readonly source: string;
  /** The interpreter (Argo writes `source` to a file and appends its path). @default ["sh"] */
  readonly command?: readonly string[];
  readonly inputs?: I;
  readonly outputs?: O;
  /** Paths of artifacts and output parameters, by name. @default the contract paths under /tmp */
  readonly paths?: ContractPathOverrides;
  /**
   * Also write each input parameter to `/tmp/inputs/parameters/<name>` (as an Argo `raw`
   * input artifact), for scripts that read files.
   * @default true
   */
  readonly parameterFiles?: boolean;
  /**
   * Source text in the template's language run before `source` (dflow's `pre_script`): set up
   * the environment (`source /opt/env.sh`, `module load gromacs`, `import numpy`). In a shell
   * it runs in the same shell, and its failure (its last command's, or a `set -e` stop) fails
   * the step before `source` runs, with a message naming the pre script. Other interpreters get
   * it joined before `source` by a newline, as dflow does. Line numbers in the interpreter's
   * messages count from the top of the combined script (the step's `script` file in the local
   * engine's state tree shows it).
   * @default none
   */
  readonly preScript?: string;
  /**
   * Source text in the template's language run after `source` (dflow's `post_script`): clean
   * up, copy results. In a shell it runs only when `source` succeeded (a failed `source` keeps
   * its exit status and skips it), and its failure fails the step with a message naming the
   * post script. Other interpreters get it joined after `source`: it runs when `source` runs
   * to its end (not after an exception or `sys.exit`).
   * @default none
   */
  readonly postScript?: string;
}

/**
 * A script in any interpreter (Python, Perl, R, sh, …) — dflow's script templates without
 * splicing values into the source: parameters arrive as environment variables and files.
 *
 * @example
 * const count = new ScriptOPTemplate({
 *   name: "count-lines",
 *   image: "python:3.12-alpine",
 *   command: ["python"],
 *   inputs: { data: artifact() },
 *   outputs: { lines: param(z.number().int()) },
 *   source: "n = sum(1 for _ in open('/tmp/inputs/artifacts/data'))\nopen('/tmp/outputs/parameters/lines','w').write(str(n))",
 * });
 */
export class ScriptOPTemplate<I extends Signature = {}, O extends Signature = {}> extends PodTemplate<I, O> {
  /** The script's own text (without {@link ScriptTemplateOptions.preScript | preScript} and `postScript`). */
  readonly source: string;
  /** The pre and post parts ({@link ScriptTemplateOptions.preScript}). */
  readonly prePost: PrePost;
  private readonly command: readonly string[];
  private readonly parameterFiles: boolean;

  constructor(options: ScriptTemplateOptions<I, O>) {
    super(options.name, options.inputs ?? ({} as I), options.outputs ?? ({} as O), { image: "busybox:1.36", ...options });
    if (typeof options.source !== "string") throw new ValidationError(`template "${options.name}": source must be a string`);
    this.source = options.source;
    this.command = options.command ?? ["sh"];
    this.parameterFiles = options.parameterFiles ?? true;
    if (!this.command.length) throw new ValidationError(`template "${options.name}": command must name an interpreter`);
    this.prePost = checkPrePost(`template "${options.name}"`, options);
  }

  /** The script as it runs: `source` with the pre and post parts around it. */
  get fullSource(): string {
    return scriptSource(this.name, this.command, this.prePost, this.source);
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const { tmpl, container } = this.renderBase(compiler, this.contractEnv());
    if (this.parameterFiles) {
      const files: Artifact[] = splitSignature(this.inputs)
        .parameters.filter(([, s]) => !s.big)
        .map(([name]) => ({
          name: `${PARAM_FILE_PREFIX}${name}`,
          path: contractPath("inputs", "parameters", name),
          raw: { data: `{{inputs.parameters.${name}}}` },
        }));
      if (files.length) {
        tmpl.inputs = { ...(tmpl.inputs ?? {}), artifacts: [...(tmpl.inputs?.artifacts ?? []), ...files] };
      }
    }
    tmpl.script = compact({ ...container, image: container?.image ?? "busybox:1.36", command: [...this.command], source: this.fullSource });
    return [orderTemplate(tmpl)];
  }
}

/** Prefix of the input artifacts that hold parameter files of script templates. */
export const PARAM_FILE_PREFIX = "opflow-param-";

/** Options of a {@link ShellOPTemplate}. */
export interface ShellTemplateOptions<I extends Signature, O extends Signature>
  extends Omit<ScriptTemplateOptions<I, O>, "command"> {
  /** The shell. @default "sh" */
  readonly shell?: "sh" | "bash" | "zsh" | "ash";
}

/**
 * A shell script (dflow's ShellOPTemplate). Parameters are environment variables
 * (`"$name"`) and files under `/tmp/inputs/parameters/`; outputs are written under
 * `/tmp/outputs/`.
 *
 * @example
 * const greet = new ShellOPTemplate({
 *   name: "greet",
 *   image: "busybox",
 *   inputs: { who: param(z.string()) },
 *   outputs: { greeting: param(z.string()) },
 *   source: 'mkdir -p /tmp/outputs/parameters && echo "hello $who" > /tmp/outputs/parameters/greeting',
 * });
 */
export class ShellOPTemplate<I extends Signature = {}, O extends Signature = {}> extends ScriptOPTemplate<I, O> {
  constructor(options: ShellTemplateOptions<I, O>) {
    super({ ...options, command: [options.shell ?? "sh"] });
  }
}
