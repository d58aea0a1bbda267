/**
 * Container and script templates: a process in an image. `ContainerTemplate` is Argo's plain
 * container (image, command, args); `ScriptOPTemplate` runs a script in any interpreter and
 * `ShellOPTemplate` a shell script. Script templates follow the runtime contract: parameter
 * values reach the script through environment variables and files, never through its text.
 */
import type { Artifact, EnvVar, Template as ArgoTemplate } from "../argo/model.ts";
import { CONTAINER_ROOT, contractPaths } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import { type Operand, renderValue } from "../expr/tree.ts";
import { type Signature, splitSignature } from "./signature.ts";
import {
  type InputRefs,
  type PodTemplateOptions,
  Template,
  type TemplateCompiler,
  compact,
  inputRefs,
  renderPod,
} from "./template.ts";

/** A command-line word: literal text or an expression (rendered as an Argo tag). */
export type Word = Operand<string> | Operand<number> | Operand<unknown>;

/** Either a list of words or a function of the template's input references returning one. */
export type Words<I extends Signature> = readonly Word[] | ((inputs: InputRefs<I>) => readonly Word[]);

/** Options of a {@link ContainerTemplate}. */
export interface ContainerTemplateOptions<I extends Signature, O extends Signature> extends PodTemplateOptions {
  /** The template's name (lowercase RFC 1123). */
  readonly name: string;
  readonly image: string;
  /** Input signature. @default no inputs */
  readonly inputs?: I;
  /** Output signature. @default no outputs */
  readonly outputs?: O;
  /** Container command. @default the image's entrypoint */
  readonly command?: Words<I>;
  /** Container arguments. @default none */
  readonly args?: Words<I>;
  /**
   * Paths of artifacts and output parameters inside the container, by name.
   * @default `/tmp/inputs/artifacts/<name>`, `/tmp/outputs/parameters/<name>`, `/tmp/outputs/artifacts/<name>`
   */
  readonly paths?: { readonly inputs?: Readonly<Record<string, string>>; readonly outputs?: Readonly<Record<string, string>> };
}

function contractPath(side: "inputs" | "outputs", io: "parameters" | "artifacts", name: string): string {
  const rel =
    side === "inputs"
      ? io === "parameters"
        ? contractPaths.inputParameter(name)
        : contractPaths.inputArtifact(name)
      : io === "parameters"
        ? contractPaths.outputParameter(name)
        : contractPaths.outputArtifact(name);
  return `${CONTAINER_ROOT}/${rel}`;
}

/** Base of templates that run one container. */
export abstract class PodTemplate<I extends Signature, O extends Signature> extends Template<I, O> {
  protected readonly pod: PodTemplateOptions;
  protected readonly paths: ContainerTemplateOptions<I, O>["paths"];

  constructor(name: string, inputs: I, outputs: O, options: PodTemplateOptions & { paths?: ContainerTemplateOptions<I, O>["paths"] }) {
    super(name, inputs, outputs, options);
    this.pod = options;
    this.paths = options.paths;
    if (options.image !== undefined && (typeof options.image !== "string" || !options.image.trim())) {
      throw new ValidationError(`template "${name}": image must be a non-empty string, got ${JSON.stringify(options.image)}`);
    }
  }

  protected inputPath(io: "parameters" | "artifacts", name: string): string {
    return this.paths?.inputs?.[name] ?? contractPath("inputs", io, name);
  }
  protected outputPath(io: "parameters" | "artifacts", name: string): string {
    return this.paths?.outputs?.[name] ?? contractPath("outputs", io, name);
  }

  /** Input references, for command/args functions. */
  get io(): InputRefs<I> {
    return inputRefs(this, this.inputs);
  }

  protected words(compiler: TemplateCompiler, words: Words<I> | undefined): string[] | undefined {
    if (words === undefined) return undefined;
    const list = typeof words === "function" ? words(inputRefs(this, this.inputs)) : words;
    const ctx = compiler.context(this);
    return list.map((w) => renderValue(w as Operand<unknown>, ctx));
  }

