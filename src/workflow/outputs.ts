/**
 * A workflow's results as its entrypoint declares them: the root node's outputs decoded by the
 * entrypoint's output signature — parameters as typed values (numbers as numbers), artifacts
 * as {@link OutputArtifact} references that download with one call. What `wf.run()`,
 * `submit().wait()` and `handle.outputs()` give.
 */
import type { z } from "zod";
import type { Artifact } from "../argo/model.ts";
import { looseValues, type ArgoStepIO, type StepValueDecoder } from "../argo/query.ts";
import { downloadArtifact, type DownloadArtifactOptions } from "../artifacts/transfer.ts";
import { decodeParameter } from "../op/parameter-codec.ts";
import type { ArtifactSpec, OptionalKeys, ParamSpec, RequiredKeys, Signature } from "../op/signature.ts";
import type { StorageClient } from "../storage/client.ts";
import { ValidationError } from "../errors.ts";

/** Gives the store an artifact is read from (called at the first download). */
export type StorageSource = () => StorageClient | Promise<StorageClient>;

/**
 * An output artifact of a workflow: its reference (`artifact`, usable as an input artifact of
 * another workflow) and {@link download}.
 *
 * @example
 * const { outputs } = await wf.run();
 * await outputs.report.download("report.txt");
 */
export class OutputArtifact {
  constructor(
    /** The output's name. */
    readonly name: string,
    /** Location only (`s3.key`, …), ready to pass as an artifact argument. */
    readonly artifact: Artifact,
    private readonly storage: StorageSource,
  ) {}

  /** The object key in the artifact store. */
  get key(): string | undefined {
    return this.artifact.s3?.key;
  }

  /**
   * Downloads the artifact to `dest` (a file or a directory, as the OP wrote it) and returns
   * the absolute path.
   *
   * @throws ValidationError when the artifact is not in the artifact store (raw, http, git …).
   */
  async download(dest: string, options: DownloadArtifactOptions = {}): Promise<string> {
    const key = this.key;
    if (key === undefined) {
      throw new ValidationError(`output artifact "${this.name}": download reads the artifact store (s3.key), but this artifact is ${Object.keys(this.artifact).filter((k) => k !== "name").join(", ") || "empty"}`);
    }
    const storage = await this.storage();
    const done = await downloadArtifact(storage, key, dest, options);
    return done.paths[0] ?? done.dest;
  }

  /** The reference as JSON (for `--json`). */
  toJSON(): Artifact {
    return this.artifact;
  }
}

/** The value of one output of the entrypoint. */
export type OutputValue<S> = S extends ParamSpec<infer Z, boolean> ? z.output<Z> : S extends ArtifactSpec ? OutputArtifact : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The workflow's outputs typed from the entrypoint's output signature `O`: parameters as
 * their schema's values, artifacts as {@link OutputArtifact}; optional outputs may be absent.
 */
export type WorkflowOutputs<O extends Signature> = Simplify<
  { -readonly [K in RequiredKeys<O>]: OutputValue<O[K]> } & { -readonly [K in OptionalKeys<O>]?: OutputValue<O[K]> }
>;

/**
 * Decodes outputs in Argo's shape by signature `O`. Without a signature, parameters are read
 * as JSON where they parse (`"4.5"` → 4.5) and kept as text otherwise.
 */
export function decodeOutputs<O extends Signature>(signature: O | undefined, io: ArgoStepIO, storage: StorageSource): WorkflowOutputs<O> {
  const out: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(io.parameters)) {
    const spec = signature?.[name];
    out[name] = spec?.kind === "parameter" ? decodeParameter(spec.schema, text) : decodeLoose(text);
  }
  for (const [name, art] of Object.entries(io.artifacts)) out[name] = new OutputArtifact(name, art, storage);
  return out as WorkflowOutputs<O>;
}

function decodeLoose(text: string): unknown {
  return looseValues(undefined, { v: text })["v"];
}

/**
 * Decodes a step's output parameters by its template's output signature (by manifest template
 * name), loosely where the template is not known (see {@link looseValues}).
 */
export function signatureValues(signatures: ReadonlyMap<string, Signature>): StepValueDecoder {
  return (templateName, parameters) => {
    const sig = templateName !== undefined ? signatures.get(templateName) : undefined;
    const out = looseValues(templateName, parameters);
    for (const [name, text] of Object.entries(parameters)) {
      const spec = sig?.[name];
      if (spec?.kind === "parameter") out[name] = decodeParameter(spec.schema, text);
    }
    return out;
  };
}
