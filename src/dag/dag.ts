/**
 * `DAG`: a template of tasks ordered by their dependencies. Dependencies are inferred from
 * the data each task reads. The compiler, which owns Argo's limits, splits a DAG with more
 * tasks than Argo allows in one template (200) into nested DAG templates that keep every
 * dependency and data reference (`argo/dag-split.ts`).
 */
import type { DAGTask, Template as ArgoTemplate } from "../argo/model.ts";
import { CompileError, ExpressionError, ValidationError } from "../errors.ts";
import { dependsTasks } from "../expr/depends.ts";
import { isSourced } from "../expr/refs.ts";
import type { RenderContext, Variable } from "../expr/tree.ts";
import { orderTask, orderTemplate } from "../template/order.ts";
import type { Signature } from "../op/signature.ts";
import { type RenderedDagTask, type Template, type TemplateCall, type TemplateCompiler, reportIssue } from "../template/template.ts";
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
  private readonly maxTasks: number | undefined;

  constructor(options: DAGOptions<I, O>) {
    super(options);
    this.maxTasks = options.maxTasksPerTemplate;
    if (this.maxTasks !== undefined && (!Number.isInteger(this.maxTasks) || this.maxTasks < 2)) {
      throw new ValidationError(`DAG "${options.name}": maxTasksPerTemplate must be an integer of at least 2 (and at most Argo's limit), got ${options.maxTasksPerTemplate}`);
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
  private renderTasks(compiler: TemplateCompiler, ctxFor: (visit: (v: Variable) => void) => RenderContext, onProblem: () => void): RenderedDagTask[] {
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
      const problem = (field: string, rule: string, message: string, value: unknown): void => {
        onProblem();
        reportIssue(compiler, this, { path: ["tasks", task.name, field], rule, message, value });
      };
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
      return {
        name: task.name,
        argo: orderTask(argo),
        deps: sorted,
        reads: read,
        readsInputs,
        dependsMentions: logic === undefined ? undefined : logicNames,
        rerender: (c) => task.toArgoStep({ ...compiler, context: () => c }, this) as DAGTask,
      };
    });
  }

  /** Reports every dependency cycle (one per back edge); whether there was one. */
  private checkCycles(compiler: TemplateCompiler, rendered: readonly RenderedDagTask[]): boolean {
    const deps = new Map(rendered.map((r) => [r.name, r.deps]));
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
    for (const r of rendered) visit(r.name, []);
    return found;
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    if (this.tasks.length === 0) throw new CompileError([{ path: ["dag", "tasks"], rule: "empty", message: `DAG "${this.name}": has no tasks` }]);
    const base = compiler.context(this);
    let failed = false;
    const rendered = this.renderTasks(compiler, (visit) => ({ ...base, visit }), () => (failed = true));
    const cyclic = this.checkCycles(compiler, rendered);
    const whole = (): ArgoTemplate => {
      const t = this.renderGraphCommon(compiler);
      delete (t as { failFast?: boolean }).failFast;
      t.dag = this.graph.failFast === undefined ? { tasks: rendered.map((r) => r.argo) } : { tasks: rendered.map((r) => r.argo), failFast: this.graph.failFast };
      return orderTemplate(t);
    };
    // The compiler owns Argo's limits: it decides whether the DAG fits one template.
    if (!compiler.layOutDag || failed || cyclic) return [whole()];
    return compiler.layOutDag({
      template: this,
      maxTasksPerTemplate: this.maxTasks,
      failFast: this.graph.failFast,
      tasks: rendered,
      whole,
      parent: (ctx) => this.renderGraphCommon({ ...compiler, context: (t) => (t === this ? ctx : compiler.context(t)) }),
    });
  }

}
