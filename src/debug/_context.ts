/**
 * What the pieces of the local engine share: where a node goes in the tree ({@link Place}),
 * resolved arguments and inputs, and the {@link Invoker} through which Steps, DAGs, retries and
 * hooks start a template without knowing how it runs.
 */
import type { NodeStatus, Parameter, Template } from "../argo/model.ts";
import { OpflowError } from "../errors.ts";
import type { ArtifactRef } from "./artifact-io.ts";
import type { Semaphore } from "./semaphore.ts";

/** Where a node goes in the tree. */
export interface Place {
  readonly name: string;
  readonly displayName: string;
  readonly parentId?: string;
  readonly boundaryID?: string;
  /** Template-level parallelism of the ancestors. */
  readonly semaphores: readonly Semaphore[];
  /** The step's key (the `opflow-key` argument): names its folder in the state tree. */
  readonly key?: string;
  /** Inside an exit handler (a workflow's, a step's or a task's): it still runs after a graceful stop. */
  readonly exit?: boolean;
  /**
   * How many template invocations enclose this place (Argo's stack depth: one per nested
   * `executeTemplate`); an invocation at {@link MAX_STACK_DEPTH} ends in error.
   */
  readonly depth?: number;
  /** The enclosing Steps template has `failFast: true`: once a child failed, no new one starts. */
  readonly failFast?: FailFastGuard;
  /**
   * Local variables of the template invoked here, as operator.go sets them before it substitutes
   * the template: `steps.name` or `tasks.name` (the calling step or task, see {@link callerOf}),
   * and in a retry's attempts `lastRetry.*`.
   */
  readonly locals?: Readonly<Record<string, string>>;
}

/** `{{steps.name}}` or `{{tasks.name}}`: the (expanded) name of the step or task at a place. */
export function callerOf(kind: "steps" | "tasks", name: string): { locals: Readonly<Record<string, string>> } {
  return { locals: { [`${kind}.name`]: name } };
}

/** Argo's cap on nested template invocations (workflow/controller/controller.go `maxAllowedStackDepth`). */
export const MAX_STACK_DEPTH = 100;

/** Argo's message at that cap (operator.go `ErrMaxDepthExceeded`), short whatever the template. */
export const MAX_DEPTH_MESSAGE = "Maximum recursion depth exceeded. See https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth";

/** Whether a child of a `failFast: true` Steps template failed (Argo's operator.go checkParallelism). */
export interface FailFastGuard {
  failed: boolean;
}

/** Argo's message for a template that stopped starting children under failFast. */
export const FAIL_FAST_MESSAGE = "template has failed or errored children and failFast enabled";

/** What a child place inherits from its parent beyond names. */
export function inherited(place: Place): { exit?: true; depth?: number } {
  return { ...(place.exit ? { exit: true } : {}), ...(place.depth ? { depth: place.depth } : {}) };
}

/** Arguments of an invocation, already resolved. */
export interface ResolvedArgs {
  readonly parameters: ReadonlyMap<string, string>;
  readonly artifacts: ReadonlyMap<string, ArtifactRef>;
}

/** No arguments. */
export const NO_ARGS: ResolvedArgs = { parameters: new Map(), artifacts: new Map() };

/** Inputs of a template invocation after Argo's `processArgs` (`bindInputs` in arguments.ts). */
export interface Inputs {
  readonly parameters: Parameter[];
  readonly artifacts: Map<string, ArtifactRef>;
}

/** How a step, task or hook names the template it runs. */
export interface Invocation {
  readonly template?: string;
  readonly inline?: Template;
  readonly templateRef?: { name: string; template: string };
}

/** Starts a template invocation at a place; never throws for a step's own failure. */
export interface Invoker {
  invoke(place: Place, inv: Invocation, args: ResolvedArgs): Promise<NodeStatus>;
}

export function now(): string {
  return new Date().toISOString();
}

export function messageOf(err: unknown): string {
  return err instanceof OpflowError ? err.message : err instanceof Error ? err.message : String(err);
}
