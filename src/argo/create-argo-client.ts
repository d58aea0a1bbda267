/**
 * {@link createArgoClient}: picks the {@link ArgoClient} implementation that fits resolved
 * {@link ClusterOptions}: {@link KubernetesArgoClient} (Kubernetes API through
 * `@kubernetes/client-node`) or {@link ArgoServerClient} (Argo Server's REST API with a bearer
 * token).
 */
import type { ArgoClient } from "./client.ts";
import { resolveClusterConfig, type ClusterConfig, type ClusterOptions } from "./cluster-config.ts";
import { KubernetesArgoClient } from "./kube-client.ts";
import { ArgoServerClient } from "./argo-server-client.ts";

/**
 * Creates the client that fits `options` (or an already resolved {@link ClusterConfig}).
 *
 * @example
 * ```ts
 * const client = createArgoClient({ namespace: "argo" });            // kubeconfig
 * const viaServer = createArgoClient({ argoServer: "https://argo:2746", token: process.env.ARGO_TOKEN });
 * const wf = await client.get("hello-x7k2p");
 * ```
 */
export function createArgoClient(options: ClusterOptions | ClusterConfig = {}): ArgoClient {
  const config: ClusterConfig = "kind" in options ? options : resolveClusterConfig(options);
  return config.kind === "kubernetes" ? new KubernetesArgoClient(config) : new ArgoServerClient(config);
}

export { KubernetesArgoClient, ArgoServerClient };
