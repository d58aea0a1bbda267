/** `ContainerTemplate`: Argo's plain container template (image, command, args). */
import type { Template as ArgoTemplate } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";
import type { Signature } from "../op/signature.ts";
import { compact } from "./compact.ts";
import { orderTemplate } from "./order.ts";
import type { PodTemplateOptions } from "./pod.ts";
import { type ContractPathOverrides, PodTemplate, type Words } from "./pod-template.ts";
import type { TemplateCompiler } from "./template.ts";

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
  readonly paths?: ContractPathOverrides;
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
