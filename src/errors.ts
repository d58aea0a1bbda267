/**
 * The opflow error hierarchy. Every error opflow raises on purpose is an {@link OpflowError};
 * messages name the object, the field path and the rule, with the offending value.
 */
export class OpflowError extends Error {
  override readonly name: string = "OpflowError";
}

/** A value does not match its declared signature or schema. */
export class ValidationError extends OpflowError {
  override readonly name: string = "ValidationError";
}

/** A graph cannot be turned into a valid Argo manifest. */
export class CompileError extends OpflowError {
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
