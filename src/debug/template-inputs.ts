/**
 * Argo substitutes a template's inputs (and the workflow's globals) into the whole template
 * before it uses it (workflow/controller/operator.go executeTemplate → common.ProcessArgs →
 * SubstituteParams over the template's JSON). The engine substitutes step arguments, commands
 * and scripts where it uses them; this applies the same substitution to the fields it reads
 * from the template itself: `timeout`, `activeDeadlineSeconds`, `retryStrategy` (limit,
 * backoff, expression), `dag.target`, the image, `suspend.duration`, `http`, and `annotations`
 * (where the display name comes from). Tags that cannot be resolved yet are kept, as Argo does.
 */
import type { Template } from "../argo/model.ts";
import { substituteTags } from "../expr/tags.ts";
import type { Vars } from "./scope.ts";

/** The annotation that names a node in Argo's UI (pkg/apis/workflow/v1alpha1: TemplateAnnotationDisplayName). */
export const DISPLAY_NAME_ANNOTATION = "workflows.argoproj.io/display-name";

/** Argo's rule for a display name (operator.go `displayNameRegex`). */
const DISPLAY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-.]{0,61}[a-zA-Z0-9]$/;

function deep<T>(value: T, vars: Vars): T {
  if (typeof value === "string") return substituteTags(value, vars, { onMissing: "keep" }) as T;
  if (Array.isArray(value)) return value.map((v) => deep(v, vars)) as T;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = deep(v, vars);
    return out as T;
  }
  return value;
}

/**
 * `tmpl` with `vars` (its inputs and the globals) substituted into the fields the engine reads
 * from it. The template itself is not changed.
 *
 * @example
 * ```ts
 * withInputsApplied({ name: "t", timeout: "{{inputs.parameters.t}}", container: { image: "a" } }, { "inputs.parameters.t": "5s" }).timeout; // "5s"
 * ```
 */
export function withInputsApplied(tmpl: Template, vars: Vars): Template {
  const out: Template = { ...tmpl };
  if (typeof tmpl.timeout === "string") out.timeout = deep(tmpl.timeout, vars);
  if (typeof tmpl.activeDeadlineSeconds === "string") out.activeDeadlineSeconds = deep(tmpl.activeDeadlineSeconds, vars);
  if (tmpl.retryStrategy) out.retryStrategy = deep(tmpl.retryStrategy, vars);
  if (tmpl.dag?.target) out.dag = { ...tmpl.dag, target: deep(tmpl.dag.target, vars) };
  if (tmpl.container?.image) out.container = { ...tmpl.container, image: deep(tmpl.container.image, vars) };
  if (tmpl.script?.image) out.script = { ...tmpl.script, image: deep(tmpl.script.image, vars) };
  if (tmpl.suspend?.duration) out.suspend = { ...tmpl.suspend, duration: deep(tmpl.suspend.duration, vars) };
  if (tmpl.annotations) out.annotations = deep(tmpl.annotations, vars);
  if (tmpl.http) out.http = deep(tmpl.http, vars);
  return out;
}

/**
 * The display name the template's annotation gives its node, or undefined when it has none.
 *
 * @throws Error naming the rule when the (substituted) name breaks Argo's rule; the node then
 *   ends Error, as in Argo.
 */
export function displayNameOf(tmpl: Template): string | undefined {
  const name = tmpl.annotations?.[DISPLAY_NAME_ANNOTATION];
  if (name === undefined || name === "") return undefined;
  if (!DISPLAY_NAME.test(name)) throw new Error(`template "${tmpl.name}": displayName must match the regex ${DISPLAY_NAME.source}, got ${JSON.stringify(name)}`);
  return name;
}
