/**
 * The workflow's settings beyond its entrypoint and arguments: lifecycle hooks (`spec.hooks`),
 * global parameters, retries of every template, the Workflow object's metadata, and the fields
 * that pass to Argo's `spec` as they are — the pods' scheduling and security (`nodeSelector`,
 * `tolerations`, `affinity`, `securityContext`, priority, DNS, host aliases, pod metadata), the
 * disruption budget, log archiving, mutexes and semaphores, the PVCs it creates. What each
 * means to the local engine is said on the option: most change where and how pods run on a
 * cluster, not what a run computes, and the local engine (which runs no pods) leaves them to Argo.
 */
import type { IssueList } from "../argo/compile.ts";
import type { KubeObject, WorkflowSpec } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";
import { isSourced, workflowVar } from "../expr/refs.ts";
import { Expr, type RenderContext, type Variable } from "../expr/tree.ts";
import { checkHooks, renderHooks, type StepHook } from "../steps/step.ts";
import { type RetryOptions, checkRetry, renderRetry } from "../template/retry.ts";
import type { Template } from "../template/template.ts";
import type { GlobalParam } from "./global-param.ts";

/**
 * A lifecycle hook of the workflow (Argo's `spec.hooks`), made with `lifecycleHook`: its
 * condition sees the workflow's variables (`(w) => w.status.eq("Running")` is
 * `workflow.status == "Running"`, global parameters, `workflow.name` …).
 */
export type WorkflowHook = StepHook;

