/**
 * What `opflow ops` tells about an OP, read from source or declarations without importing it:
 * the shape of `opflow ops --json`.
 */

/** One input or output of an OP. */
export interface OpFieldInfo {
  /** The field's name in the signature. */
  readonly name: string;
  readonly kind: "parameter" | "artifact";
  /**
   * A parameter's value type as TypeScript writes it (`string`, `number`, `"fast" | "exact"`,
   * `{ x: number; y: number }`, `string[]`); for an artifact its shape: `path`, `path[]`,
   * `Record<string, path>` or `nested`.
   */
  readonly type: string;
  /** The caller (input) or the OP (output) may leave it out: optional schema or artifact, or a default. */
  readonly optional: boolean;
  /** The default as written in the source (`1`, `"ab"`, `[]`); absent when none or unknown (declarations). */
  readonly default?: string;
  /** From `param(…, { description })`, `.describe(…)` or `artifact({ description })`. */
  readonly description?: string;
  /** A parameter stored as an artifact (`bigParameter`). */
  readonly big?: boolean;
}

/** One OP a package exports. */
export interface OpInfo {
  /** The OP's name (its template's name). */
  readonly name: string;
  /** The name the module exports it under. */
  readonly export: string;
  /** `defineOp({...})` or `class … extends OP`. */
  readonly form: "defineOp" | "class";
  readonly description?: string;
  /** Where it is defined (relative to the directory `opflow ops` ran in) and on which line. */
  readonly file: string;
  readonly line: number;
  /** Read from TypeScript source, or from `.d.ts` declarations (which keep no defaults). */
  readonly from: "source" | "declarations";
  readonly inputs: readonly OpFieldInfo[];
  readonly outputs: readonly OpFieldInfo[];
}
