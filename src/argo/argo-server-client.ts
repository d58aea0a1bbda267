/**
 * {@link ArgoClient} over Argo Server's REST API (`/api/v1/workflows/{namespace}` …) with a
 * bearer token, the connection dflow users configure with `ARGO_SERVER` and `ARGO_TOKEN`.
 * Streams (`workflow-events`, `log`) are newline-delimited JSON of `{"result": …}` objects.
 */
import http from "node:http";
import https from "node:https";
import type { Workflow } from "./model.ts";
import type {
  CreateOptions,
  ArgoClient,
  PodLogOptions,
  NodeSetOptions,
  WorkflowResubmitOptions,
  WorkflowResumeOptions,
  WorkflowRetryOptions,
  WatchEventType,
  WorkflowListFilter,
} from "./client.ts";
import type { ArgoServerClusterConfig } from "./cluster-config.ts";
import { ClusterApiError, toClusterApiError, type ApiVerb } from "./api-errors.ts";
import { filterWorkflows, labelSelector } from "./control.ts";

interface HttpFailure {
  readonly status: number;
  readonly body: string;
}

function httpFailure(status: number, body: string): Error & HttpFailure {
  return Object.assign(new Error(`HTTP ${status}`), { status, body });
}

/**
 * Talks to Argo Server.
 *
 * @example
 * ```ts
 * const client = new ArgoServerClient(resolveClusterConfig({ argoServer: "https://argo:2746", token }) as ArgoServerClusterConfig);
 * const list = await client.list({ phases: ["Running"] });
 * ```
 */
export class ArgoServerClient implements ArgoClient {
  readonly backend = "argo-server" as const;
  readonly namespace: string;
  readonly endpoint: string;
  readonly #config: ArgoServerClusterConfig;

  constructor(config: ArgoServerClusterConfig) {
    this.#config = config;
    this.namespace = config.namespace;
    this.endpoint = config.url;
  }

  containsSecret(text: string): boolean {
    return this.#config.secrets().some((secret) => secret.length >= 4 && text.includes(secret));
  }

