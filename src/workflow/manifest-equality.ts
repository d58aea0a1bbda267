/**
 * What Argo treats as the same manifest, for round-trip checks: templates in any order, named
 * lists (parameters, artifacts) in any order, keys in any order, scalars Argo reads as strings
 * as strings, a DAG task's `dependencies: [a, b]` as `depends: "a && b"`, and templates no
 * step, task, hook (of a step or the workflow) or exit handler reaches left out.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const STRINGLY = new Set(["value", "default", "count", "start", "end", "limit", "factor", "activeDeadlineSeconds", "parallelism"]);

/** The manifest in a canonical form: two manifests Argo runs alike give equal forms. */
export function canonicalManifest(manifest: unknown): unknown {
  const m = structuredClone(manifest) as { metadata?: Obj; spec?: { templates?: Obj[]; entrypoint?: string; onExit?: string; hooks?: Record<string, Obj> } };
  const spec = m.spec ?? {};
  const templates = spec.templates ?? [];
  const byName = new Map(templates.map((t) => [t["name"] as string, t]));
  const reached = new Set<string>();
  const visit = (name: string | undefined): void => {
    if (name === undefined || reached.has(name)) return;
    reached.add(name);
    const t = byName.get(name);
    if (!t) return;
    const steps = [...(((t["steps"] as Obj[][] | undefined) ?? []).flat()), ...((((t["dag"] as Obj | undefined)?.["tasks"] as Obj[] | undefined) ?? []))];
    for (const s of steps) {
      visit(s["template"] as string | undefined);
      visit(s["onExit"] as string | undefined);
      for (const h of Object.values((s["hooks"] as Record<string, Obj> | undefined) ?? {})) visit(h["template"] as string | undefined);
    }
  };
  visit(spec.entrypoint);
  visit(spec.onExit);
  for (const h of Object.values(spec.hooks ?? {})) visit(h["template"] as string | undefined);
  spec.templates = templates.filter((t) => reached.has(t["name"] as string));
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) {
      const items = v.map((x) => walk(x));
      if ((key === "parameters" || key === "artifacts" || key === "templates") && items.every((x) => isObj(x) && typeof x["name"] === "string")) {
        return [...(items as Obj[])].sort((a, b) => String(a["name"]).localeCompare(String(b["name"])));
      }
      return items;
    }
    if (isObj(v)) {
      const o: Obj = { ...v };
      if (Array.isArray(o["dependencies"])) {
        const deps = (o["dependencies"] as string[]).join(" && ");
        o["depends"] = typeof o["depends"] === "string" ? `(${o["depends"]}) && ${deps}` : deps;
        delete o["dependencies"];
      }
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, walk(o[k], k)]),
      );
    }
    if ((typeof v === "number" || typeof v === "boolean") && STRINGLY.has(key ?? "")) return String(v);
    if (typeof v === "string" && key === "source") return v.trimEnd();
    return v;
  };
  return walk(m);
}
