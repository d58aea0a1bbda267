/**
 * The workflow's lifecycle: its global variables and arguments (overridable), its deadline
 * (`activeDeadlineSeconds`), the entrypoint with the workflow's expression hooks, the exit
 * handler, and the final phase, message and outputs of `status`.
 */
import type { NodeStatus, Parameter, Workflow, WorkflowPhase, WorkflowStatus } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import { setLongTimeout, type LongTimer } from "../long-timer.ts";
import { evaluateExpression, expandScope, formatGoTime, substituteTags } from "./_expr.ts";
import { messageOf, NO_ARGS, now, type ResolvedArgs } from "./_context.ts";
import type { ArtifactRef } from "./artifact-io.ts";
import { resolveArgs } from "./arguments.ts";
import { parseDuration } from "../duration.ts";
import { fireExpressionHooks, watchHooks, type HookEngine, type HookSite } from "./hooks.ts";
import { clipMessage } from "./message-cap.ts";
import { isFailedOrError } from "./node-state.ts";
import { aggregateProgress } from "./progress.ts";
import { Scope } from "./scope.ts";
import { checkParallelism } from "./steps.ts";
import type { Daemons } from "./daemons.ts";
import { configMapParameter, type LocalObjects } from "./local-objects.ts";
import { DEADLINE_MESSAGE, type RunControl } from "./signals.ts";

/** What the workflow's lifecycle needs of the engine. */
export interface LifecycleEngine extends HookEngine {
  readonly control: RunControl;
  readonly manifest: Workflow;
  /** Workflow argument overrides. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly status: WorkflowStatus;
  /** ConfigMaps and Secrets the workflow reads. */
  readonly objects: LocalObjects | undefined;
  /** The run's daemons: those outside any Steps or DAG end with the workflow's main tree. */
  readonly daemons: Daemons;
}

/** Sets the `workflow.*` variables known before the run starts. */
function setWorkflowVariables(e: LifecycleEngine, name: string): void {
  const { metadata, spec } = e.manifest;
  const g = e.globals.vars;
  g["workflow.name"] = name;
  g["workflow.namespace"] = metadata.namespace ?? "default";
  g["workflow.uid"] = metadata.uid ?? name;
  g["workflow.serviceAccountName"] = spec.serviceAccountName ?? "default";
  g["workflow.creationTimestamp"] = e.status.startedAt as string;
  setCreationTimestamp(g, new Date(e.status.startedAt as string));
  const scheduled = metadata.annotations?.[SCHEDULED_TIME_ANNOTATION];
  if (scheduled !== undefined) g["workflow.scheduledTime"] = scheduled;
  g["workflow.mainEntrypoint"] = spec.entrypoint ?? "";
  g["workflow.priority"] = String(spec.priority ?? 0);
  for (const [k, v] of Object.entries(metadata.labels ?? {})) g[`workflow.labels.${k}`] = v;
  for (const [k, v] of Object.entries(metadata.annotations ?? {})) g[`workflow.annotations.${k}`] = v;
  // All of them as one JSON object (the bare name is Argo's older spelling of `.json`).
  g["workflow.labels"] = g["workflow.labels.json"] = JSON.stringify(metadata.labels ?? {});
  g["workflow.annotations"] = g["workflow.annotations.json"] = JSON.stringify(metadata.annotations ?? {});
}

/** The annotation a CronWorkflow sets on the workflows it starts: `{{workflow.scheduledTime}}`. */
const SCHEDULED_TIME_ANNOTATION = "workflows.argoproj.io/scheduled-time";

/**
 * `workflow.creationTimestamp.<c>` for the strftime characters Argo offers (argoproj/pkg
 * strftime's FormatChars, each a Go layout), `.s` (Unix seconds) and `.RFC3339`, in UTC.
 */
const STRFTIME_LAYOUTS: Readonly<Record<string, string>> = {
  B: "January", b: "Jan", m: "01", A: "Monday", a: "Mon", d: "02", H: "15", I: "03", M: "04",
  S: "05", Y: "2006", y: "06", p: "PM", Z: "MST", z: "-0700", L: ".000",
};

function setCreationTimestamp(g: Record<string, string>, created: Date): void {
  if (Number.isNaN(created.getTime())) return;
  for (const [c, layout] of Object.entries(STRFTIME_LAYOUTS)) g[`workflow.creationTimestamp.${c}`] = formatGoTime(created, layout);
  g["workflow.creationTimestamp.s"] = String(Math.floor(created.getTime() / 1000));
  g["workflow.creationTimestamp.RFC3339"] = formatGoTime(created, "2006-01-02T15:04:05Z07:00");
}

