/**
 * DAG layout within Argo v4's limit of tasks per DAG template (the compiler owns the limits).
 * A DAG with more tasks than that is split, in topological order, into parts: nested DAG
 * templates (`<dag>-part-<k>`) called by one task each (`part-<k>`) from the DAG's own
 * template. Data a part reads from the DAG's inputs or from another part becomes an input of
 * the part; what other parts or the DAG's outputs read becomes an output. Dependencies between
 * parts follow the tasks'.
 */
import type { Artifact, DAGTask, Parameter, Template as ArgoTemplate } from "./model.ts";
import { CompileError } from "../errors.ts";
import { type RefSource, isSourced } from "../expr/refs.ts";
import type { RenderContext } from "../expr/tree.ts";
import type { DagLayout, RenderedDagTask, TemplateCompiler } from "../template/template.ts";
import { orderTask, orderTemplate } from "../template/order.ts";
import { ArgoLimits } from "./limits.ts";

/**
 * Lays a rendered DAG out: one template when its tasks fit (at most `maxTasksPerTemplate`,
 * itself at most Argo's limit), otherwise nested templates.
 */
export function layOutDag(dag: DagLayout, compiler: TemplateCompiler): ArgoTemplate[] {
  const limit = dag.maxTasksPerTemplate ?? ArgoLimits.tasksPerDag;
  if (limit > ArgoLimits.tasksPerDag) {
    throw new CompileError([
      {
        path: ["maxTasksPerTemplate"],
        rule: "limit",
        message: `DAG "${dag.template.name}": maxTasksPerTemplate must be an integer from 2 to ${ArgoLimits.tasksPerDag}, got ${limit}`,
        value: limit,
      },
    ]);
  }
  if (dag.tasks.length <= limit) return [dag.whole()];
  return split(dag, limit, compiler);
}

