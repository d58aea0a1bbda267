/**
 * `Task`: a call of a template inside a `DAG`. Dependencies are inferred from the data it
 * reads; `dependencies` adds more, and `depends` states Argo's full depends logic.
 */
import { ValidationError } from "../errors.ts";
import type { TaskResultName } from "../expr/depends.ts";
import type { Signature } from "../op/signature.ts";
import type { Template } from "../template/template.ts";
import { Step, type StepLike, type StepOptions } from "../steps/step.ts";

/** A result a dependency may be required to have (Argo's enhanced depends logic). */
export type TaskResult = TaskResultName;

/**
 * A `depends` condition built from tasks: `a.succeeded.and(b.failed.or(c.skipped))`.
 * Rendered to Argo's depends syntax.
 */
export class Depends {
  private constructor(
    private readonly text: () => string,
    /** The tasks it mentions. */
    readonly tasks: readonly { readonly name: string }[],
    private readonly atom: boolean,
  ) {}

  /** `task.Result` (or the bare task name, which means Succeeded, Skipped or Daemoned). */
  static of(task: { readonly name: string }, result?: TaskResult): Depends {
    return new Depends(() => (result ? `${task.name}.${result}` : task.name), [task], true);
  }

  and(...others: Depends[]): Depends {
    return Depends.join("&&", [this, ...others]);
  }
  or(...others: Depends[]): Depends {
    return Depends.join("||", [this, ...others]);
  }
  not(): Depends {
    return new Depends(() => `!${this.wrapped()}`, this.tasks, true);
  }

  private wrapped(): string {
    return this.atom ? this.text() : `(${this.text()})`;
  }

  private static join(op: string, parts: Depends[]): Depends {
    return new Depends(() => parts.map((p) => p.wrapped()).join(` ${op} `), parts.flatMap((p) => [...p.tasks]), false);
  }

  /** Argo's depends text. */
  render(): string {
    return this.text();
  }
}

/** Task-only options. */
export interface TaskDependencies {
  /** Tasks (or task names) that must finish successfully first, besides those inferred from data. @default inferred only */
  readonly dependencies?: readonly (Task | string)[];
  /** Argo's depends logic; tasks read by this task but not mentioned are ANDed in. @default inferred from data */
  readonly depends?: Depends | string;
}

/** What a DAG needs of a task, whatever its types. */
export interface TaskLike extends StepLike {
  readonly explicitDependencies: string[];
  readonly dependsLogic: Depends | string | undefined;
}

/** All options of a task. */
export type TaskOptions<I extends Signature, Item> = StepOptions<I, Item> & TaskDependencies;

/**
 * A call of a template in a DAG.
 *
 * @example
 * const a = dag.add(new Task("a", echo, { parameters: { message: "A" } }));
 * const b = dag.add(new Task("b", echo, { parameters: { message: a.outputs.parameters.out } })); // depends on a
 * const c = dag.add(new Task("c", cleanup, { depends: a.failed.or(b.failed) }));
 */
export class Task<I extends Signature = Signature, O extends Signature = Signature, Item = never> extends Step<I, O, Item> {
  private readonly deps: TaskDependencies;

  constructor(name: string, template: Template<I, O>, ...options: {} extends TaskOptions<I, Item> ? [TaskOptions<I, Item>?] : [TaskOptions<I, Item>]) {
    super(name, template, ...(options as unknown as [StepOptions<I, Item>]));
    const o = (options[0] ?? {}) as TaskDependencies;
    if (o.depends !== undefined && !(o.depends instanceof Depends) && typeof o.depends !== "string") {
      throw new ValidationError(`Task "${name}": depends must be a Depends expression or a string`);
    }
    for (const d of o.dependencies ?? []) {
      if (!(d instanceof Task) && typeof d !== "string") throw new ValidationError(`Task "${name}": dependencies must be tasks or task names`);
    }
    this.deps = o;
  }

  override get scope(): "tasks" {
    return "tasks";
  }

  protected override kindName(): string {
    return "Task";
  }

  /** Explicit dependencies, as names. */
  get explicitDependencies(): string[] {
    return (this.deps.dependencies ?? []).map((d) => (typeof d === "string" ? d : d.name));
  }

  /** Explicit depends logic, if any. */
  get dependsLogic(): Depends | string | undefined {
    return this.deps.depends;
  }

  /** Whether this task may not run (a `when`, or depends logic other than plain success). */
  override get conditional(): boolean {
    return super.conditional || this.deps.depends !== undefined;
  }

  get done(): Depends {
    return Depends.of(this);
  }
  get succeeded(): Depends {
    return Depends.of(this, "Succeeded");
  }
  get failed(): Depends {
    return Depends.of(this, "Failed");
  }
  get errored(): Depends {
    return Depends.of(this, "Errored");
  }
  get skipped(): Depends {
    return Depends.of(this, "Skipped");
  }
  get omitted(): Depends {
    return Depends.of(this, "Omitted");
  }
  get daemoned(): Depends {
    return Depends.of(this, "Daemoned");
  }
  /** At least one child of a fanned-out task succeeded. */
  get anySucceeded(): Depends {
    return Depends.of(this, "AnySucceeded");
  }
  /** Every child of a fanned-out task failed. */
  get allFailed(): Depends {
    return Depends.of(this, "AllFailed");
  }
}