/** The workflow's arguments (overrides applied, checked), also set as `workflow.parameters.*`. */
function workflowArguments(e: LifecycleEngine, name: string): ResolvedArgs {
  const spec = e.manifest.spec;
  const g = e.globals.vars;
  const wfParams: Parameter[] = [];
  const args = new Map<string, string>();
  const known = new Set<string>();
  for (const p of spec.arguments?.parameters ?? []) {
    known.add(p.name);
    const value = e.parameters[p.name] ?? p.value ?? p.default ?? configMapParameter(p.valueFrom, e.objects, `workflow "${name}": spec.arguments.parameters "${p.name}"`) ?? p.valueFrom?.default;
    if (value === undefined) throw new EngineError(`workflow "${name}": spec.arguments.parameters "${p.name}" has no value; pass one (parameters: { "${p.name}": … })`);
    if (p.enum && !p.enum.includes(value)) {
      throw new EngineError(`workflow "${name}": parameter "${p.name}" must be one of ${JSON.stringify(p.enum)}, got ${JSON.stringify(value)}`);
    }
    wfParams.push({ name: p.name, value });
  }
  for (const k of Object.keys(e.parameters)) {
    if (!known.has(k)) throw new EngineError(`workflow "${name}": parameter "${k}" is not among spec.arguments.parameters (${[...known].join(", ") || "none"})`);
  }
  for (const p of wfParams) {
    const value = substituteTags(p.value ?? "", g, { onMissing: "keep" });
    g[`workflow.parameters.${p.name}`] = value;
    args.set(p.name, value);
  }
  g["workflow.parameters"] = g["workflow.parameters.json"] = JSON.stringify(wfParams.map((p) => ({ name: p.name, value: g[`workflow.parameters.${p.name}`] })));
  const artifacts = new Map<string, ArtifactRef>();
  for (const a of spec.arguments?.artifacts ?? []) artifacts.set(a.name, { artifact: a });
  return { parameters: args, artifacts };
}

/**
 * `spec.workflowMetadata`: labels and annotations Argo sets on the workflow when it starts
 * (`labelsFrom` evaluated over the global variables), seen as `workflow.labels.*` and
 * `workflow.annotations.*` (operator.go `updateWorkflowMetadata`).
 */
function setWorkflowMetadata(e: LifecycleEngine, name: string): void {
  const md = e.manifest.spec.workflowMetadata;
  if (!md) return;
  const g = e.globals.vars;
  const labels: Record<string, string> = { ...e.manifest.metadata.labels };
  const annotations: Record<string, string> = { ...e.manifest.metadata.annotations };
  for (const [k, v] of Object.entries(md.labels ?? {})) labels[k] = v;
  for (const [k, v] of Object.entries(md.annotations ?? {})) annotations[k] = v;
  for (const [k, from] of Object.entries(md.labelsFrom ?? {})) {
    const where = `workflow "${name}": spec.workflowMetadata.labelsFrom.${k}`;
    let v: unknown;
    try {
      v = evaluateExpression(from.expression, expandScope(g));
    } catch (err) {
      throw new EngineError(`${where}: ${messageOf(err)}`);
    }
    if (typeof v !== "string") throw new EngineError(`${where}: the expression ${JSON.stringify(from.expression)} gave ${JSON.stringify(v)}, not a string`);
    labels[k] = v;
  }
  for (const [k, v] of Object.entries(labels)) g[`workflow.labels.${k}`] = v;
  for (const [k, v] of Object.entries(annotations)) g[`workflow.annotations.${k}`] = v;
  g["workflow.labels"] = g["workflow.labels.json"] = JSON.stringify(labels);
  g["workflow.annotations"] = g["workflow.annotations.json"] = JSON.stringify(annotations);
}

/** The hook site of the workflow: globals, nodes named `<workflow>.hooks.<name>`. */
function workflowSite(e: LifecycleEngine, name: string): HookSite {
  const g = e.globals.vars;
  return { vars: g, scope: new Scope(g), where: `workflow "${name}"`, place: (hook) => ({ name: `${name}.hooks.${hook}`, displayName: `${name}.hooks.${hook}`, semaphores: [] }) };
}