/** Splits into nested DAG templates of at most `maxTasks` tasks each. */
function split(dag: DagLayout, maxTasks: number, compiler: TemplateCompiler): ArgoTemplate[] {
  const self = dag.template;
  const rendered = dag.tasks;
  const order = topoOrder(rendered);
  const chunkCount = Math.ceil(order.length / maxTasks);
  if (chunkCount > maxTasks) {
    throw new CompileError(
      `DAG "${self.name}": ${order.length} tasks exceed what one level of nesting holds (${maxTasks * maxTasks}); group tasks into nested DAG templates`,
    );
  }
  const chunkOf = new Map<string, number>();
  order.forEach((r, i) => chunkOf.set(r.name, Math.floor(i / maxTasks)));
  const baseName = compiler.nameOf(self);
  const chunkName = (k: number): string => {
    const n = `${baseName}-part-${k}`;
    if (n.length > ArgoLimits.nameLength) throw new CompileError(`DAG "${self.name}": name too long to split (${n} has over ${ArgoLimits.nameLength} characters)`);
    return n;
  };
  const chunkTask = (k: number): string => `part-${k}`;

  // Per chunk: parameters/artifacts it imports (alias → how the parent passes it) and exports.
  interface Port {
    readonly alias: string;
    readonly kind: "parameters" | "artifacts";
    /** Value in the parent template (resolved later for imports of exports). */
    readonly parentValue: () => string;
  }
  const imports = Array.from({ length: chunkCount }, () => new Map<string, Port>());
  const exports = Array.from({ length: chunkCount }, () => new Map<string, { kind: "parameters" | "artifacts"; source: string }>());
  const chunkDeps = Array.from({ length: chunkCount }, () => new Set<number>());
  const base = compiler.context(self);

  const exportOf = (src: Extract<RefSource, { type: "output" }>): { chunk: number; alias: string; kind: "parameters" | "artifacts" } => {
    const j = chunkOf.get(src.producer.name) as number;
    const kind: "parameters" | "artifacts" = src.io === "artifacts" ? "artifacts" : "parameters";
    const alias = [src.producer.name, src.io, src.name].filter(Boolean).join("-");
    const path = src.io === "status" || src.io === "id" ? `tasks.${src.producer.name}.${src.io}` : src.io === "result" || src.io === "exitCode" ? `tasks.${src.producer.name}.outputs.${src.io}` : `tasks.${src.producer.name}.outputs.${src.io}.${src.name}`;
    exports[j]?.set(alias, { kind, source: `{{${path}}}` });
    return { chunk: j, alias, kind };
  };

  const chunkContext = (k: number): RenderContext => ({
    template: chunkName(k),
    ...(base.onArtifactSource ? { onArtifactSource: base.onArtifactSource } : {}),
    resolve: (v, path) => {
      const p = base.resolve ? base.resolve(v, path) : path;
      if (!isSourced(v)) return p;
      const s = v.source;
      if (s.type === "input" && s.owner === self) {
        const alias = s.name;
        imports[k]?.set(`in:${s.io}:${alias}`, { alias, kind: s.io, parentValue: () => `{{inputs.${s.io}.${alias}}}` });
        return ["inputs", s.io, alias];
      }
      if (s.type === "output" && s.producer.parentTemplate === self) {
        const j = chunkOf.get(s.producer.name) as number;
        if (j === k) return p;
        const e = exportOf(s);
        chunkDeps[k]?.add(j);
        imports[k]?.set(`out:${e.alias}`, { alias: e.alias, kind: e.kind, parentValue: () => `{{tasks.${chunkTask(j)}.outputs.${e.kind}.${e.alias}}}` });
        return ["inputs", e.kind, e.alias];
      }
      return p;
    },
  });

  const chunks: RenderedDagTask[][] = Array.from({ length: chunkCount }, () => []);
  const contexts = Array.from({ length: chunkCount }, (_, k) => chunkContext(k));
  // Re-render each task in its chunk's context (data references become chunk inputs).
  const byTask = new Map(rendered.map((r) => [r.name, r]));
  for (const r of order) {
    const k = chunkOf.get(r.name) as number;
    const ctx = contexts[k] as RenderContext;
    // Re-render only what reads across parts or the DAG's inputs; the rest is unchanged.
    const local_ = !r.readsInputs && [...(r.reads ?? [])].every((d) => chunkOf.get(d) === k);
    const argo = local_ ? { ...r.argo } : r.rerender(ctx);
    delete argo.depends;
    const local = r.deps.filter((d) => chunkOf.get(d) === k);
    const foreign = r.deps.filter((d) => chunkOf.get(d) !== k);
    for (const d of foreign) chunkDeps[k]?.add(chunkOf.get(d) as number);
    const mentioned = r.dependsMentions;
    if (mentioned !== undefined && foreign.length) {
      const crossing = mentioned.filter((d) => chunkOf.get(d) !== k);
      if (crossing.length) {
        throw new CompileError(
          `DAG "${self.name}": task "${r.name}" has depends logic on task(s) ${crossing.map((c) => `"${c}"`).join(", ")}, which land in another part when the DAG is split for Argo's ${maxTasks}-task limit; put these tasks in a nested DAG template of their own`,
        );
      }
    }
    const orig = byTask.get(r.name) as RenderedDagTask;
    if (mentioned !== undefined) argo.depends = orig.argo.depends as string;
    else if (local.length) argo.depends = local.join(" && ");
    chunks[k]?.push({ ...r, argo: orderTask(argo), deps: local });
  }

  // The parent: one task per chunk; its outputs read exported values.
  const parentCtx: RenderContext = {
    template: baseName,
    resolve: (v, path) => {
      const p = base.resolve ? base.resolve(v, path) : path;
      if (!isSourced(v)) return p;
      const s = v.source;
      if (s.type === "output" && s.producer.parentTemplate === self) {
        const e = exportOf(s);
        return ["tasks", chunkTask(e.chunk), "outputs", e.kind, e.alias];
      }
      return p;
    },
  };
  const parent = dag.parent(parentCtx);
  const templates: ArgoTemplate[] = [];
  const parentTasks: DAGTask[] = [];
  for (let k = 0; k < chunkCount; k++) {
    const params: Parameter[] = [];
    const arts: Artifact[] = [];
    const argParams: Parameter[] = [];
    const argArts: Artifact[] = [];
    for (const port of imports[k]?.values() ?? []) {
      if (port.kind === "parameters") {
        params.push({ name: port.alias });
        argParams.push({ name: port.alias, value: port.parentValue() });
      } else {
        arts.push({ name: port.alias });
        argArts.push({ name: port.alias, from: port.parentValue() });
      }
    }
    if (params.length > ArgoLimits.inputParametersPerTemplate) {
      throw new CompileError(
        `DAG "${self.name}": part ${k} of the split would need ${params.length} input parameters (Argo's limit is ${ArgoLimits.inputParametersPerTemplate}); fewer tasks should read across parts — group them in nested DAG templates`,
      );
    }
    const deps = [...(chunkDeps[k] ?? [])].sort((a, b) => a - b).map(chunkTask);
    const pt: DAGTask = { name: chunkTask(k), template: chunkName(k) };
    if (argParams.length || argArts.length) {
      pt.arguments = {};
      if (argParams.length) pt.arguments.parameters = argParams;
      if (argArts.length) pt.arguments.artifacts = argArts;
    }
    if (deps.length) pt.depends = deps.join(" && ");
    parentTasks.push(pt);
  }
  for (let k = 0; k < chunkCount; k++) {
    const outParams: Parameter[] = [];
    const outArts: Artifact[] = [];
    for (const [alias, e] of exports[k] ?? []) {
      if (e.kind === "parameters") outParams.push({ name: alias, valueFrom: { parameter: e.source } });
      else outArts.push({ name: alias, from: e.source });
    }
    const inParams: Parameter[] = [];
    const inArts: Artifact[] = [];
    for (const port of imports[k]?.values() ?? []) (port.kind === "parameters" ? inParams : inArts).push({ name: port.alias });
    const t: ArgoTemplate = { name: chunkName(k) };
    if (inParams.length || inArts.length) t.inputs = { ...(inParams.length ? { parameters: inParams } : {}), ...(inArts.length ? { artifacts: inArts } : {}) };
    if (outParams.length || outArts.length) t.outputs = { ...(outParams.length ? { parameters: outParams } : {}), ...(outArts.length ? { artifacts: outArts } : {}) };
    t.dag = compactDag({ tasks: (chunks[k] ?? []).map((r) => r.argo), failFast: dag.failFast });
    templates.push(t);
  }
  parent.dag = compactDag({ tasks: parentTasks, failFast: dag.failFast });
  delete (parent as { failFast?: boolean }).failFast;
  return [orderTemplate(parent), ...templates.map(orderTemplate)];
}