  /** Environment variables of the runtime contract: one per (non-big) input parameter. */
  protected contractEnv(): EnvVar[] {
    return splitSignature(this.inputs)
      .parameters.filter(([, spec]) => !spec.big)
      .map(([name]) => ({ name, value: `{{inputs.parameters.${name}}}` }));
  }

  protected renderBase(compiler: TemplateCompiler, env: EnvVar[]): { tmpl: ArgoTemplate; container: ArgoTemplate["container"] } {
    const { container, pod } = renderPod(this.pod, env);
    const tmpl: ArgoTemplate = compact({
      name: compiler.nameOf(this),
      inputs: nonEmpty(this.renderInputs((io, n) => this.inputPath(io, n), compiler)),
      outputs: nonEmpty(this.renderFileOutputs(compiler, (io, n) => this.outputPath(io, n))),
      ...this.renderCommon(),
      ...pod,
    });
    return { tmpl, container };
  }
}

function nonEmpty<T extends object | undefined>(value: T): T | undefined {
  return value && Object.keys(value).length ? value : undefined;
}

/**
 * Argo's plain container template: an image, a command and arguments. Arguments may embed
 * references to the template's inputs (rendered as `{{inputs.parameters.x}}` tags).
 *
 * @example
 * const echo = new ContainerTemplate({
 *   name: "echo",
 *   image: "busybox",
 *   inputs: { message: param(z.string()) },
 *   command: ["echo"],
 *   args: (io) => [io.parameters.message],
 * });
 */
export class ContainerTemplate<I extends Signature = {}, O extends Signature = {}> extends PodTemplate<I, O> {
  private readonly command: Words<I> | undefined;
  private readonly args: Words<I> | undefined;

  constructor(options: ContainerTemplateOptions<I, O>) {
    super(options.name, options.inputs ?? ({} as I), options.outputs ?? ({} as O), options);
    if (!options.image) throw new ValidationError(`template "${options.name}": image is required`);
    this.command = options.command;
    this.args = options.args;
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const { tmpl, container } = this.renderBase(compiler, []);
    tmpl.container = compact({
      ...container,
      command: this.words(compiler, this.command),
      args: this.words(compiler, this.args),
    });
    return [orderTemplate(tmpl)];
  }
}

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
  readonly paths?: ContainerTemplateOptions<I, O>["paths"];
  /**
   * Also write each input parameter to `/tmp/inputs/parameters/<name>` (as an Argo `raw`
   * input artifact), for scripts that read files.
   * @default true
   */
  readonly parameterFiles?: boolean;
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
  readonly source: string;
  private readonly command: readonly string[];
  private readonly parameterFiles: boolean;

  constructor(options: ScriptTemplateOptions<I, O>) {
    super(options.name, options.inputs ?? ({} as I), options.outputs ?? ({} as O), { image: "busybox:1.36", ...options });
    if (typeof options.source !== "string") throw new ValidationError(`template "${options.name}": source must be a string`);
    this.source = options.source;
    this.command = options.command ?? ["sh"];
    this.parameterFiles = options.parameterFiles ?? true;
    if (!this.command.length) throw new ValidationError(`template "${options.name}": command must name an interpreter`);
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
    tmpl.script = compact({ ...container, image: container?.image ?? "busybox:1.36", command: [...this.command], source: this.source });
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

const FIELD_ORDER = [
  "name",
  "inputs",
  "outputs",
  "metadata",
  "steps",
  "dag",
  "container",
  "script",
  "suspend",
  "resource",
];

/** Puts template fields in a stable, readable order (name first). */
export function orderTemplate(t: ArgoTemplate): ArgoTemplate {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if ((t as unknown as Record<string, unknown>)[k] !== undefined) out[k] = (t as unknown as Record<string, unknown>)[k];
  for (const [k, v] of Object.entries(t)) if (!(k in out) && v !== undefined) out[k] = v;
  return out as unknown as ArgoTemplate;
}
