/**
 * How opflow connects to a cluster: resolved once, at the edge, from explicit options, the
 * environment and the kubeconfig, then passed down as a value (STYLE.md, "State").
 *
 * Two back-ends, as the argo CLI and dflow users know them:
 * - **Kubernetes API** through `@kubernetes/client-node`: a kubeconfig file and context, or the
 *   in-cluster service account of the pod opflow runs in.
 * - **Argo Server** over HTTP(S) with a bearer token (`ARGO_SERVER`, `ARGO_TOKEN`).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { SubmitError } from "../errors.ts";
import { kubernetes } from "./_kubernetes.ts";

/** Where the in-cluster service account's token, namespace and CA live in a pod. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Options that choose and configure the connection. Every field is optional. */
export interface ClusterOptions {
  /**
   * Argo Server base URL (`https://argo.example.org:2746`). When set, opflow talks to Argo
   * Server instead of the Kubernetes API.
   * @default `ARGO_SERVER` from the environment (a bare `host:port` gets `https://`, or
   * `http://` when `ARGO_SECURE=false`); unset means the Kubernetes API.
   */
  readonly argoServer?: string;
  /**
   * Bearer token for Argo Server (with or without the `Bearer ` prefix). Never logged, never
   * part of an error message, never written into a manifest.
   * @default `ARGO_TOKEN` from the environment; none when unset
   */
  readonly token?: string;
  /**
   * Accept any TLS certificate from Argo Server.
   * @default `ARGO_INSECURE_SKIP_VERIFY=true` in the environment, else false
   */
  readonly insecureSkipTLSVerify?: boolean;
  /**
   * Path of the kubeconfig file.
   * @default the first file of `KUBECONFIG`, else `~/.kube/config`
   */
  readonly kubeconfig?: string;
  /**
   * Kubeconfig context to use.
   * @default the kubeconfig's `current-context`
   */
  readonly context?: string;
  /**
   * Use the pod's service account (token, namespace and CA under {@link serviceAccountDir}).
   * @default true when no kubeconfig file exists and `KUBERNETES_SERVICE_HOST` is set
   */
  readonly inCluster?: boolean;
  /**
   * Folder holding the service account's `token`, `namespace` and `ca.crt`.
   * @default {@link SERVICE_ACCOUNT_DIR}
   */
  readonly serviceAccountDir?: string;
  /**
   * Namespace of the workflows.
   * @default `ARGO_NAMESPACE`, else the context's (or service account's) namespace, else `default`
   */
  readonly namespace?: string;
  /**
   * The environment to read defaults from.
   * @default `process.env`
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A resolved connection to the Kubernetes API. */
export interface KubernetesClusterConfig {
  readonly kind: "kubernetes";
  readonly namespace: string;
  /** The loaded configuration, with the chosen context current. */
  readonly kubeConfig: KubeConfig;
  /** The API server URL. */
  readonly server: string;
  /** Where the credentials came from: a kubeconfig file, or the in-cluster service account. */
  readonly source: "kubeconfig" | "in-cluster";
  /** The kubeconfig file, when {@link source} is `kubeconfig`. */
  readonly kubeconfigPath?: string;
  /** The context in use. */
  readonly context: string;
}

/** A resolved connection to Argo Server. The token is held privately and never serialised. */
export class ArgoServerClusterConfig {
  readonly kind = "argo-server" as const;
  readonly #token: string | undefined;

  constructor(
    /** Base URL without a trailing slash. */
    readonly url: string,
    readonly namespace: string,
    token: string | undefined,
    readonly insecureSkipTLSVerify: boolean,
  ) {
    const bare = token?.trim().replace(/^Bearer\s+/i, "");
    this.#token = bare ? bare : undefined;
  }

  /** Whether a token was configured. */
  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  /** The `Authorization` header value, or undefined without a token. */
  authorization(): string | undefined {
    return this.#token === undefined ? undefined : `Bearer ${this.#token}`;
  }

  /** Strings that must never appear in a message (the token). */
  secrets(): readonly string[] {
    return this.#token === undefined ? [] : [this.#token];
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      url: this.url,
      namespace: this.namespace,
      token: this.#token === undefined ? undefined : "[redacted]",
      insecureSkipTLSVerify: this.insecureSkipTLSVerify,
    };
  }
}

/** Where and how to reach workflows. */
export type ClusterConfig = KubernetesClusterConfig | ArgoServerClusterConfig;

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