/** Labels and annotations. */
export interface MetadataOptions {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Labels and annotations set on the Workflow object when it starts (Argo's `workflowMetadata`). */
export interface WorkflowMetadataOptions {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Labels computed when the workflow starts, by name: an expr-lang expression (text or a typed
   * `Expr<string>`) over the workflow's variables (`workflow.parameters.x`, `workflow.name`).
   */
  readonly labelsFrom?: Readonly<Record<string, string | Expr<string>>>;
}

/** Mutexes and semaphores a workflow holds while it runs (Argo's `synchronization`). */
export interface SynchronizationOptions {
  /** Mutexes by name (`{ name }`, optionally `namespace` or `database: true`). */
  readonly mutexes?: readonly KubeObject[];
  /** Semaphores (`{ configMapKeyRef: { name, key } }` or `{ database: { key } }`). */
  readonly semaphores?: readonly KubeObject[];
}

/** Argo's workflow-level fields that opflow passes through (see each for the local engine). */
export interface WorkflowSpecFields {
  /** Labels and annotations of every pod of the workflow. Argo only: the local engine runs no pods. @default none */
  readonly podMetadata?: MetadataOptions;
  /** Node labels every pod must match. Argo only. @default none */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Kubernetes tolerations of every pod. Argo only. @default none */
  readonly tolerations?: readonly KubeObject[];
  /** Kubernetes affinity of every pod. Argo only. @default none */
  readonly affinity?: KubeObject;
  /** Pod security context of every pod (`runAsUser`, `fsGroup`, …). Argo only. @default none */
  readonly securityContext?: KubeObject;
  /** Priority class of the pods (Argo's `podPriorityClassName`). Argo only. @default none */
  readonly podPriorityClassName?: string;
  /**
   * The workflow's priority among workflows waiting for the same mutex or semaphore. Argo's
   * `spec.priority`; the local engine only sets `{{workflow.priority}}` from it.
   * @default 0
   */
  readonly priority?: number;
  /** Extra `/etc/hosts` entries of the pods (`{ ip, hostnames }`). Argo only. @default none */
  readonly hostAliases?: readonly KubeObject[];
  /** DNS settings of the pods (`nameservers`, `searches`, `options`). Argo only. @default none */
  readonly dnsConfig?: KubeObject;
  /** DNS policy of the pods (`ClusterFirst`, `None`, …). Argo only. @default Kubernetes' */
  readonly dnsPolicy?: string;
  /** Scheduler of the pods. Argo only. @default Kubernetes' default scheduler */
  readonly schedulerName?: string;
  /**
   * A PodDisruptionBudget for the workflow's pods (`{ minAvailable }` or `{ maxUnavailable }`),
   * so that node drains wait for them. Argo only. @default none
   */
  readonly podDisruptionBudget?: KubeObject;
  /** Archive the logs of every pod in the artifact repository. Argo only: the local engine keeps every log. @default the controller's setting */
  readonly archiveLogs?: boolean;
  /**
   * Mutexes and semaphores held by the whole workflow: only one workflow holding a mutex runs
   * at once. Argo only: the local engine runs each workflow on its own (a run's result does not
   * depend on it). @default none
   */
  readonly synchronization?: SynchronizationOptions;
  /**
   * PersistentVolumeClaims the workflow creates when it starts and deletes when it ends, mounted
   * by name like `volumes`. The local engine gives each a folder of the run shared by its steps.
   * @default none
   */
  readonly volumeClaimTemplates?: readonly KubeObject[];
}

/** The names of {@link WorkflowSpecFields}, in manifest order. */
export const SPEC_FIELD_NAMES = [
  "podMetadata",
  "nodeSelector",
  "tolerations",
  "affinity",
  "securityContext",
  "podPriorityClassName",
  "priority",
  "hostAliases",
  "dnsConfig",
  "dnsPolicy",
  "schedulerName",
  "podDisruptionBudget",
  "archiveLogs",
  "synchronization",
  "volumeClaimTemplates",
] as const satisfies readonly (keyof WorkflowSpecFields & keyof WorkflowSpec)[];

const isPlainObject = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks the fields' shapes.
 * @throws ValidationError naming the field and the value.
 */
function checkSpecFields(o: WorkflowSpecFields): void {
  const bad = (field: string, rule: string, v: unknown): never => {
    throw new ValidationError(`Workflow: ${field} ${rule}, got ${JSON.stringify(v)?.slice(0, 80)}`);
  };
  if (o.priority !== undefined && !Number.isInteger(o.priority)) bad("priority", "must be an integer", o.priority);
  for (const k of ["tolerations", "hostAliases", "volumeClaimTemplates"] as const) {
    const v = o[k];
    if (v !== undefined && (!Array.isArray(v) || !v.every(isPlainObject))) bad(k, "must be a list of objects", v);
  }
  for (const k of ["affinity", "securityContext", "dnsConfig", "podDisruptionBudget"] as const) {
    const v = o[k];
    if (v !== undefined && !isPlainObject(v)) bad(k, "must be an object", v);
  }
  for (const [k, v] of [["nodeSelector", o.nodeSelector], ["podMetadata.labels", o.podMetadata?.labels], ["podMetadata.annotations", o.podMetadata?.annotations]] as const) {
    if (v !== undefined && (!isPlainObject(v) || !Object.values(v).every((x) => typeof x === "string"))) bad(k, "must map names to strings", v);
  }
  if (o.podDisruptionBudget && o.podDisruptionBudget["minAvailable"] !== undefined && o.podDisruptionBudget["maxUnavailable"] !== undefined) {
    bad("podDisruptionBudget", "takes one of minAvailable, maxUnavailable", o.podDisruptionBudget);
  }
  (o.volumeClaimTemplates ?? []).forEach((v, i) => {
    if (typeof (v["metadata"] as { name?: unknown } | undefined)?.name !== "string") bad(`volumeClaimTemplates[${i}]`, "needs metadata.name (the volume's name)", v);
  });
  if (o.synchronization && Object.keys(o.synchronization).some((k) => k !== "mutexes" && k !== "semaphores")) bad("synchronization", "takes mutexes and semaphores", o.synchronization);
}

/** The fields as Argo's `spec` holds them (copies, undefined left out). */
function renderSpecFields(o: WorkflowSpecFields): Partial<WorkflowSpec> {
  const out: Record<string, unknown> = {};
  for (const k of SPEC_FIELD_NAMES) {
    const v = o[k];
    if (v !== undefined) out[k] = structuredClone(v);
  }
  return out as Partial<WorkflowSpec>;
}

/** The workflow's settings (the `Workflow` options beyond its entrypoint and arguments). */
export interface WorkflowSettings extends WorkflowSpecFields {
  /**
   * Global parameters (made with `globalParam`), readable anywhere as
   * `{{workflow.parameters.<name>}}`: declared in `spec.arguments.parameters` with their
   * values; `opflow run -p name=value` overrides them. Their names must differ from the
   * entrypoint's inputs. @default none
   */
  readonly globals?: readonly GlobalParam[];
  /**
   * Lifecycle hooks of the workflow (Argo's `spec.hooks`), by name: each runs its template once,
   * when its condition first holds — evaluated while the workflow runs and once its main tree
   * has ended, before the exit handler (which waits for them). `workflow.status` is "Running"
   * until the entrypoint ends, then its phase ("Succeeded", "Failed", "Error"). The name `exit`
   * is the exit handler (as `onExit`, with parameters). A hook's failure does not change the
   * workflow's phase.
   * @example
   * hooks: {
   *   running: lifecycleHook(notify, { when: (w) => w.status.eq("Running"), parameters: { what: "started" } }),
   *   failed: lifecycleHook(notify, { when: (w) => w.status.eq("Failed"), parameters: { what: "failed" } }),
   * }
   * @default none
   */
  readonly hooks?: Readonly<Record<string, WorkflowHook>>;
  /**
   * Retries of every template that has no `retry` of its own (Argo's `spec.retryStrategy`),
   * Steps and DAG templates included. A number means that many retries of any failure.
   * @default no retries
   */
  readonly retry?: RetryOptions | number;
  /**
   * Labels and annotations set on the Workflow object when it starts; `{{workflow.labels.<n>}}`
   * and `{{workflow.annotations.<n>}}` see them (the local engine's too). @default none
   */
  readonly workflowMetadata?: WorkflowMetadataOptions;
}

/**
 * Checks the settings (`onExit`: the workflow's exit handler, which `hooks.exit` must not repeat).
 * @throws ValidationError naming the field and the value.
 */
export function checkWorkflowSettings(o: WorkflowSettings & { readonly onExit?: unknown }): void {
  checkSpecFields(o);
  if (o.hooks) {
    checkHooks("Workflow", o.hooks);
    if (o.onExit && o.hooks["exit"]) throw new ValidationError("Workflow: onExit and hooks.exit are both given; Argo runs one exit handler: keep one");
  }
  if (o.retry !== undefined) checkRetry("workflow", o.retry);
  const seen = new Set<string>();
  for (const g of o.globals ?? []) {
    if (typeof (g as { toArgoParameter?: unknown } | undefined)?.toArgoParameter !== "function") throw new ValidationError(`Workflow: globals must be made with globalParam(), got ${JSON.stringify(g)?.slice(0, 80)}`);
    if (seen.has(g.name)) throw new ValidationError(`Workflow: global parameter "${g.name}" is listed twice`);
    seen.add(g.name);
    g.toArgoParameter();
  }
  const m = o.workflowMetadata;
  for (const [field, rec] of [["labels", m?.labels], ["annotations", m?.annotations]] as const) {
    for (const [k, v] of Object.entries(rec ?? {})) if (typeof v !== "string") throw new ValidationError(`Workflow: workflowMetadata.${field}.${k} must be a string, got ${JSON.stringify(v)}`);
  }
  for (const [k, v] of Object.entries(m?.labelsFrom ?? {})) {
    if (typeof v !== "string" && !(v instanceof Expr)) throw new ValidationError(`Workflow: workflowMetadata.labelsFrom.${k} must be an expression (text or Expr), got ${JSON.stringify(v)}`);
  }
}

/**
 * The render context of workflow-level expressions (hooks, labelsFrom): they see the
 * workflow's variables only (`workflow.*`, global parameters), not a template's inputs or steps.
 */
function workflowContext(where: string): RenderContext {
  return {
    template: where,
    resolve: (v: Variable, path: readonly string[]) => {
      if (isSourced(v) && v.source.type === "workflow") return path;
      throw new ValidationError(`${where}: refers to ${v.describe()}, which is out of scope: workflow-level expressions see workflow variables only (workflow.status, global parameters, …)`);
    },
  };
}

/**
 * The settings as Argo's `spec` holds them: `hooks` (placed after `onExit`) and the `rest`;
 * problems go to `issues`. `nameOf` names the compiled hook templates.
 */
export function renderWorkflowSettings(o: WorkflowSettings, nameOf: (t: Template) => string, issues: IssueList): { hooks?: WorkflowSpec["hooks"]; rest: Partial<WorkflowSpec> } {
  let hooks: WorkflowSpec["hooks"];
  if (o.hooks && Object.keys(o.hooks).length) {
    try {
      hooks = renderHooks(o.hooks, { nameOf }, workflowContext("Workflow: hooks"), { status: workflowVar("status") });
    } catch (e) {
      issues.addError(["hooks"], e);
    }
  }
  let workflowMetadata: WorkflowSpec["workflowMetadata"];
  if (o.workflowMetadata) {
    const m = o.workflowMetadata;
    try {
      const ctx = workflowContext("Workflow: workflowMetadata.labelsFrom");
      workflowMetadata = {
        ...(m.labels ? { labels: { ...m.labels } } : {}),
        ...(m.annotations ? { annotations: { ...m.annotations } } : {}),
        ...(m.labelsFrom ? { labelsFrom: Object.fromEntries(Object.entries(m.labelsFrom).map(([k, v]) => [k, { expression: typeof v === "string" ? v : v.renderExpr(ctx) }])) } : {}),
      };
    } catch (e) {
      issues.addError(["workflowMetadata"], e);
    }
  }
  const rest: Partial<WorkflowSpec> = {
    ...(o.retry !== undefined ? { retryStrategy: renderRetry("workflow", o.retry, "failure") } : {}),
    ...(workflowMetadata ? { workflowMetadata } : {}),
    ...renderSpecFields(o),
  };
  return { ...(hooks ? { hooks } : {}), rest };
}
