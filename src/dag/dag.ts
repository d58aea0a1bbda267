/**
 * `DAG`: a template of tasks ordered by their dependencies. Dependencies are inferred from
 * the data each task reads. A DAG with more tasks than Argo allows in one template (200) is
 * split into nested DAG templates that keep every dependency and data reference.
 */
import type { Artifact, DAGTask, Parameter, Template as ArgoTemplate } from "../argo/model.ts";
import { ArgoLimits } from "../argo/model.ts";
import { CompileError, ExpressionError, ValidationError } from "../errors.ts";
import { dependsTasks } from "../expr/depends.ts";
import { type RefSource, isSourced } from "../expr/refs.ts";
import type { RenderContext, Variable } from "../expr/tree.ts";
import { orderTask, orderTemplate } from "../template/order.ts";
import type { Signature } from "../op/signature.ts";
import { type Template, type TemplateCall, type TemplateCompiler, reportIssue } from "../template/template.ts";
import { type GraphTemplateOptions, GraphTemplate, callOf } from "../steps/steps.ts";
import { Depends, Task, type TaskLike } from "./task.ts";

/** Options of a DAG. */
export interface DAGOptions<I extends Signature, O extends Signature> extends GraphTemplateOptions<I, O> {
  /**
   * Most tasks per Argo template before the DAG is split into nested templates.
   * @default 200 (Argo v4's limit)
   */
  readonly maxTasksPerTemplate?: number;
}

interface RenderedTask {
  readonly task: TaskLike;
  readonly argo: DAGTask;
  /** Tasks of this DAG it depends on (names). */
  readonly deps: string[];
  /** Tasks of this DAG whose outputs it reads. */
  readonly reads?: ReadonlySet<string>;
  /** Whether it reads an input of this DAG. */
  readonly readsInputs?: boolean;
}

/**
 * A DAG template.
 *
 * @example
 * const dag = new DAG({ name: "diamond" });
 * const a = dag.add(new Task("A", echo, { parameters: { message: "A" } }));
 * const b = dag.add(new Task("B", echo, { parameters: { message: "B" }, dependencies: [a] }));
 */
export class DAG<I extends Signature = {}, O extends Signature = {}> extends GraphTemplate<I, O> {
  private readonly tasks: TaskLike[] = [];
  private readonly byName = new Map<string, TaskLike>();
  private readonly indexOf = new Map<string, number>();
  private readonly maxTasks: number;

  constructor(options: DAGOptions<I, O>) {
    super(options);
    this.maxTasks = options.maxTasksPerTemplate ?? ArgoLimits.tasksPerDag;
    if (!Number.isInteger(this.maxTasks) || this.maxTasks < 2 || this.maxTasks > ArgoLimits.tasksPerDag) {
      throw new ValidationError(`DAG "${options.name}": maxTasksPerTemplate must be an integer from 2 to ${ArgoLimits.tasksPerDag}, got ${options.maxTasksPerTemplate}`);
    }
  }

  /** Adds a task (or several); returns what it was given. */
  add<T extends TaskLike | readonly TaskLike[]>(tasks: T): T {
    const list = (Array.isArray(tasks) ? [...tasks] : [tasks]) as TaskLike[];
    for (const t of list) {
      if (!(t instanceof Task)) throw new ValidationError(`DAG "${this.name}": add() takes Task objects (use Step in Steps templates)`);
      if (this.byName.has(t.name)) throw new ValidationError(`DAG "${this.name}": task name "${t.name}" is used twice`);
      t.attach(this);
      this.byName.set(t.name, t);
      this.indexOf.set(t.name, this.tasks.length);
      this.tasks.push(t);
    }
    return tasks;
  }

  /** The tasks added so far. */
  get taskList(): readonly TaskLike[] {
    return this.tasks;
  }

  override references(): Template[] {
    return this.tasks.flatMap((t) => t.references());
  }

  override calls(): readonly TemplateCall[] {
    return this.tasks.map(callOf);
  }

