/**
 * Slices (dflow's `Slices`): one fanned-out step processes one item — or a group of items —
 * of list inputs, and its outputs are stacked back into lists in item order.
 *
 * This file holds what the template and the OP runner share: the slice specification that
 * travels to the container in the `OPFLOW_SLICES` environment variable, and the input that
 * carries each child's item indices.
 */
import { ValidationError } from "../errors.ts";

/** Environment variable holding the {@link SliceSpec} as JSON. */
export const SLICES_ENV = "OPFLOW_SLICES";

/** Input parameter holding a child's item index, or list of indices (with `groupSize`). */
export const SLICE_INDICES_PARAMETER = "opflow-slice-indices";

/** Input parameter holding the key prefix under which stacked output artifacts are saved. */
export const STACK_KEY_PARAMETER = "opflow-stack-key";

/** How a template is sliced. */
export interface SliceSpec {
  /** Input parameters that arrive as whole lists; each item gets its element. */
  readonly parameters: readonly string[];
  /** Input artifacts that arrive as list artifacts; each item gets its item. */
  readonly artifacts: readonly string[];
  /** Items processed at once inside one step. @default 1 */
  readonly poolSize: number;
  /** Give each item a working directory of its own (`<workdir>/<index>`). @default false */
  readonly createDir: boolean;
  /** Sliced artifacts arrive as only this step's items (Argo `subPath`). @default false */
  readonly subPath: boolean;
}

/** Options of slicing a step, as users write them. */
export interface SliceOptions {
  /**
   * Items per step: each child processes this many consecutive items (the last may have fewer).
   * @default 1
   */
  readonly groupSize?: number;
  /**
   * Items processed concurrently inside one step (with `groupSize` > 1).
   * @default 1 (one after another)
   */
  readonly poolSize?: number;
  /**
   * Hand each step only its own item of sliced artifacts (Argo `subPath`), instead of the
   * whole list. Not with `groupSize` > 1, where each step downloads the whole list.
   * @default true when `groupSize` is 1, false otherwise
   */
  readonly subPath?: boolean;
  /**
   * Give each item its own working directory (`<workdir>/<index>`), so that items of a group
   * writing the same relative file do not collide.
   * @default false
   */
  readonly createDir?: boolean;
}

/** Checks slice options, naming the step. */
export function checkSliceOptions(where: string, o: SliceOptions): void {
  const positive = (name: string, v: number | undefined): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ValidationError(`${where}: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  positive("groupSize", o.groupSize);
  positive("poolSize", o.poolSize);
  if (o.subPath && (o.groupSize ?? 1) > 1) {
    throw new ValidationError(`${where}: subPath hands each step one item; it cannot be combined with groupSize ${o.groupSize}`);
  }
  if ((o.poolSize ?? 1) > 1 && (o.groupSize ?? 1) === 1) {
    throw new ValidationError(`${where}: poolSize runs the items of a group concurrently; give groupSize > 1 as well`);
  }
}

/** Parses the indices a child was given: `3` or `[3, 4]`. */
export function parseSliceIndices(text: string): number[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ValidationError(`${SLICE_INDICES_PARAMETER}: expected an index or a JSON list of indices, got ${JSON.stringify(text)}`);
  }
  const list = Array.isArray(v) ? v : [v];
  if (!list.length || !list.every((i) => Number.isInteger(i) && (i as number) >= 0)) {
    throw new ValidationError(`${SLICE_INDICES_PARAMETER}: expected non-negative integer indices, got ${JSON.stringify(text)}`);
  }
  return list as number[];
}

/** Parses the slice specification from the environment value. */
export function parseSliceSpec(text: string): SliceSpec {
  let v: Partial<SliceSpec>;
  try {
    v = JSON.parse(text) as Partial<SliceSpec>;
  } catch {
    throw new ValidationError(`${SLICES_ENV}: not valid JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return {
    parameters: v.parameters ?? [],
    artifacts: v.artifacts ?? [],
    poolSize: v.poolSize ?? 1,
    createDir: v.createDir ?? false,
    subPath: v.subPath ?? false,
  };
}
