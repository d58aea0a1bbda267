/**
 * `ArgoClient`: the one interface opflow uses to create, read, watch and control Workflows on
 * a cluster, and its option types. Implementations (`KubernetesArgoClient`, `ArgoServerClient`,
 * the local engine's `LocalArgoClient`) import this file; `createArgoClient`
 * (create-argo-client.ts) picks a cluster implementation, so this file imports none of them.
 */
import type { NodePhase, Workflow, WorkflowPhase } from "./model.ts";
import type { ArgoStep } from "./query.ts";

/** Which workflows {@link ArgoClient.list} returns. All conditions must hold. */
export interface WorkflowListFilter {
  /**
   * Label selector, as a string (`app=x,team!=y`) or a map of equalities.
   * @default no label condition
   */
  readonly labels?: string | Readonly<Record<string, string>>;
  /**
   * Workflow phases to keep (`Running`, `Failed` …). `Pending` also matches a workflow the
   * controller has not picked up yet (empty phase).
   * @default any phase
   */
  readonly phases?: readonly WorkflowPhase[];
  /**
   * Keep workflows whose name starts with this.
   * @default any name
   */
  readonly namePrefix?: string;
}

/** Options of {@link ArgoClient.podLogs}. */
export interface PodLogOptions {
  /**
   * Container of the pod.
   * @default "main"
   */
  readonly container?: string;
  /**
   * Only the last N lines.
   * @default all lines
   */
  readonly tailLines?: number;
}

/** Options of {@link ArgoClient.retry}. */
/** What `argo node set` (the API's `/set`) changes on the suspend nodes a selector matches. */
export interface NodeSetOptions {
  /** Argo node field selector naming the suspend nodes (`displayName=approve`). */
  readonly nodeFieldSelector: string;
  /**
   * Values of the nodes' `valueFrom.supplied` output parameters, by name.
   * @default none
   */
  readonly outputParameters?: Readonly<Record<string, string>>;
  /**
   * The nodes' new message.
   * @default unchanged
   */
  readonly message?: string;
  /**
   * The nodes' new phase (`Succeeded` resumes them; `Failed` or `Error` ends them so).
   * @default unchanged: the nodes keep waiting
   */
  readonly phase?: NodePhase;
}

/** Options of {@link ArgoClient.resume}. */
export interface WorkflowResumeOptions {
  /**
   * Resume only the suspend nodes this Argo node field selector matches (`displayName=approve`),
   * as `argo resume --node-field-selector`; a selector that matches none is an error.
   * @default every waiting suspend node (and a workflow suspended as a whole)
   */
  readonly nodeFieldSelector?: string;
}

export interface WorkflowRetryOptions {
  /**
   * Also re-run succeeded nodes matched by {@link nodeFieldSelector}.
   * @default false
   */
  readonly restartSuccessful?: boolean;
  /**
   * Argo node field selector (`templateName=train`), used with {@link restartSuccessful}.
   * @default none
   */
  readonly nodeFieldSelector?: string;
}

/** Options of {@link ArgoClient.resubmit}. */
export interface WorkflowResubmitOptions {
  /**
   * Reuse Argo's memoized results of the original run (Argo Server only; Argo requires the
   * original workflow to have failed).
   * @default false
   */
  readonly memoized?: boolean;
  /**
   * Take over the original run's Succeeded keyed steps whose key matches: comma-separated
   * globs (`*` any characters), `"*"` for all (opflow's keyed reuse: on Argo through the new
   * workflow's memoization ConfigMap, Kubernetes API only).
   * @default nothing reused
   */
  readonly reuse?: string;
}

/** Options of {@link ArgoClient.create}. */
export interface CreateOptions {
  /**
   * Succeeded keyed steps of earlier runs (from `querySteps`, possibly through `modifyOutputs`)
   * that the new workflow takes over instead of running the steps with the same keys. On Argo
   * the keyed templates get `memoize` and the steps' outputs are written into the workflow's
   * memoization ConfigMap first (Kubernetes API only); the local engine takes them over itself.
   * @default none
   */
  readonly reuse?: readonly ArgoStep[];
  /**
   * How long Argo trusts a memoization cache entry (`memoize.maxAge`, a Go duration).
   * @default "720h"
   */
  readonly memoMaxAge?: string;
}

/** A change seen by {@link ArgoClient.watch}. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/**
 * What opflow needs from a cluster. Every method throws a `ClusterApiError` (a `SubmitError`)
 * with a clear message on failure; no message ever holds a token.
 */
export interface ArgoClient {
  /** `kubernetes`, `argo-server`, or `local` (the local engine, `LocalArgoClient`). */
  readonly backend: "kubernetes" | "argo-server" | "local";
  /** Namespace every call acts in. */
  readonly namespace: string;
  /** Server URL, for messages. */
  readonly endpoint: string;
  /**
   * Whether `text` contains one of the credentials this client sends (its bearer token or
   * kubeconfig password), without revealing them: used to refuse manifests that carry one.
   */
  containsSecret(text: string): boolean;
  /** Creates a workflow; returns it as stored (with its generated name). */
  create(manifest: Workflow, options?: CreateOptions): Promise<Workflow>;
  /** Reads a workflow with its status. */
  get(name: string): Promise<Workflow>;
  /** Lists workflows, newest first. */
  list(filter?: WorkflowListFilter): Promise<Workflow[]>;
  /**
   * Streams changes of one workflow to `onEvent` until `signal` aborts or the server closes
   * the stream (then the promise resolves; callers re-watch or poll).
   */
  watch(name: string, onEvent: (type: WatchEventType, workflow: Workflow) => void, signal: AbortSignal): Promise<void>;
  /** Deletes a workflow (its pods go with it). */
  delete(name: string): Promise<void>;
  /** Stops a workflow at once, without running exit handlers (`spec.shutdown: Terminate`). */
  terminate(name: string): Promise<Workflow>;
  /** Stops a workflow, running its exit handlers (`spec.shutdown: Stop`). */
  stop(name: string): Promise<Workflow>;
  /** Suspends a workflow: no new step starts (`spec.suspend: true`). */
  suspend(name: string): Promise<Workflow>;
  /**
   * Resumes a suspended workflow and its suspend nodes waiting for a person (all, or those
   * `nodeFieldSelector` matches), as `argo resume`.
   */
  resume(name: string, options?: WorkflowResumeOptions): Promise<Workflow>;
  /**
   * Sets supplied output parameters, the message or the phase of the waiting suspend nodes a
   * node field selector matches, as `argo node set`.
   */
  setNodes(name: string, options: NodeSetOptions): Promise<Workflow>;
  /** Re-runs the failed part of a Failed or Error workflow, in place. */
  retry(name: string, options?: WorkflowRetryOptions): Promise<Workflow>;
  /** Submits a copy of a workflow under a new generated name; returns the new workflow. */
  resubmit(name: string, options?: WorkflowResubmitOptions): Promise<Workflow>;
  /** Logs of one pod of a workflow. */
  podLogs(workflowName: string, podName: string, options?: PodLogOptions): Promise<string>;
}
