/**
 * Slices (dflow's `Slices`): one fanned-out step processes one item — or a group of items —
 * of list inputs, and its outputs are stacked back into lists in item order.
 *
 * This file holds what the template and the OP runner share: the slice specification that
 * travels to the container in the `OPFLOW_SLICES` environment variable, and the input that
 * carries each child's item indices.
 */
import { type Duration, parseDuration } from "../duration.ts";
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
  /**
   * Groups take the items in a seeded random order (see {@link shuffledOrder}): position `p`
   * of the loop is item `order[p]`. Stacked parameters are then written as `[index, value]`
   * pairs, which the consumer puts back in item order. @default items in order
   */
  readonly shuffle?: { readonly seed: number };
  /** Time limit of a group's pool, in milliseconds: items not done by then fail the step. @default none */
  readonly poolTimeoutMs?: number;
  /**
   * A failed item fails the step at once (true), or the group's other items still run and
   * the step succeeds with the failed items' outputs left out (false). @default true
   */
  readonly raiseForGroup?: boolean;
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
  /**
   * Spread the items over the groups in a random order (dflow's `shuffle`), e.g. to balance
   * groups when heavy items are adjacent. The order is drawn from `randomSeed`, so a re-run
   * makes the same groups. Outputs stay in item order. With `groupSize` > 1, on OP templates.
   * @default false
   */
  readonly shuffle?: boolean;
  /** Seed of the `shuffle` order (dflow's `random_seed`). @default 0 */
  readonly randomSeed?: number;
  /**
   * Time limit of a group's pool (dflow's `pool_timeout`): items not done when it expires fail
   * the step. On OP templates with `poolSize` > 1 (the runner enforces it; Argo has no pool
   * inside a pod). @default none
   */
  readonly poolTimeout?: Duration;
  /**
   * Whether a failed item fails its group's step (dflow's `raise_for_group`). With `false`, the
   * other items of the group still run and the step succeeds; a failed item's stacked
   * parameters are `null` and its stacked artifacts absent, and the log (or the failed node)
   * names it. With `groupSize` > 1, on every kind of template (where the manifest slices, each
   * item runs with `continueOn`). (dflow's default is `false`; opflow's keeps a failure
   * visible.) @default true
   */
  readonly raiseForGroup?: boolean;
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
  if (o.randomSeed !== undefined && (!Number.isInteger(o.randomSeed) || o.randomSeed < 0 || o.randomSeed > 0xffffffff)) {
    throw new ValidationError(`${where}: randomSeed must be an integer from 0 to 4294967295, got ${JSON.stringify(o.randomSeed)}`);
  }
  if (o.randomSeed !== undefined && !o.shuffle) throw new ValidationError(`${where}: randomSeed seeds shuffle; set shuffle: true as well`);
  if (o.shuffle && (o.groupSize ?? 1) === 1) throw new ValidationError(`${where}: shuffle spreads items over groups; give groupSize > 1 as well`);
  if (o.poolTimeout !== undefined) {
    parseDuration(o.poolTimeout, `${where}: poolTimeout`);
    if ((o.poolSize ?? 1) === 1) throw new ValidationError(`${where}: poolTimeout limits a group's pool; give poolSize > 1 as well`);
  }
  if (o.raiseForGroup !== undefined && typeof o.raiseForGroup !== "boolean") throw new ValidationError(`${where}: raiseForGroup must be true or false, got ${JSON.stringify(o.raiseForGroup)}`);
  if (o.raiseForGroup === false && (o.groupSize ?? 1) === 1) throw new ValidationError(`${where}: raiseForGroup: false lets a group go on past a failed item; give groupSize > 1 as well`);
}

/**
 * The order in which shuffled slices take the items: a permutation of `0..n-1` drawn from
 * `seed` (Fisher–Yates over mulberry32), the same on every machine and every run.
 *
 * @example
 * shuffledOrder(5, 0) // the same permutation of [0, 1, 2, 3, 4] every time
 */
export function shuffledOrder(n: number, seed: number): number[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
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
    ...(v.shuffle ? { shuffle: { seed: Number(v.shuffle.seed) >>> 0 } } : {}),
    ...(typeof v.poolTimeoutMs === "number" && v.poolTimeoutMs > 0 ? { poolTimeoutMs: v.poolTimeoutMs } : {}),
    ...(v.raiseForGroup === false ? { raiseForGroup: false } : {}),
  };
}
