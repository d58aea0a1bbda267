/**
 * The opflow error hierarchy. Every error opflow raises on purpose is an {@link OpflowError};
 * messages name the object, the field path and the rule, with the offending value.
 */
export class OpflowError extends Error {
  override readonly name: string = "OpflowError";
}

/**
 * One problem, as data: where it is, which rule it breaks, the message for people and the
 * offending value. {@link ValidationError} and {@link CompileError} carry a list of them.
 */
export interface Issue {
  /**
   * Where the problem is, outermost first: for a compiled workflow the template's manifest
   * name, then fields and names inside it (`["main", "tasks", "b", "depends"]`); for a value,
   * the field path (`["config", "size"]`). Empty when not known.
   */
  readonly path: readonly (string | number)[];
  /** The rule broken, a stable code such as `"unknown-dependency"`, `"cycle"`, `"limit"`, `"schema"`. */
  readonly rule: string;
  /** The message: names the object, the field and the rule, with the offending value. */
  readonly message: string;
  /** The offending value, when there is one. */
  readonly value?: unknown;
}

/**
 * Formats issues into one message: the message of a single issue as it is, several as a
 * count followed by one line each.
 */
export function formatIssueList(issues: readonly Issue[]): string {
  if (issues.length === 1) return (issues[0] as Issue).message;
  return `${issues.length} problems:\n${issues.map((i) => `  - ${i.message}`).join("\n")}`;
}

/** An error listing {@link Issue}s; its message is formatted from them. */
export abstract class IssuesError extends OpflowError {
  /** Every problem found, in the order found. */
  readonly issues: readonly Issue[];

  /**
   * @param problem - the issues, or a message (then one issue with an empty path and rule
   *   `"invalid"`, unless `options.issues` gives the issues the message summarises).
   */
  constructor(problem: string | readonly Issue[], options?: ErrorOptions & { readonly issues?: readonly Issue[] }) {
    const list = typeof problem === "string" ? (options?.issues ?? [{ path: [], rule: "invalid", message: problem }]) : problem;
    super(typeof problem === "string" ? problem : formatIssueList(problem), options);
    this.issues = list;
  }
}

/** A value does not match its declared signature or schema. */
export class ValidationError extends IssuesError {
  override readonly name: string = "ValidationError";
}

/**
 * A graph cannot be turned into a valid Argo manifest. Compiling a workflow gathers every
 * problem (names, dangling references, dependency cycles, Argo's limits …) and throws once:
 * `issues` lists them all.
 */
export class CompileError extends IssuesError {
  override readonly name: string = "CompileError";
}

/** A manifest or expression cannot be evaluated by the local engine. */
export class EngineError extends OpflowError {
  override readonly name: string = "EngineError";
}

/** An Argo expression or `{{…}}` tag cannot be parsed or evaluated. */
export class ExpressionError extends OpflowError {
  override readonly name: string = "ExpressionError";
}

/** Artifact storage failed (names endpoint, bucket and key where known). */
export class StorageError extends OpflowError {
  override readonly name: string = "StorageError";
}

/** Submitting to, or querying, a cluster failed. */
export class SubmitError extends OpflowError {
  override readonly name: string = "SubmitError";
}

/** An OP package cannot be read by `opflow ops` (names the file and line where known). */
export class CatalogError extends OpflowError {
  override readonly name: string = "CatalogError";
}

/**
 * Raised by an OP's `execute` for a failure that may pass when tried again (a flaky network,
 * a busy license server). Retried under the template's `retryStrategy`.
 */
export class TransientError extends OpflowError {
  override readonly name: string = "TransientError";
}

/** Raised by an OP's `execute` for a failure that retrying cannot fix. Never retried. */
export class FatalError extends OpflowError {
  override readonly name: string = "FatalError";
}

/**
 * Exit codes of the runtime contract (DESIGN.md): how a process tells the engine, or Argo's
 * `retryStrategy.expression`, which class of failure it had.
 */
export const ExitCode = {
  /** The OP succeeded. */
  Success: 0,
  /** An unclassified failure (an uncaught error in `execute`). */
  Failure: 1,
  /** Inputs or outputs did not match their signature. */
  Validation: 3,
  /** A {@link TransientError}: worth retrying. */
  Transient: 75,
  /** A {@link FatalError}: never retried. */
  Fatal: 76,
} as const;
