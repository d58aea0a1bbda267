/**
 * `PodTemplate`: the base of templates that run one container (container, script and OP
 * templates). It lays inputs and outputs out at the runtime contract's paths and renders the
 * pod fields shared by every such template.
 */
import type { EnvVar, Template as ArgoTemplate } from "../argo/model.ts";
import { z } from "zod";
import { CONTAINER_ROOT, OUTPUT_SCHEMAS_ANNOTATION, contractPaths } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import { type Operand, renderValue } from "../expr/tree.ts";
import { type Signature, splitSignature } from "../op/signature.ts";
import { compact, nonEmpty } from "./compact.ts";
import { type PodTemplateOptions, renderPod } from "./pod.ts";
import { type InputRefs, Template, type TemplateCompiler, inputRefs } from "./template.ts";

/** A command-line word: literal text or an expression (rendered as an Argo tag). */
export type Word = Operand<string> | Operand<number> | Operand<unknown>;

/** Either a list of words or a function of the template's input references returning one. */
export type Words<I extends Signature> = readonly Word[] | ((inputs: InputRefs<I>) => readonly Word[]);

/** Paths of artifacts and output parameters inside the container, by name, replacing the contract's. */
export interface ContractPathOverrides {
  readonly inputs?: Readonly<Record<string, string>>;
  readonly outputs?: Readonly<Record<string, string>>;
}

/** The runtime contract's path of an input or output inside a container. */
export function contractPath(side: "inputs" | "outputs", io: "parameters" | "artifacts", name: string): string {
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

/**
 * The JSON Schemas of a template's output parameters, as the text of the
 * {@link OUTPUT_SCHEMAS_ANNOTATION} annotation; undefined when no output has a checkable schema.
 */
export function outputSchemas(outputs: Signature): string | undefined {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of splitSignature(outputs).parameters) {
    if (spec.big) continue;
    let schema: Record<string, unknown>;
    try {
      schema = z.toJSONSchema(spec.schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    } catch {
      continue; // not expressible as JSON Schema (e.g. a refinement): left to the consumer
    }
    delete schema.$schema;
    if (Object.keys(schema).length) out[name] = schema;
  }
  return Object.keys(out).length ? JSON.stringify(out) : undefined;
}

/** Base of templates that run one container. */
export abstract class PodTemplate<I extends Signature, O extends Signature> extends Template<I, O> {
  protected readonly pod: PodTemplateOptions;
  protected readonly paths: ContractPathOverrides | undefined;

  constructor(name: string, inputs: I, outputs: O, options: PodTemplateOptions & { paths?: ContractPathOverrides }) {
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

  /**
   * Whether the engine that reads this template's outputs checks them against the output
   * schemas (carried by the {@link OUTPUT_SCHEMAS_ANNOTATION} annotation). Templates whose
   * runner validates its own outputs (OP templates) say no.
   */
  protected checksOutputsWhenRead(): boolean {
    return true;
  }

  protected renderBase(compiler: TemplateCompiler, env: EnvVar[]): { tmpl: ArgoTemplate; container: ArgoTemplate["container"] } {
    const { container, pod } = renderPod(this.pod, env);
    const schemas = this.checksOutputsWhenRead() ? outputSchemas(this.outputs) : undefined;
    const tmpl: ArgoTemplate = compact({
      name: compiler.nameOf(this),
      inputs: nonEmpty(this.renderInputs((io, n) => this.inputPath(io, n), compiler)),
      outputs: nonEmpty(this.renderFileOutputs(compiler, (io, n) => this.outputPath(io, n))),
      ...this.renderCommon(),
      ...pod,
    });
    if (schemas) tmpl.metadata = { ...(tmpl.metadata ?? {}), annotations: { ...(tmpl.metadata?.annotations ?? {}), [OUTPUT_SCHEMAS_ANNOTATION]: schemas } };
    return { tmpl, container };
  }
}
