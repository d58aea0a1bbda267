/**
 * Workflow-level settings: the workflow's metadata (`workflowMetadata`) and the fields that pass to Argo's `spec` as they are: the pods' scheduling and
 * security (`nodeSelector`, `tolerations`, `affinity`, `securityContext`, priority, DNS, host
 * aliases, pod metadata), the workflow's disruption budget, log archiving, mutexes and
 * semaphores, and the PVCs it creates. What each means to the local engine is said on the
 * option: most change where and how pods run on a cluster, not what a run computes, and the
 * local engine (which runs no pods) leaves them to Argo.
 */
import type { KubeObject, WorkflowSpec } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";
import type { Expr } from "../expr/tree.ts";

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
export function checkSpecFields(o: WorkflowSpecFields): void {
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
export function renderSpecFields(o: WorkflowSpecFields): Partial<WorkflowSpec> {
  const out: Record<string, unknown> = {};
  for (const k of SPEC_FIELD_NAMES) {
    const v = o[k];
    if (v !== undefined) out[k] = structuredClone(v);
  }
  return out as Partial<WorkflowSpec>;
}
