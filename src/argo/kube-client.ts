/**
 * {@link ArgoClient} over the Kubernetes API with `@kubernetes/client-node`: Workflows are
 * custom objects of `argoproj.io/v1alpha1`; control actions are patches and updates of the
 * object, as the argo CLI does without Argo Server; logs are pod logs.
 */
import type { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { kubernetes } from "./_kubernetes.ts";
import type { Workflow } from "./model.ts";
import type {
  ArgoClient,
  CreateOptions,
  PodLogOptions,
  NodeSetOptions,
  WorkflowResubmitOptions,
  WorkflowResumeOptions,
  WorkflowRetryOptions,
  WatchEventType,
  WorkflowListFilter,
} from "./client.ts";
import type { KubernetesClusterConfig } from "./cluster-config.ts";
import { ClusterApiError, toClusterApiError, type ApiVerb } from "./api-errors.ts";
import { filterWorkflows, labelSelector, resubmittedWorkflow, retriedWorkflow, retryPlan } from "./control.ts";
import { resumedWorkflow, setWorkflowNodes } from "./suspend-nodes.ts";
import { SubmitError } from "../errors.ts";
import { podNameOf } from "./pod-name.ts";
import { CACHE_CONFIGMAP_LABEL, CACHE_CONFIGMAP_TYPE, checkReuseTargets, memoCacheEntry, memoConfigMap, memoConfigMapName, memoizeKeyedTemplates, type ConfigMapObject } from "./memoize.ts";
import { keyedStepsOf, reusableSteps, stepOutputs } from "./reuse.ts";

const GROUP = "argoproj.io";
const VERSION = "v1alpha1";
const PLURAL = "workflows";
const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

/** A name as Argo generates it from `generateName`: the prefix plus 5 random characters. */
function generatedName(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 5; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

function kubeSecrets(kc: KubeConfig): string[] {
  const user = kc.getCurrentUser();
  const out: string[] = [];
  if (user?.token) out.push(user.token);
  if (user?.password) out.push(user.password);
  return out;
}

/**
 * Talks to the Kubernetes API server named by a kubeconfig context or the in-cluster service
 * account.
 *
 * @example
 * ```ts
 * const client = new KubernetesArgoClient(resolveClusterConfig({ context: "kind-argo" }) as KubernetesClusterConfig);
 * const created = await client.create(manifest);
 * ```
 */
export class KubernetesArgoClient implements ArgoClient {
  readonly backend = "kubernetes" as const;
  readonly namespace: string;
  readonly endpoint: string;
  readonly #kc: KubeConfig;
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;

  constructor(config: KubernetesClusterConfig) {
    this.namespace = config.namespace;
    this.endpoint = config.server;
    this.#kc = config.kubeConfig;
    const k8s = kubernetes();
    this.#custom = config.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.#core = config.kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  async #call<T>(verb: ApiVerb, name: string | undefined, fn: () => Promise<T>, resource = PLURAL, action?: string): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toClusterApiError(error, {
        backend: "kubernetes",
        verb,
        resource,
        group: resource === PLURAL ? GROUP : "",
        namespace: this.namespace,
        name,
        endpoint: this.endpoint,
        secrets: kubeSecrets(this.#kc),
        action,
      });
    }
  }

  containsSecret(text: string): boolean {
    return kubeSecrets(this.#kc).some((secret) => secret.length >= 4 && text.includes(secret));
  }

  #base() {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL };
  }

  async create(manifest: Workflow, options: CreateOptions = {}): Promise<Workflow> {
    if (options.reuse?.length) return this.#createReusing(manifest, options);
    const body = { ...manifest, metadata: { ...manifest.metadata, namespace: this.namespace } };
    return this.#call("create", manifest.metadata.name ?? manifest.metadata.generateName, async () => {
      return (await this.#custom.createNamespacedCustomObject({ ...this.#base(), body, fieldValidation: "Strict" })) as Workflow;
    });
  }

  /**
   * Keyed reuse: names the workflow (the cache is named after it), puts `memoize` on its keyed
   * templates, writes the reused steps' outputs into its memoization ConfigMap, creates it, and
   * makes the workflow the ConfigMap's owner (deleted with it).
   */
  async #createReusing(manifest: Workflow, options: CreateOptions): Promise<Workflow> {
    const steps = reusableSteps(options.reuse ?? []);
    const name = manifest.metadata.name ?? generatedName(manifest.metadata.generateName ?? "");
    const named: Workflow = { ...manifest, metadata: { ...manifest.metadata, name } };
    delete named.metadata.generateName;
    checkReuseTargets(named, steps.values());
    const memoized = memoizeKeyedTemplates(named, options.memoMaxAge !== undefined ? { maxAge: options.memoMaxAge } : {});
    const cmName = memoConfigMapName(name);
    await this.writeMemoCache(memoConfigMap(cmName, [...steps].map(([key, s]) => memoCacheEntry(key, s.id, stepOutputs(s)))));
    const created = await this.create(memoized);
    const uid = created.metadata.uid;
    if (uid) {
      // Best effort: without it the ConfigMap merely outlives the workflow.
      await this.#call(
        "patch",
        cmName,
        () =>
          this.#core.patchNamespacedConfigMap(
            { name: cmName, namespace: this.namespace, body: { metadata: { ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: "Workflow", name, uid }] } } },
            kubernetes().setHeaderOptions("Content-Type", kubernetes().PatchStrategy.MergePatch),
          ),
        "configmaps",
        "own memoization cache",
      ).catch(() => undefined);
    }
    return created;
  }

  /**
   * Writes the entries of a memoization ConfigMap: creates it, or adds them to the one there
   * (which must carry Argo's cache label: any other ConfigMap of that name is left alone).
   */
  async writeMemoCache(cm: ConfigMapObject): Promise<void> {
    const name = cm.metadata.name;
    for (let attempt = 0; ; attempt++) {
      let current: ConfigMapObject | undefined;
      try {
        current = (await this.#call("get", name, () => this.#core.readNamespacedConfigMap({ name, namespace: this.namespace }), "configmaps")) as unknown as ConfigMapObject;
      } catch (error) {
        if (!(error instanceof ClusterApiError && error.reason === "NotFound")) throw error;
      }
      try {
        if (!current) {
          await this.#call("create", name, () => this.#core.createNamespacedConfigMap({ namespace: this.namespace, body: { ...cm, metadata: { ...cm.metadata, namespace: this.namespace } } }), "configmaps", "write memoization cache");
          return;
        }
        if (current.metadata.labels?.[CACHE_CONFIGMAP_LABEL] !== CACHE_CONFIGMAP_TYPE) {
          throw new ClusterApiError(
            `ConfigMap "${name}" in namespace "${this.namespace}" exists but is not a memoization cache (label ${CACHE_CONFIGMAP_LABEL}: ${CACHE_CONFIGMAP_TYPE} missing); refusing to write reused steps into it`,
            "Conflict",
            409,
          );
        }
        const body = { ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, ...cm.metadata.labels } }, data: { ...(current.data ?? {}), ...cm.data } };
        await this.#call("update", name, () => this.#core.replaceNamespacedConfigMap({ name, namespace: this.namespace, body }), "configmaps", "write memoization cache");
        return;
      } catch (error) {
        const raced = error instanceof ClusterApiError && (error.reason === "Conflict" || error.reason === "AlreadyExists") && error.status === 409 && !/not a memoization cache/.test(error.message);
        if (raced && attempt < 4) continue;
        throw error;
      }
    }
  }

  async get(name: string): Promise<Workflow> {
    return this.#call("get", name, async () => (await this.#custom.getNamespacedCustomObject({ ...this.#base(), name })) as Workflow);
  }

  async list(filter: WorkflowListFilter = {}): Promise<Workflow[]> {
    const selector = labelSelector(filter);
    const items: Workflow[] = [];
    let token: string | undefined;
    do {
      const page = (await this.#call("list", undefined, () =>
        this.#custom.listNamespacedCustomObject({
          ...this.#base(),
          ...(selector ? { labelSelector: selector } : {}),
          limit: 500,
          ...(token ? { _continue: token } : {}),
        }),
      )) as { items?: Workflow[]; metadata?: { continue?: string } };
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token);
    return filterWorkflows(items, filter);
  }

  async watch(name: string, onEvent: (type: WatchEventType, workflow: Workflow) => void, signal: AbortSignal): Promise<void> {
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(this.namespace)}/${PLURAL}`;
    const watcher = new (kubernetes().Watch)(this.#kc);
    await new Promise<void>((resolve, reject) => {
      let controller: AbortController | undefined;
      let settled = false;
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        if (error && !signal.aborted) reject(error);
        else resolve();
      };
      const onAbort = (): void => {
        controller?.abort();
        finish();
      };
      signal.addEventListener("abort", onAbort);
      watcher
        .watch(
          path,
          { fieldSelector: `metadata.name=${name}` },
          (type: string, obj: unknown) => {
            if (type === "ERROR") {
              finish(Object.assign(new Error("watch error"), { code: (obj as { code?: number }).code ?? 500, body: obj }));
              return;
            }
            if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") onEvent(type, obj as Workflow);
          },
          (error: unknown) => finish(error ?? undefined),
        )
        .then(
          (c) => {
            controller = c;
            if (signal.aborted) c.abort();
          },
          (error: unknown) => finish(error),
        );
    }).catch((error: unknown) => {
      throw toClusterApiError(error, {
        backend: "kubernetes",
        verb: "watch",
        resource: PLURAL,
        group: GROUP,
        namespace: this.namespace,
        name,
        endpoint: this.endpoint,
        secrets: kubeSecrets(this.#kc),
      });
    });
  }

  async delete(name: string): Promise<void> {
    await this.#call("delete", name, () => this.#custom.deleteNamespacedCustomObject({ ...this.#base(), name }));
  }

  async #mergePatch(name: string, body: object, action: string): Promise<Workflow> {
    return this.#call(
      "patch",
      name,
      async () =>
        (await this.#custom.patchNamespacedCustomObject(
          { ...this.#base(), name, body },
          kubernetes().setHeaderOptions("Content-Type", kubernetes().PatchStrategy.MergePatch),
        )) as Workflow,
      PLURAL,
      action,
    );
  }

  async #update(name: string, action: string, change: (wf: Workflow) => Workflow): Promise<Workflow> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(name);
      const next = change(current);
      try {
        return await this.#call(
          "update",
          name,
          async () => (await this.#custom.replaceNamespacedCustomObject({ ...this.#base(), name, body: next })) as Workflow,
          PLURAL,
          action,
        );
      } catch (error) {
        if (error instanceof ClusterApiError && error.reason === "Conflict" && attempt < 4) continue;
        throw error;
      }
    }
  }

  terminate(name: string): Promise<Workflow> {
    return this.#mergePatch(name, { spec: { shutdown: "Terminate" } }, "terminate");
  }

  stop(name: string): Promise<Workflow> {
    return this.#mergePatch(name, { spec: { shutdown: "Stop" } }, "stop");
  }

  suspend(name: string): Promise<Workflow> {
    return this.#mergePatch(name, { spec: { suspend: true } }, "suspend");
  }

  resume(name: string, options: WorkflowResumeOptions = {}): Promise<Workflow> {
    return this.#update(name, "resume", (wf) => this.#checked(name, "resume", () => resumedWorkflow(wf, options.nodeFieldSelector)));
  }

  setNodes(name: string, options: NodeSetOptions): Promise<Workflow> {
    return this.#update(name, "set", (wf) => this.#checked(name, "set nodes of", () => setWorkflowNodes(wf, options)));
  }

  /** A change Argo refuses (no node matches, an output not expected …) as a 400, naming the workflow. */
  #checked(name: string, action: string, change: () => Workflow): Workflow {
    try {
      return change();
    } catch (error) {
      if (error instanceof SubmitError) throw new ClusterApiError(`cannot ${action} workflow "${name}": ${error.message} (400)`, "BadRequest", 400);
      throw error;
    }
  }

  async retry(name: string, options: WorkflowRetryOptions = {}): Promise<Workflow> {
    // As the argo CLI does without Argo Server: delete the pods of the nodes to re-run (the
    // controller would otherwise adopt the failed pods again), then update the workflow.
    const plan = retryPlan(await this.get(name), options);
    for (const node of plan.removedPods) {
      const pod = podNameOf(plan.workflow, node);
      try {
        await this.#call("delete", pod, () => this.#core.deleteNamespacedPod({ name: pod, namespace: this.namespace }), "pods", "delete pod of retried step");
      } catch (error) {
        if (!(error instanceof ClusterApiError && error.reason === "NotFound")) throw error;
      }
    }
    return this.#update(name, "retry", (wf) => retriedWorkflow(wf, options));
  }

  async resubmit(name: string, options: WorkflowResubmitOptions = {}): Promise<Workflow> {
    if (options.memoized) {
      throw new ClusterApiError(
        `cannot resubmit workflow "${name}" memoized: memoized resubmission needs Argo Server (set ARGO_SERVER); opflow's step reuse works on both back-ends`,
        "BadRequest",
        undefined,
      );
    }
    const original = await this.get(name);
    const reuse = options.reuse ? keyedStepsOf(original, options.reuse) : [];
    return this.create(resubmittedWorkflow(original), reuse.length ? { reuse } : {});
  }

  async podLogs(workflowName: string, podName: string, options: PodLogOptions = {}): Promise<string> {
    void workflowName;
    const text = await this.#call(
      "get",
      podName,
      () =>
        this.#core.readNamespacedPodLog({
          name: podName,
          namespace: this.namespace,
          container: options.container ?? "main",
          ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
        }),
      "pods/log",
    );
    return typeof text === "string" ? text : String(text ?? "");
  }
}