  /** Renders every task in `ctx`, recording the tasks of this DAG that each reads. */
  private renderTasks(compiler: TemplateCompiler, ctxFor: (visit: (v: Variable) => void) => RenderContext): RenderedTask[] {
    return this.tasks.map((task) => {
      const read = new Set<string>();
      let readsInputs = false;
      const visit = (v: Variable): void => {
        if (!isSourced(v)) return;
        const s = v.source;
        if (s.type === "output" && s.producer.parentTemplate === this && s.producer.name !== task.name) read.add(s.producer.name);
        else if (s.type === "input" && s.owner === this) readsInputs = true;
      };
      const ctx = ctxFor(visit);
      const argo = task.toArgoStep({ ...compiler, context: () => ctx }, this) as DAGTask;
      const deps = new Set<string>(read);
      const problem = (field: string, rule: string, message: string, value: unknown): void =>
        reportIssue(compiler, this, { path: ["tasks", task.name, field], rule, message, value });
      for (const d of task.explicitDependencies) {
        if (!this.byName.has(d)) problem("dependencies", "unknown-dependency", `DAG "${this.name}": task "${task.name}" depends on unknown task "${d}"`, d);
        else deps.add(d);
      }
      const logic = task.dependsLogic;
      let logicNames: string[] = [];
      if (logic !== undefined) {
        try {
          logicNames = logic instanceof Depends ? logic.tasks.map((t) => t.name) : dependsTasks(logic);
        } catch (e) {
          if (!(e instanceof ExpressionError)) throw e;
          problem("depends", "depends-syntax", `DAG "${this.name}": task "${task.name}": ${e.message}`, logic);
        }
        for (const d of logicNames) {
          if (!this.byName.has(d)) problem("depends", "unknown-dependency", `DAG "${this.name}": task "${task.name}" depends on unknown task "${d}"`, d);
          else deps.add(d);
        }
      }
      if (deps.has(task.name)) {
        problem("depends", "cycle", `DAG "${this.name}": task "${task.name}" depends on itself`, task.name);
        deps.delete(task.name);
      }
      const sorted = [...deps].sort((a, b) => (this.indexOf.get(a) as number) - (this.indexOf.get(b) as number));
      if (logic !== undefined) {
        const text = logic instanceof Depends ? logic.render() : logic;
        const missing = sorted.filter((d) => !logicNames.includes(d));
        argo.depends = missing.length ? `(${text}) && ${missing.join(" && ")}` : text;
      } else if (sorted.length) {
        argo.depends = sorted.join(" && ");
      }
      return { task, argo: orderTask(argo), deps: sorted, reads: read, readsInputs };
    });
  }

  /** Reports every dependency cycle (one per back edge); whether there was one. */
  private checkCycles(compiler: TemplateCompiler, rendered: RenderedTask[]): boolean {
    const deps = new Map(rendered.map((r) => [r.task.name, r.deps]));
    const state = new Map<string, 1 | 2>();
    let found = false;
    const visit = (n: string, trail: string[]): void => {
      if (state.get(n) === 2) return;
      if (state.get(n) === 1) {
        const cycle = [...trail.slice(trail.indexOf(n)), n];
        found = true;
        reportIssue(compiler, this, { path: ["tasks", n, "depends"], rule: "cycle", message: `DAG "${this.name}": dependency cycle ${cycle.join(" -> ")}`, value: cycle });
        return;
      }
      state.set(n, 1);
      for (const d of deps.get(n) ?? []) visit(d, [...trail, n]);
      state.set(n, 2);
    };
    for (const r of rendered) visit(r.task.name, []);
    return found;
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    if (this.tasks.length === 0) throw new CompileError(`DAG "${this.name}": has no tasks`);
    const base = compiler.context(this);
    const rendered = this.renderTasks(compiler, (visit) => ({ ...base, visit }));
    const cyclic = this.checkCycles(compiler, rendered);
    if (this.tasks.length <= this.maxTasks || cyclic) {
      const t = this.renderGraphCommon(compiler);
      t.dag = compactDag({ tasks: rendered.map((r) => r.argo), failFast: undefined });
      delete (t as { failFast?: boolean }).failFast;
      if (this.graph.failFast !== undefined) t.dag.failFast = this.graph.failFast;
      return [orderTemplate(t)];
    }
    return this.split(compiler, rendered);
  }

