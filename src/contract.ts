/**
 * The runtime contract of a template (DESIGN.md), shared by containers, local processes and
 * TypeScript OPs run in-process. Pure types and constants: definitions (`op/`) and runtimes
 * (`debug/`, `executors/`) both depend on this file and on nothing of each other.
 *
 * Layout under a step's root (`/tmp` in a container, the step's directory locally):
 *
 * | what                 | where                                   |
 * | -------------------- | --------------------------------------- |
 * | input parameter `p`  | env var + `<root>/inputs/parameters/p`  |
 * | input artifact `a`   | `<root>/inputs/artifacts/a`             |
 * | output parameter `p` | `<root>/outputs/parameters/p`           |
 * | output artifact `a`  | `<root>/outputs/artifacts/a`            |
 * | progress             | `N/M` lines in `$ARGO_PROGRESS_FILE`    |
 * | failure class        | exit code ({@link ExitCode})            |
 */
export { ExitCode } from "./errors.ts";

/** Root of the runtime contract inside a container. */
export const CONTAINER_ROOT = "/tmp";

/** Environment variable that names the progress file (Argo's). */
export const PROGRESS_FILE_ENV = "ARGO_PROGRESS_FILE";

/**
 * Environment variables an OP template's pod gets so that the OP can read where it runs:
 * the workflow's name and the step's key (empty when the step has none).
 */
export const OPFLOW_ENV = { workflowName: "OPFLOW_WORKFLOW_NAME", stepKey: "OPFLOW_STEP_KEY" } as const;

/** The {@link OPFLOW_ENV} variables of an environment (what an in-process OP is handed of it). */
export function opflowEnvOf(env: Readonly<Record<string, string | undefined>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.values(OPFLOW_ENV)) {
    const v = env?.[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * The line a pod's shell wrapper prints on stderr when a template's pre or post script failed
 * (`opflow: the pre script of template "x" failed (exit code 3)`); the local engine makes its
 * text the failed step's message, whichever executor ran the pod.
 */
export function prePostFailure(log: string): string | undefined {
  const re = /^opflow: (the (?:pre|post) script of template "[^"\n]*" failed \(exit code \d+\))$/gm;
  let last: string | undefined;
  for (let m = re.exec(log); m; m = re.exec(log)) last = m[1];
  return last;
}

/** Environment variable that holds the contract root for an OP runner. */
export const ROOT_ENV = "OPFLOW_ROOT";

/** Paths of the contract relative to a root. */
export const contractPaths = {
  inputParameter: (name: string): string => `inputs/parameters/${name}`,
  inputArtifact: (name: string): string => `inputs/artifacts/${name}`,
  outputParameter: (name: string): string => `outputs/parameters/${name}`,
  outputArtifact: (name: string): string => `outputs/artifacts/${name}`,
} as const;

/** What an in-process task is given by the engine. */
export interface InProcessTask {
  /** Contract root: inputs are laid out under it before the call; outputs are read after. */
  readonly root: string;
  /** Input parameter values, as the strings Argo would pass. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Template name, for messages. */
  readonly template: string;
  /** Reports progress (`N/M`). */
  progress(done: number, total: number): void;
  /** Appends text to the step's log (stdout and stderr of a process). */
  log(text: string): void;
  /** Aborted when the step times out or the engine stops. */
  readonly signal: AbortSignal;
  /** The pod's environment, tags resolved ({@link OPFLOW_ENV} among it). @default none */
  readonly env?: Readonly<Record<string, string>>;
}

/** What an in-process task returns: the exit code it would have had as a process. */
export interface InProcessResult {
  readonly exitCode: number;
  /** Failure message (Argo's node message). */
  readonly message?: string;
  /** What the process would have printed on stdout (Argo's `outputs.result` for scripts). */
  readonly result?: string;
}

/**
 * A template that the local engine may run in-process instead of spawning its command
 * (the "local bindings" of DESIGN.md). Must obey the same contract as the container.
 */
export type LocalBinding = ((task: InProcessTask) => Promise<InProcessResult>) & {
  /** The module file whose code it runs: its source hash goes into the digests of the steps it runs. */
  readonly codeFile?: string;
};

/** Template name → in-process implementation. */
export type LocalBindings = ReadonlyMap<string, LocalBinding>;

/**
 * Input parameter that carries a step's `key` (dflow's key): the local engine names the
 * step's directory after it and reuses keyed steps; on Argo it keys memoization.
 */
export const KEY_PARAMETER = "opflow-key";

/**
 * Template annotation that opts a template's steps into the local engine's content-hash cache
 * (`cache: true` on a template): value `"true"`.
 */
export const CACHE_ANNOTATION = "opflow.dev/cache";

/**
 * Annotation of a container or script template holding the JSON Schemas of its output
 * parameters (`{"<name>": <schema>, …}`), or of an HTTP template holding the schema of its
 * response body (under {@link RESULT_SCHEMA_KEY}). The local engine checks each output parameter it
 * reads against its schema and fails the node when one does not match; templates in any
 * language so get the checks an OP's runner makes. Argo ignores it.
 */
export const OUTPUT_SCHEMAS_ANNOTATION = "opflow.dev/output-schemas";

/**
 * How an artifact argument's `subPath` starts when the part it addresses is missing at run
 * time (a nested artifact's key or index read from its catalog): the rest says which key of
 * which artifact. The local engine fails the node with that text; Argo's message shows it.
 */
export const MISSING_PART_PREFIX = "opflow-missing:";

/**
 * The key of {@link OUTPUT_SCHEMAS_ANNOTATION} that holds the schema of `outputs.result` (an
 * HTTP template's response body); other keys name output parameters. (`$` is no parameter name.)
 */
export const RESULT_SCHEMA_KEY = "$result";
