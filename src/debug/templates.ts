/** The templates of a run: `spec.templates` with `templateDefaults` applied, found by name. */
import type { Template, WorkflowSpec } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import type { Invocation } from "./_context.ts";
import { EndlessRecursion } from "./recursion.ts";

/** Deep merge for `templateDefaults` (the template's own fields win). */
function mergeDefaults<T>(defaults: unknown, value: T): T {
  if (value === undefined) return defaults as T;
  if (typeof defaults !== "object" || defaults === null || Array.isArray(defaults)) return value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = mergeDefaults(out[k], v);
  return out as T;
}

/** The templates a run may invoke. */
export class Templates {
  private readonly byName = new Map<string, Template>();
  private recursion: EndlessRecursion | undefined;

  constructor(private readonly spec: WorkflowSpec) {
    const defaults = spec.templateDefaults;
    for (const t of spec.templates ?? []) this.byName.set(t.name, defaults ? mergeDefaults(defaults, t) : t);
  }

  /** Every template of the run (defaults applied). */
  all(): Iterable<Template> {
    return this.byName.values();
  }

  /** The template an invocation names (inline templates get the defaults too). */
  resolve(inv: Invocation, where: string): Template {
    if (inv.inline) {
      const d = this.spec.templateDefaults;
      return d ? mergeDefaults(d, inv.inline) : inv.inline;
    }
    if (inv.templateRef) {
      throw new EngineError(`${where}: templateRef ${inv.templateRef.name}/${inv.templateRef.template}: WorkflowTemplate not loaded: give its file to the engine (opflow run --templates FILE|DIR, or workflowTemplates in runWorkflow)`);
    }
    if (!inv.template) throw new EngineError(`${where}: names no template (template, inline or templateRef)`);
    const t = this.byName.get(inv.template);
    if (!t) throw new EngineError(`${where}: template "${inv.template}" not found in spec.templates`);
    return t;
  }

  /**
   * The chain by which the template named `name` always calls itself again, branching
   * (recursion.ts), or undefined when its recursion may end or is linear.
   */
  endlessCycle(name: string): readonly string[] | undefined {
    this.recursion ??= new EndlessRecursion(this.byName.values());
    return this.recursion.cycleOf(name);
  }

  /** {@link resolve}, or undefined when it cannot. */
  find(inv: Invocation, where: string): Template | undefined {
    try {
      return this.resolve(inv, where);
    } catch {
      return undefined;
    }
  }
}