  /** Splits into nested DAG templates of at most `maxTasks` tasks each. */
  private split(compiler: TemplateCompiler, rendered: RenderedTask[]): ArgoTemplate[] {
    const order = topoOrder(rendered);
    const chunkCount = Math.ceil(order.length / this.maxTasks);
    if (chunkCount > this.maxTasks) {
      throw new CompileError(
        `DAG "${this.name}": ${order.length} tasks exceed what one level of nesting holds (${this.maxTasks * this.maxTasks}); group tasks into nested DAG templates`,
      );
    }
    const chunkOf = new Map<string, number>();
    order.forEach((r, i) => chunkOf.set(r.task.name, Math.floor(i / this.maxTasks)));
    const baseName = compiler.nameOf(this);
    const chunkName = (k: number): string => {
      const n = `${baseName}-part-${k}`;
      if (n.length > ArgoLimits.nameLength) throw new CompileError(`DAG "${this.name}": name too long to split (${n} has over ${ArgoLimits.nameLength} characters)`);
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
    const base = compiler.context(this);

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
        if (s.type === "input" && s.owner === this) {
          const alias = s.name;
          imports[k]?.set(`in:${s.io}:${alias}`, { alias, kind: s.io, parentValue: () => `{{inputs.${s.io}.${alias}}}` });
          return ["inputs", s.io, alias];
        }
        if (s.type === "output" && s.producer.parentTemplate === this) {
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

    const chunks: RenderedTask[][] = Array.from({ length: chunkCount }, () => []);
    const contexts = Array.from({ length: chunkCount }, (_, k) => chunkContext(k));
    // Re-render each task in its chunk's context (data references become chunk inputs).
    const byTask = new Map(rendered.map((r) => [r.task.name, r]));
    for (const r of order) {
      const k = chunkOf.get(r.task.name) as number;
      const ctx = contexts[k] as RenderContext;
      // Re-render only what reads across parts or the DAG's inputs; the rest is unchanged.
      const local_ = !r.readsInputs && [...(r.reads ?? [])].every((d) => chunkOf.get(d) === k);
      const argo = local_ ? { ...r.argo } : (r.task.toArgoStep({ ...compiler, context: () => ctx }, this) as DAGTask);
      delete argo.depends;
      const local = r.deps.filter((d) => chunkOf.get(d) === k);
      const foreign = r.deps.filter((d) => chunkOf.get(d) !== k);
      for (const d of foreign) chunkDeps[k]?.add(chunkOf.get(d) as number);
      const logic = r.task.dependsLogic;
      if (logic !== undefined && foreign.length) {
        const mentioned = logic instanceof Depends ? logic.tasks.map((t) => t.name) : dependsTasks(logic);
        const crossing = mentioned.filter((d) => chunkOf.get(d) !== k);
        if (crossing.length) {
          throw new CompileError(
            `DAG "${this.name}": task "${r.task.name}" has depends logic on task(s) ${crossing.map((c) => `"${c}"`).join(", ")}, which land in another part when the DAG is split for Argo's ${this.maxTasks}-task limit; put these tasks in a nested DAG template of their own`,
          );
        }
      }
      const orig = byTask.get(r.task.name) as RenderedTask;
      if (logic !== undefined) argo.depends = orig.argo.depends as string;
      else if (local.length) argo.depends = local.join(" && ");
      chunks[k]?.push({ task: r.task, argo: orderTask(argo), deps: local });
    }

    // The parent: one task per chunk; its outputs read exported values.
    const parentCtx: RenderContext = {
      template: baseName,
      resolve: (v, path) => {
        const p = base.resolve ? base.resolve(v, path) : path;
        if (!isSourced(v)) return p;
        const s = v.source;
        if (s.type === "output" && s.producer.parentTemplate === this) {
          const e = exportOf(s);
          return ["tasks", chunkTask(e.chunk), "outputs", e.kind, e.alias];
        }
        return p;
      },
    };
    const parent = this.renderGraphCommon({ ...compiler, context: (t) => (t === this ? parentCtx : compiler.context(t)) });
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
          `DAG "${this.name}": part ${k} of the split would need ${params.length} input parameters (Argo's limit is ${ArgoLimits.inputParametersPerTemplate}); fewer tasks should read across parts — group them in nested DAG templates`,
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
      t.dag = compactDag({ tasks: (chunks[k] ?? []).map((r) => r.argo), failFast: this.graph.failFast });
      templates.push(t);
    }
    parent.dag = compactDag({ tasks: parentTasks, failFast: this.graph.failFast });
    delete (parent as { failFast?: boolean }).failFast;
    return [orderTemplate(parent), ...templates.map(orderTemplate)];
  }
}

function compactDag(d: { tasks: DAGTask[]; failFast: boolean | undefined }): NonNullable<ArgoTemplate["dag"]> {
  return d.failFast === undefined ? { tasks: d.tasks } : { tasks: d.tasks, failFast: d.failFast };
}

/** Topological order, keeping insertion order among ready tasks. */
function topoOrder(rendered: RenderedTask[]): RenderedTask[] {
  const index = new Map(rendered.map((r, i) => [r.task.name, i]));
  const indeg = rendered.map((r) => r.deps.length);
  const users = rendered.map(() => [] as number[]);
  rendered.forEach((r, i) => r.deps.forEach((d) => users[index.get(d) as number]?.push(i)));
  const ready = new MinHeap();
  indeg.forEach((d, i) => d === 0 && ready.push(i));
  const out: RenderedTask[] = [];
  while (ready.size) {
    const i = ready.pop();
    out.push(rendered[i] as RenderedTask);
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
