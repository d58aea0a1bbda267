/**
 * Arguments that take the output of a step that did not run. Argo v4 (workflow/controller/
 * scope.go markAbsentOptionalArgs, workflow/common/util.go ProcessArgs): a skipped or omitted
 * producer's declared output parameters resolve to their `valueFrom.default`; one without a
 * default is *absent*. An argument whose value is exactly one reference to an absent output
 * counts as not supplied, so the input's own default applies; without one the node fails,
 * saying why. A value that only contains such a reference (`x-{{…}}`) still fails to resolve.
 */
import type { Arguments } from "../argo/model.ts";

/** Stands for an absent argument until the input it feeds is bound. */
export const ABSENT_ARGUMENT = "\u0000opflow:absent-optional-output\u0000";

/**
 * `step` with each argument parameter that is a pure reference to one of `absent` replaced by
 * {@link ABSENT_ARGUMENT}. `step` itself is not changed.
 *
 * @example
 * ```ts
 * markAbsentArguments({ arguments: { parameters: [{ name: "m", value: "{{tasks.p.outputs.parameters.msg}}" }] } },
 *   new Set(["tasks.p.outputs.parameters.msg"])).arguments.parameters[0].value; // ABSENT_ARGUMENT
 * ```
 */
export function markAbsentArguments<T extends { arguments?: Arguments }>(step: T, absent: ReadonlySet<string>): T {
  const params = step.arguments?.parameters;
  if (absent.size === 0 || !params) return step;
  let changed = false;
  const marked = params.map((p) => {
    const v = typeof p.value === "string" ? p.value.trim() : undefined;
    if (!v || !v.startsWith("{{") || !v.endsWith("}}")) return p;
    const key = v.slice(2, -2).trim();
    if (key.includes("{{") || key.includes("}}") || !absent.has(key)) return p;
    changed = true;
    return { ...p, value: ABSENT_ARGUMENT };
  });
  return changed ? { ...step, arguments: { ...step.arguments, parameters: marked } } : step;
}
