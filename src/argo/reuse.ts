/**
 * Steps of earlier runs to reuse in a new one (dflow's `reuse_step`): the Succeeded keyed steps
 * a caller picked with `querySteps`, optionally with some outputs replaced (dflow's
 * `modify_output_parameter` / `modify_output_artifact`). Both back-ends take them: Argo through
 * its memoization cache, the local engine by taking the outputs over.
 */
import { SubmitError } from "../errors.ts";
import type { Outputs } from "./model.ts";
import { querySteps, type ArgoStep } from "./query.ts";
import type { Workflow } from "./model.ts";

/** Argo's `outputs` of a step as {@link ArgoStep} reports them. */
export function stepOutputs(step: Pick<ArgoStep, "outputs">): Outputs {
  const o = step.outputs;
  const out: Outputs = {};
  const parameters = Object.entries(o.parameters).map(([name, value]) => ({ name, value }));
  const artifacts = Object.entries(o.artifacts).map(([name, a]) => ({ ...a, name }));
  if (parameters.length) out.parameters = parameters;
  if (artifacts.length) out.artifacts = artifacts;
  if (o.result !== undefined) out.result = o.result;
  if (o.exitCode !== undefined) out.exitCode = o.exitCode;
  return out;
}

/**
 * The steps to reuse, one per key: the Succeeded ones among `steps` (a Retry node and its
 * successful attempt carry the same key and outputs; either is taken). Throws for a step without
 * a key, and for a key none of whose steps Succeeded.
 *
 * @example
 * ```ts
 * const byKey = reusableSteps(await old.querySteps({ key: ["iter-0", "iter-1"] }));
 * ```
 */
export function reusableSteps(steps: readonly ArgoStep[]): Map<string, ArgoStep> {
  const out = new Map<string, ArgoStep>();
  const failed = new Map<string, ArgoStep>();
  for (const s of steps) {
    if (!s.key) throw new SubmitError(`reuse: step "${s.displayName}" (${s.id}) has no key; only keyed steps can be reused`);
    if (s.phase === "Succeeded") {
      if (!out.has(s.key)) out.set(s.key, s);
    } else failed.set(s.key, s);
  }
  for (const [key, s] of failed) {
    if (!out.has(key)) throw new SubmitError(`reuse: step "${s.displayName}" (key ${JSON.stringify(key)}) is ${s.phase}; only Succeeded steps can be reused`);
  }
  return out;
}

export { type OutputChanges, modifyOutputs } from "./query.ts";

/** Whether `key` matches `selector`: comma-separated globs, `*` standing for any characters. */
export function keyMatches(selector: string, key: string): boolean {
  return selector
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean)
    .some((glob) => new RegExp(`^${glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(key));
}

/**
 * The Succeeded keyed steps of `workflow` whose key matches `selector` ({@link keyMatches}),
 * to reuse in a resubmission.
 *
 * @example
 * ```ts
 * keyedStepsOf(await client.get("loop-x7k2p"), "iter-0,iter-1");
 * ```
 */
export function keyedStepsOf(workflow: Workflow, selector: string): ArgoStep[] {
  return querySteps(workflow, { phase: "Succeeded" }).filter((s) => s.key !== undefined && keyMatches(selector, s.key));
}