function compactDag(d: { tasks: DAGTask[]; failFast: boolean | undefined }): NonNullable<ArgoTemplate["dag"]> {
  return d.failFast === undefined ? { tasks: d.tasks } : { tasks: d.tasks, failFast: d.failFast };
}

/** Topological order, keeping insertion order among ready tasks. */
function topoOrder(rendered: readonly RenderedDagTask[]): RenderedDagTask[] {
  const index = new Map(rendered.map((r, i) => [r.name, i]));
  const indeg = rendered.map((r) => r.deps.length);
  const users = rendered.map(() => [] as number[]);
  rendered.forEach((r, i) => r.deps.forEach((d) => users[index.get(d) as number]?.push(i)));
  const ready = new MinHeap();
  indeg.forEach((d, i) => d === 0 && ready.push(i));
  const out: RenderedDagTask[] = [];
  while (ready.size) {
    const i = ready.pop();
    out.push(rendered[i] as RenderedDagTask);
    for (const u of users[i] ?? []) if (--(indeg[u] as number) === 0) ready.push(u);
  }
  return out;
}

/** A binary min-heap of numbers (ready tasks by insertion index). */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(v: number): void {
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as number) <= v) break;
      a[i] = a[p] as number;
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.items;
    const top = a[0] as number;
    const last = a.pop() as number;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r] as number) < (a[l] as number) ? r : l;
        if ((a[c] as number) >= last) break;
        a[i] = a[c] as number;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