  #ns(): string {
    return encodeURIComponent(this.namespace);
  }

  /** Sends a request; resolves with the response when 2xx, else rejects with status and body. */
  #open(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const url = new URL(this.endpoint + path);
    const headers: Record<string, string> = { Accept: "application/json" };
    const auth = this.#config.authorization();
    if (auth) headers["Authorization"] = auth;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const lib = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method,
          headers,
          ...(url.protocol === "https:" ? { rejectUnauthorized: !this.#config.insecureSkipTLSVerify } : {}),
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(res);
            return;
          }
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => reject(httpFailure(status, Buffer.concat(chunks).toString("utf8"))));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async #json<T>(verb: ApiVerb, name: string | undefined, method: string, path: string, body?: unknown, action?: string): Promise<T> {
    try {
      const res = await this.#open(method, path, body);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString("utf8");
      return (text ? JSON.parse(text) : {}) as T;
    } catch (error) {
      throw this.#error(error, verb, name, action);
    }
  }

  #error(error: unknown, verb: ApiVerb, name: string | undefined, action?: string, resource = "workflows"): Error {
    return toClusterApiError(error, {
      backend: "argo-server",
      verb,
      resource,
      group: resource === "workflows" ? "argoproj.io" : "",
      namespace: this.namespace,
      name,
      endpoint: this.endpoint,
      secrets: this.#config.secrets(),
      action,
    });
  }

  /** Reads an NDJSON stream of `{"result": X}` lines, calling `onResult` for each X. */
  async #stream(res: http.IncomingMessage, onResult: (result: unknown) => void): Promise<void> {
    let buffer = "";
    const flush = (line: string): void => {
      const trimmed = line.trim();
      if (!trimmed) return;
      const parsed = JSON.parse(trimmed) as {
        result?: unknown;
        error?: { message?: string; code?: number; grpc_code?: number; http_code?: number };
      };
      if (parsed.error) {
        // grpc-gateway reports a failure inside a stream as {"error": {grpc_code, http_code, message}}.
        const e = parsed.error;
        throw httpFailure(e.http_code ?? 500, JSON.stringify({ code: e.grpc_code ?? e.code, message: e.message }));
      }
      if (parsed.result !== undefined) onResult(parsed.result);
    };
    try {
      for await (const chunk of res) {
        buffer += (chunk as Buffer).toString("utf8");
        let i: number;
        while ((i = buffer.indexOf("\n")) >= 0) {
          flush(buffer.slice(0, i));
          buffer = buffer.slice(i + 1);
        }
      }
    } catch (error) {
      if ((error as { name?: string }).name === "AbortError" || (error as { code?: string }).code === "ABORT_ERR") return;
      throw error;
    }
    flush(buffer);
  }

  create(manifest: Workflow, options: CreateOptions = {}): Promise<Workflow> {
    if (options.reuse?.length) {
      return Promise.reject(
        new ClusterApiError(
          `cannot submit workflow "${manifest.metadata.name ?? manifest.metadata.generateName}" reusing steps through Argo Server: the reused outputs go into a memoization ConfigMap, which only the Kubernetes API can write; submit with a kubeconfig (unset ARGO_SERVER)`,
          "BadRequest",
          undefined,
        ),
      );
    }
    const workflow = { ...manifest, metadata: { ...manifest.metadata, namespace: this.namespace } };
    return this.#json("create", manifest.metadata.name ?? manifest.metadata.generateName, "POST", `/api/v1/workflows/${this.#ns()}`, {
      namespace: this.namespace,
      workflow,
    });
  }

  get(name: string): Promise<Workflow> {
    return this.#json("get", name, "GET", `/api/v1/workflows/${this.#ns()}/${encodeURIComponent(name)}`);
  }

  async list(filter: WorkflowListFilter = {}): Promise<Workflow[]> {
    const q = new URLSearchParams();
    const selector = labelSelector(filter);
    if (selector) q.set("listOptions.labelSelector", selector);
    const query = q.toString();
    const page = await this.#json<{ items?: Workflow[] | null }>(
      "list",
      undefined,
      "GET",
      `/api/v1/workflows/${this.#ns()}${query ? `?${query}` : ""}`,
    );
    return filterWorkflows(page.items ?? [], filter);
  }

  async watch(name: string, onEvent: (type: WatchEventType, workflow: Workflow) => void, signal: AbortSignal): Promise<void> {
    const q = new URLSearchParams({ "listOptions.fieldSelector": `metadata.name=${name}` });
    try {
      const res = await this.#open("GET", `/api/v1/workflow-events/${this.#ns()}?${q}`, undefined, signal);
      await this.#stream(res, (result) => {
        const r = result as { type?: string; object?: Workflow };
        if (r.object && (r.type === "ADDED" || r.type === "MODIFIED" || r.type === "DELETED")) onEvent(r.type, r.object);
      });
    } catch (error) {
      if (signal.aborted) return;
      throw this.#error(error, "watch", name);
    }
  }

  async delete(name: string): Promise<void> {
    await this.#json("delete", name, "DELETE", `/api/v1/workflows/${this.#ns()}/${encodeURIComponent(name)}`);
  }

  #action(name: string, action: string, extra: Record<string, unknown> = {}): Promise<Workflow> {
    return this.#json(
      "update",
      name,
      "PUT",
      `/api/v1/workflows/${this.#ns()}/${encodeURIComponent(name)}/${action}`,
      { name, namespace: this.namespace, ...extra },
      action,
    );
  }

  terminate(name: string): Promise<Workflow> {
    return this.#action(name, "terminate");
  }

  stop(name: string): Promise<Workflow> {
    return this.#action(name, "stop");
  }

  suspend(name: string): Promise<Workflow> {
    return this.#action(name, "suspend");
  }

  resume(name: string, options: WorkflowResumeOptions = {}): Promise<Workflow> {
    return this.#action(name, "resume", options.nodeFieldSelector ? { nodeFieldSelector: options.nodeFieldSelector } : {});
  }

  /** Argo Server's `/set` (what `argo node set` calls); output parameters go as one JSON object. */
  setNodes(name: string, options: NodeSetOptions): Promise<Workflow> {
    return this.#action(name, "set", {
      nodeFieldSelector: options.nodeFieldSelector,
      ...(options.message ? { message: options.message } : {}),
      ...(options.phase ? { phase: options.phase } : {}),
      ...(options.outputParameters && Object.keys(options.outputParameters).length > 0 ? { outputParameters: JSON.stringify(options.outputParameters) } : {}),
    });
  }

  retry(name: string, options: WorkflowRetryOptions = {}): Promise<Workflow> {
    return this.#action(name, "retry", {
      ...(options.restartSuccessful ? { restartSuccessful: true } : {}),
      ...(options.nodeFieldSelector ? { nodeFieldSelector: options.nodeFieldSelector } : {}),
    });
  }

  resubmit(name: string, options: WorkflowResubmitOptions = {}): Promise<Workflow> {
    if (options.reuse) {
      return Promise.reject(
        new ClusterApiError(
          `cannot resubmit workflow "${name}" reusing its keyed steps through Argo Server: the reused outputs go into a memoization ConfigMap, which only the Kubernetes API can write; use a kubeconfig (unset ARGO_SERVER), or --memoized`,
          "BadRequest",
          undefined,
        ),
      );
    }
    return this.#action(name, "resubmit", options.memoized ? { memoized: true } : {});
  }

  async podLogs(workflowName: string, podName: string, options: PodLogOptions = {}): Promise<string> {
    const q = new URLSearchParams({ podName, "logOptions.container": options.container ?? "main" });
    if (options.tailLines !== undefined) q.set("logOptions.tailLines", String(options.tailLines));
    try {
      const res = await this.#open("GET", `/api/v1/workflows/${this.#ns()}/${encodeURIComponent(workflowName)}/log?${q}`, undefined);
      const lines: string[] = [];
      await this.#stream(res, (result) => {
        const r = result as { content?: string };
        if (typeof r.content === "string") lines.push(r.content);
      });
      return lines.length > 0 ? `${lines.join("\n")}\n` : "";
    } catch (error) {
      throw this.#error(error, "get", podName, undefined, "pods/log");
    }
  }
}