function normaliseArgoServerUrl(raw: string, env: Readonly<Record<string, string | undefined>>): string {
  let url = raw.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    const secure = env["ARGO_SECURE"] === undefined || truthy(env["ARGO_SECURE"]);
    url = `${secure ? "https" : "http"}://${url}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SubmitError(`Argo Server URL ${JSON.stringify(raw)} is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new SubmitError(`Argo Server URL ${JSON.stringify(raw)} must use http or https, got ${parsed.protocol}`);
  }
  const base = env["ARGO_BASE_HREF"]?.replace(/^\/*/, "/").replace(/\/+$/, "") ?? "";
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}${base}`;
}

function defaultKubeconfigPaths(env: Readonly<Record<string, string | undefined>>): { paths: string[]; from: string } {
  const list = env["KUBECONFIG"];
  if (list) return { paths: list.split(path.delimiter).filter(Boolean), from: "KUBECONFIG" };
  const home = env["HOME"] ?? os.homedir();
  return { paths: [path.join(home, ".kube", "config")], from: "~/.kube/config" };
}

function loadInCluster(options: ClusterOptions, env: Readonly<Record<string, string | undefined>>): KubernetesClusterConfig {
  const host = env["KUBERNETES_SERVICE_HOST"];
  const port = env["KUBERNETES_SERVICE_PORT"] ?? "443";
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenFile = path.join(dir, "token");
  if (!host) {
    throw new SubmitError(
      "in-cluster configuration: KUBERNETES_SERVICE_HOST is not set (opflow is not running in a Kubernetes pod)",
    );
  }
  if (!fs.existsSync(tokenFile)) {
    throw new SubmitError(`in-cluster configuration: no service account token at ${tokenFile} (is automountServiceAccountToken false?)`);
  }
  const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const server = `${scheme}://${hostPart}:${port}`;
  const caFile = path.join(dir, "ca.crt");
  const nsFile = path.join(dir, "namespace");
  const saNamespace = fs.existsSync(nsFile) ? fs.readFileSync(nsFile, "utf8").trim() : undefined;
  const kc = new (kubernetes().KubeConfig)();
  kc.loadFromOptions({
    clusters: [{ name: "inCluster", server, caFile: fs.existsSync(caFile) ? caFile : undefined, skipTLSVerify: false }],
    users: [{ name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile } } }],
    contexts: [{ name: "inClusterContext", cluster: "inCluster", user: "inClusterUser", namespace: saNamespace }],
    currentContext: "inClusterContext",
  });
  const namespace = options.namespace ?? env["ARGO_NAMESPACE"] ?? saNamespace ?? "default";
  return { kind: "kubernetes", namespace, kubeConfig: kc, server, source: "in-cluster", context: "inClusterContext" };
}

/**
 * Resolves how to connect, from explicit options first, then the environment, then the
 * kubeconfig. Throws a {@link SubmitError} that says what was looked at when nothing fits.
 *
 * @example
 * ```ts
 * const config = resolveClusterConfig({ context: "kind-argo", namespace: "argo" });
 * const viaServer = resolveClusterConfig({ argoServer: "https://argo.example.org:2746", token: process.env.ARGO_TOKEN });
 * ```
 */
export function resolveClusterConfig(options: ClusterOptions = {}): ClusterConfig {
  const env = options.env ?? process.env;
  const argoServer = options.argoServer ?? env["ARGO_SERVER"];
  if (argoServer) {
    const url = normaliseArgoServerUrl(argoServer, env);
    const namespace = options.namespace ?? env["ARGO_NAMESPACE"] ?? "default";
    const insecure = options.insecureSkipTLSVerify ?? truthy(env["ARGO_INSECURE_SKIP_VERIFY"]);
    return new ArgoServerClusterConfig(url, namespace, options.token ?? env["ARGO_TOKEN"], insecure);
  }
  if (options.inCluster === true) return loadInCluster(options, env);

  const explicit = options.kubeconfig;
  const { paths, from } = explicit ? { paths: [explicit], from: "--kubeconfig" } : defaultKubeconfigPaths(env);
  const existing = paths.filter((p) => fs.existsSync(p));
  if (existing.length === 0) {
    if (!explicit && options.inCluster === undefined && env["KUBERNETES_SERVICE_HOST"]) return loadInCluster(options, env);
    const looked = paths.map((p) => `${p} (${from}, missing)`).join(", ");
    throw new SubmitError(
      `no kubeconfig: looked at ${looked}; not in a pod (KUBERNETES_SERVICE_HOST unset). ` +
        "Set KUBECONFIG or pass --kubeconfig, run inside the cluster, or use an Argo Server (ARGO_SERVER and ARGO_TOKEN)",
    );
  }
  const kc = new (kubernetes().KubeConfig)();
  const file = existing[0] as string;
  try {
    kc.loadFromFile(file);
    for (const more of existing.slice(1)) {
      const extra = new (kubernetes().KubeConfig)();
      extra.loadFromFile(more);
      kc.mergeConfig(extra, true);
    }
  } catch (error) {
    throw new SubmitError(`kubeconfig ${file}: cannot be read: ${(error as Error).message}`);
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new SubmitError(
        `kubeconfig ${file}: context ${JSON.stringify(options.context)} does not exist (contexts: ${known.join(", ") || "none"})`,
      );
    }
    kc.setCurrentContext(options.context);
  }
  const contextName = kc.getCurrentContext();
  const context = contextName ? kc.getContextObject(contextName) : null;
  if (!context) {
    throw new SubmitError(`kubeconfig ${file}: no current-context is set; pass --context (contexts: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new SubmitError(`kubeconfig ${file}: context ${JSON.stringify(contextName)} names cluster ${JSON.stringify(context.cluster)}, which is not defined`);
  }
  const namespace = options.namespace ?? env["ARGO_NAMESPACE"] ?? context.namespace ?? "default";
  return {
    kind: "kubernetes",
    namespace,
    kubeConfig: kc,
    server: cluster.server,
    source: "kubeconfig",
    kubeconfigPath: file,
    context: contextName,
  };
}