/** Runs the workflow to its end; `status` holds the result. */
export async function runWorkflowLifecycle(e: LifecycleEngine): Promise<void> {
  const spec = e.manifest.spec;
  const name = e.manifest.metadata.name as string;
  const g = e.globals.vars;
  setWorkflowVariables(e, name);
  let deadline: LongTimer | undefined;
  try {
    const args = workflowArguments(e, name);
    setWorkflowMetadata(e, name);
    if (spec.activeDeadlineSeconds !== undefined) {
      const ms = parseDuration(spec.activeDeadlineSeconds, `workflow "${name}": spec.activeDeadlineSeconds`, EngineError);
      deadline = setLongTimeout(() => e.control.stop(DEADLINE_MESSAGE), ms).unref();
    }
    if (spec.workflowTemplateRef) {
      throw new EngineError(`workflow "${name}": spec.workflowTemplateRef (${spec.workflowTemplateRef.name}) is not supported by the local engine; run the WorkflowTemplate's manifest itself`);
    }
    const entry = spec.entrypoint;
    if (!entry) throw new EngineError(`workflow "${name}": spec.entrypoint is required`);
    if (spec.parallelism !== undefined) checkParallelism(spec.parallelism, `workflow "${name}": spec.parallelism`);
    // Workflow-level expression hooks: evaluated while the workflow runs, each fires once.
    g["workflow.status"] = "Running";
    const fired = new Set<string>();
    // A hook expression that cannot be evaluated errors the workflow's root node (Argo's
    // executeWfLifeCycleHook): the run stops, exit handlers still run, the phase is Error.
    let hookError: string | undefined;
    const onHookError = (hook: string, message: string): void => {
      if (hookError !== undefined) return;
      hookError = `workflow "${name}": spec.hooks.${hook}: expression ${JSON.stringify(spec.hooks?.[hook]?.expression)}: ${message}`;
      e.control.stop(hookError, { exitHandlers: true });
    };
    const fireHooks = (): Promise<void> => fireExpressionHooks(e, spec.hooks, fired, () => workflowSite(e, name), onHookError);
    const hooks = watchHooks(e.book, spec.hooks, fireHooks);
    let root: NodeStatus;
    try {
      root = await e.invoke({ name, displayName: name, semaphores: [] }, { template: entry }, args);
    } finally {
      hooks.stop();
    }
    await hooks.settled();
    // Daemons outside any Steps or DAG (an entrypoint that is one): killed, Succeeded (operator.go).
    await e.daemons.endScope("");

    let phase: WorkflowPhase = root.phase === "Skipped" || root.phase === "Omitted" ? "Succeeded" : (root.phase as WorkflowPhase);
    let message = isFailedOrError(root.phase) ? (e.control.stopMessage ?? root.message) : undefined;
    setEndVariables(e, phase);
    // Argo evaluates the workflow's hooks on every reconcile, the one that sees the main tree
    // ended first; the exit handler waits for the hooks that fired (operator.go).
    if (hookError === undefined) await fireHooks();
    if (hookError !== undefined) {
      phase = "Error";
      message = hookError;
    }
    const onExit = await runExitHandler(e, name);
    await e.daemons.endScope("");
    if (onExit && isFailedOrError(onExit.phase) && phase === "Succeeded") {
      phase = "Failed";
      message = onExit.message ?? `exit handler ${onExit.displayName} ${onExit.phase}`;
    }
    if (hookError === undefined) await fireHooks();
    if (hookError !== undefined) {
      phase = "Error";
      message = hookError;
    }
    if (e.control.stopMessage && phase === "Succeeded") {
      phase = "Failed";
      message = e.control.stopMessage;
    }
    finishWorkflow(e, phase, message);
  } catch (err) {
    finishWorkflow(e, "Error", messageOf(err));
  } finally {
    deadline?.clear();
    // Whatever ended the run, no daemon outlives it.
    await e.daemons.endAll();
  }
}

/** The variables exit handlers and hooks see once the main tree ended. */
function setEndVariables(e: LifecycleEngine, phase: WorkflowPhase): void {
  const g = e.globals.vars;
  g["workflow.status"] = phase;
  g["workflow.duration"] = String((Date.now() - Date.parse(e.status.startedAt as string)) / 1000);
  g["workflow.failures"] = JSON.stringify(
    Object.values(e.book.nodes)
      .filter((n) => isFailedOrError(n.phase) && (n.type === "Pod" || n.type === "Container"))
      .map((n) => ({ displayName: n.displayName, message: n.message ?? "", templateName: n.templateName ?? "", phase: n.phase, podName: n.id, finishedAt: n.finishedAt ?? "" })),
  );
}

/** The workflow's exit handler (`onExit` / `hooks.exit`), when it has one and may run. */
async function runExitHandler(e: LifecycleEngine, name: string): Promise<NodeStatus | undefined> {
  const spec = e.manifest.spec;
  const exitTemplate = spec.onExit ?? spec.hooks?.["exit"]?.template;
  // The exit handler runs even after a stop caused by failure; not after an interrupt.
  if (!exitTemplate || !e.control.admitExitHandler()) return undefined;
  const exitArgs = spec.hooks?.["exit"]?.arguments ? resolveArgs(e.globals, spec.hooks["exit"].arguments, new Scope(e.globals.vars), `workflow "${name}": hooks.exit`) : NO_ARGS;
  return e.invoke({ name: `${name}.onExit`, displayName: `${name}.onExit`, semaphores: [], exit: true }, { template: exitTemplate }, exitArgs);
}

function finishWorkflow(e: LifecycleEngine, phase: WorkflowPhase, message: string | undefined): void {
  const status = e.status;
  status.phase = phase;
  status.finishedAt = now();
  if (message) status.message = clipMessage(message);
  status.progress = aggregateProgress(status);
  const outputs = e.globals.outputs();
  if (outputs) status.outputs = outputs;
  e.book.changed();
}
