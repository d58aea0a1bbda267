/**
 * `ManifestTemplate`: an Argo template kept exactly as written in a manifest (what
 * `Workflow.fromManifest` does with container, script, resource and other leaf templates, and
 * with graph templates using fields Steps and DAG do not express). Its declared inputs and
 * outputs become a string-typed signature, so steps that call it are checked by name.
 */
import { z } from "zod";
import type { Template as ArgoTemplate } from "../argo/model.ts";
import { KEY_PARAMETER, type LocalBinding } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import { type Signature, artifact, param } from "../op/signature.ts";
import { Template, type TemplateCompiler } from "./template.ts";

/** Options of a {@link ManifestTemplate}. */
export interface ManifestTemplateOptions {
  /**
   * Templates the verbatim template names (in steps, tasks, hooks): collected with it. A
   * function is called when the compiler collects them (templates that call each other).
   * @default none
   */
  readonly calls?: readonly Template[] | (() => readonly Template[]);
  /**
   * An in-process implementation for the local engine (an OP template's binding, from the
   * `bindings` of the `prepare()` that made the manifest). @default none: the engine runs the
   * template's command
   */
  readonly binding?: LocalBinding;
  /**
   * Specs to read some output parameters by instead of as strings (e.g. the OP's outputs, for a
   * template an OP made: step values then come back typed). Each names an output parameter of
   * the template; other entries (artifacts) are ignored.
   * @default every output parameter is a string
   */
  readonly outputs?: Signature;
}

/**
 * An Argo template rendered verbatim. Its signature is read from its `inputs` and `outputs`:
 * every parameter is a string (optional when it has a default), every artifact a path
 * (optional when marked so). The step key input (`opflow-key`) is left out of the signature:
 * steps pass it through their `key` option.
 *
 * @example
 * const hello = new ManifestTemplate({ name: "hello", container: { image: "busybox", command: ["echo", "hi"] } });
 */
export class ManifestTemplate extends Template<Signature, Signature> {
  private readonly argo: ArgoTemplate;
  private readonly called: readonly Template[] | (() => readonly Template[]);
  private readonly binding: LocalBinding | undefined;

  constructor(argo: ArgoTemplate, options: ManifestTemplateOptions = {}) {
    if (!argo || typeof argo !== "object" || typeof argo.name !== "string") {
      throw new ValidationError(`ManifestTemplate: expects an Argo template object with a name, got ${JSON.stringify(argo)?.slice(0, 80)}`);
    }
    super(argo.name, signatureOf(argo, "inputs"), typedOutputs(argo, options.outputs), {});
    this.argo = structuredClone(argo);
    this.called = options.calls ?? [];
    this.binding = options.binding;
  }

  /** The Argo template as given. */
  get manifest(): ArgoTemplate {
    return structuredClone(this.argo);
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    return [{ ...structuredClone(this.argo), name: compiler.nameOf(this) }];
  }

  override localBinding(): LocalBinding | undefined {
    return this.binding;
  }

  override references(): Template[] {
    return [...(typeof this.called === "function" ? this.called() : this.called)];
  }
}

function signatureOf(argo: ArgoTemplate, io: "inputs" | "outputs"): Signature {
  const sig: Record<string, Signature[string]> = {};
  const where = `template "${argo.name}": ${io}`;
  const section = argo[io] as { parameters?: unknown; artifacts?: unknown } | undefined;
  const list = (v: unknown, field: string): { name?: unknown; default?: unknown; value?: unknown; optional?: unknown; valueFrom?: unknown }[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new ValidationError(`${where}.${field} must be a list, got ${JSON.stringify(v)}`);
    return v as { name?: unknown }[];
  };
  for (const p of list(section?.parameters, "parameters")) {
    if (typeof p.name !== "string") throw new ValidationError(`${where}.parameters: every parameter needs a name, got ${JSON.stringify(p)}`);
    if (p.name === KEY_PARAMETER) continue;
    // An input with a default or a value of its own needs no argument.
    const optional = io === "inputs" && (p.default !== undefined || p.value !== undefined || p.valueFrom !== undefined);
    sig[p.name] = optional ? param(z.string().optional()) : param(z.string());
  }
  for (const a of list(section?.artifacts, "artifacts")) {
    if (typeof a.name !== "string") throw new ValidationError(`${where}.artifacts: every artifact needs a name, got ${JSON.stringify(a)}`);
    // An input artifact with a source of its own (raw, s3, http, …) needs no argument.
    const own = Object.keys(a).some((k) => !["name", "path", "optional", "mode", "archive", "subPath", "recurseMode", "deleted", "globalName", "archiveLogs"].includes(k));
    sig[a.name] = a.optional === true || (io === "inputs" && own) ? artifact({ optional: true }) : artifact();
  }
  return sig;
}

/** The output signature of `argo`, with the parameters `typed` gives read by its specs. */
function typedOutputs(argo: ArgoTemplate, typed: Signature | undefined): Signature {
  const sig: Record<string, Signature[string]> = { ...signatureOf(argo, "outputs") };
  for (const [name, spec] of Object.entries(typed ?? {})) {
    if (spec.kind !== "parameter") continue;
    if (sig[name]?.kind !== "parameter") {
      throw new ValidationError(`template "${argo.name}": option outputs: "${name}" is no output parameter of the template; it has: ${Object.keys(sig).filter((n) => sig[n]?.kind === "parameter").join(", ") || "none"}`);
    }
    sig[name] = spec;
  }
  return sig;
}
