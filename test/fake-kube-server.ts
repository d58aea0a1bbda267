/**
 * A fake Kubernetes API server + Argo Server on 127.0.0.1 (random port), plain node:http, for
 * tests of the cluster client. It implements what opflow uses:
 *
 * Kubernetes API
 * - workflows of argoproj.io/v1alpha1: create / get / list (label and field selectors) /
 *   watch / patch (merge) / update (with resourceVersion conflicts) / delete, under
 *   `/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows[/{name}]`
 * - pod logs `/api/v1/namespaces/{ns}/pods/{pod}/log`, pod deletion
 * - configmaps `/api/v1/namespaces/{ns}/configmaps[/{name}]`: get / list / create / replace
 *   (resourceVersion conflicts) / merge patch / delete, with the API server's validation of
 *   names, keys and the 1 MiB size
 * - errors shaped like a real API server (`Status` bodies): 401, 403 (RBAC message), 404,
 *   409, 422 with `details.causes`, and a 404 for every workflow path when Argo's CRD is "not
 *   installed".
 *
 * Argo Server REST API
 * - `/api/v1/workflows/{ns}` (create, list), `/{name}` (get, delete), `/{name}/{action}` for
 *   terminate, stop, suspend, resume, set, retry, resubmit; `/{name}/log` and
 *   `/api/v1/workflow-events/{ns}` as NDJSON streams of `{"result": …}`; gRPC-gateway error
 *   bodies (`{code, message}`); "down" answers 503 as a proxy in front of a dead server would.
 *
 * Each created Workflow is validated strictly against the upstream CRD when ../shared/argo is
 * present (the same strictify as ../shared/argo/check.mjs, validated with ajv); see
 * {@link crdValidation}. Tests drive status with {@link FakeKubeServer.setStatus}.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import YAML from "yaml";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { NodePhase, Workflow, WorkflowStatus } from "../src/argo/model.ts";
import { resumedWorkflow, setWorkflowNodes } from "../src/argo/suspend-nodes.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Folder of the upstream Argo CRD and examples (../shared/argo beside the repo). */
export const SHARED_ARGO_DIR = path.resolve(here, "..", "..", "shared", "argo");
const CRD_FILE = path.join(SHARED_ARGO_DIR, "argoproj.io_workflows.crd.full.yaml");

type Json = Record<string, unknown>;

function strictify(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(strictify);
  if (!s || typeof s !== "object") return s;
  const src = s as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    out[k] =
      k === "properties"
        ? Object.fromEntries(Object.entries(v as Json).map(([pk, pv]) => [pk, strictify(pv)]))
        : strictify(v);
  }
  if (src["x-kubernetes-int-or-string"]) {
    delete out["type"];
    out["anyOf"] = [{ type: "integer" }, { type: "string" }];
  }
  if (src["properties"] && !src["x-kubernetes-preserve-unknown-fields"] && out["additionalProperties"] === undefined) {
    out["additionalProperties"] = false;
  }
  return out;
}

let validator: ValidateFunction | null | undefined;

/**
 * The strict CRD validator, or null when ../shared/argo is absent (tests then skip schema
 * validation visibly).
 */
export function crdValidation(): ValidateFunction | null {
  if (validator !== undefined) return validator;
  if (!fs.existsSync(CRD_FILE)) {
    validator = null;
    return validator;
  }
  const crd = YAML.parse(fs.readFileSync(CRD_FILE, "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: unknown } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === "v1alpha1");
  const schema = strictify(version?.schema.openAPIV3Schema) as Json & { properties: Json };
  schema.properties["metadata"] = { type: "object" };
  validator = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false }).compile(schema);
  return validator;
}

/** Field errors of `wf` against the strict CRD schema (empty when valid or when unavailable). */
export function schemaCauses(wf: unknown): { field: string; message: string; reason: string }[] {
  const validate = crdValidation();
  if (!validate || validate(wf)) return [];
  return (validate.errors ?? []).slice(0, 20).map((e: ErrorObject) => {
    const field = e.instancePath.replace(/^\//, "").replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".");
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    if (extra) return { field: field ? `${field}.${extra}` : extra, message: "field not declared in schema", reason: "FieldValueInvalid" };
    return { field: field || "<root>", message: e.message ?? "invalid", reason: "FieldValueInvalid" };
  });
}

/** A denied (verb, resource) pair: the fake answers 403 like RBAC would. */
export interface Denial {
  readonly verb: string;
  readonly resource: string;
}

/** A request the fake received (for assertions: nothing secret in bodies). */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  readonly contentType?: string;
  readonly body: string;
}

interface Watcher {
  readonly ns: string;
  readonly name?: string;
  readonly labelSelector?: string;
  send(type: string, obj: Workflow): void;
}

function matchSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  const terms = selector.match(/[^,(]+(?:\([^)]*\))?/g) ?? [];
  return terms.every((raw) => {
    const term = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const vals = (m[3] as string).split(",").map((s) => s.trim());
      const has = vals.includes(l[m[1] as string] ?? "\u0000");
      return m[2] === "in" ? has : !has;
    }
    if ((m = /^([^\s!=]+)\s*!=\s*(.*)$/.exec(term))) return l[m[1] as string] !== m[2];
    if ((m = /^([^\s!=]+)\s*==?\s*(.*)$/.exec(term))) return l[m[1] as string] === m[2];
    if ((m = /^!(.+)$/.exec(term))) return !((m[1] as string) in l);
    return term in l;
  });
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Json = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [k, v] of Object.entries(patch as Json)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function randomSuffix(): string {
  const chars = "bcdfghjklmnpqrstvwxz2456789";
  let s = "";
  for (let i = 0; i < 5; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

/** Options of {@link FakeKubeServer.start}. */
export interface FakeKubeServerOptions {
  /** Bearer token every request must carry (Kubernetes and Argo Server alike). */
  readonly token?: string;
}

/** The fake API server. Start with {@link FakeKubeServer.start}, stop with {@link close}. */
export class FakeKubeServer {
  /** `http://127.0.0.1:<port>`. */
  url = "";
  /** Whether Argo's CRD is installed (false: every workflow path answers 404). */
  crdInstalled = true;
  /** Argo Server is down: its endpoints answer 503 like a proxy in front of it. */
  argoServerDown = false;
  /** (verb, resource) pairs RBAC denies. */
  deny: Denial[] = [];
  /** Every request received. */
  readonly requests: RecordedRequest[] = [];
  /** Pod logs by `${ns}/${pod}`. */
  readonly podLogs = new Map<string, string>();
  readonly configMaps = new Map<string, Json>();
  /** Pods deleted through the API (`${ns}/${pod}`); a pod exists while it has a log. */
  readonly deletedPods: string[] = [];
  readonly #workflows = new Map<string, Workflow>();
  readonly #watchers = new Set<Watcher>();
  readonly #server: http.Server;
  readonly #sockets = new Set<import("node:net").Socket>();
  #rv = 1000;
  token: string | undefined;

  /** Back to a healthy server accepting `token`: no RBAC denials, CRD installed, Argo Server up. */
  reset(token: string | undefined): void {
    this.deny = [];
    this.crdInstalled = true;
    this.argoServerDown = false;
    this.token = token;
  }

  private constructor(options: FakeKubeServerOptions) {
    this.token = options.token;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  /** Starts a server on 127.0.0.1 and a random port. */
  static async start(options: FakeKubeServerOptions = {}): Promise<FakeKubeServer> {
    const s = new FakeKubeServer(options);
    await new Promise<void>((resolve) => s.#server.listen(0, "127.0.0.1", resolve));
    s.url = `http://127.0.0.1:${(s.#server.address() as AddressInfo).port}`;
    return s;
  }

  /** Stops the server and drops open watch streams. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /**
   * Writes a kubeconfig pointing at this server (`skipTLSVerify` for plain http) and returns
   * its path.
   */
  writeKubeconfig(dir: string, options: { token?: string; namespace?: string; context?: string } = {}): string {
    const context = options.context ?? "fake";
    const config = {
      apiVersion: "v1",
      kind: "Config",
      "current-context": context,
      clusters: [{ name: "fake-cluster", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "fake-user", user: options.token !== undefined ? { token: options.token } : {} }],
      contexts: [{ name: context, context: { cluster: "fake-cluster", user: "fake-user", namespace: options.namespace ?? "argo" } }],
    };
    const file = path.join(dir, `kubeconfig-${context}-${randomUUID().slice(0, 8)}.yaml`);
    fs.writeFileSync(file, YAML.stringify(config));
    return file;
  }

  /** The stored workflow, or undefined. */
  workflow(ns: string, name: string): Workflow | undefined {
    const wf = this.#workflows.get(`${ns}/${name}`);
    return wf ? structuredClone(wf) : undefined;
  }

  /** Every stored workflow of a namespace. */
  workflows(ns: string): Workflow[] {
    return [...this.#workflows.entries()].filter(([k]) => k.startsWith(`${ns}/`)).map(([, v]) => structuredClone(v));
  }

  /**
   * Sets a workflow's status as the Argo controller would, with the phase and completed labels,
   * and notifies watchers.
   */
  setStatus(ns: string, name: string, status: WorkflowStatus): Workflow {
    const wf = this.#workflows.get(`${ns}/${name}`);
    if (!wf) throw new Error(`fake: no workflow ${ns}/${name}`);
    wf.status = structuredClone(status);
    const phase = status.phase ?? "";
    const labels = { ...(wf.metadata.labels ?? {}) };
    if (phase) labels["workflows.argoproj.io/phase"] = phase;
    labels["workflows.argoproj.io/completed"] = String(phase === "Succeeded" || phase === "Failed" || phase === "Error");
    wf.metadata.labels = labels;
    this.#store(ns, wf, "MODIFIED");
    return structuredClone(wf);
  }

  /** Sets the log text of a pod (container "main"). */
  setPodLog(ns: string, pod: string, text: string): void {
    this.podLogs.set(`${ns}/${pod}`, text);
  }

  #store(ns: string, wf: Workflow, event: "ADDED" | "MODIFIED"): void {
    wf.metadata.resourceVersion = String(++this.#rv);
    this.#workflows.set(`${ns}/${wf.metadata.name}`, wf);
    this.#notify(ns, event, wf);
  }

  #notify(ns: string, type: string, wf: Workflow): void {
    for (const w of this.#watchers) {
      if (w.ns !== ns) continue;
      if (w.name && w.name !== wf.metadata.name) continue;
      if (!matchSelector(wf.metadata.labels, w.labelSelector)) continue;
      w.send(type, structuredClone(wf));
    }
  }

  // ---------------------------------------------------------------- request handling

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push({
      method: req.method ?? "GET",
      url: url.pathname + url.search,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(req.headers["content-type"] ? { contentType: req.headers["content-type"] } : {}),
      body,
    });
    try {
      if (url.pathname.startsWith("/api/v1/workflows/") || url.pathname.startsWith("/api/v1/workflow-events/")) {
        this.#argoServer(req, res, url, body);
      } else {
        this.#kube(req, res, url, body);
      }
    } catch (error) {
      if (!res.headersSent) this.#status(res, 500, "InternalError", (error as Error).message);
    }
  }

  #json(res: http.ServerResponse, code: number, value: unknown): void {
    const text = JSON.stringify(value);
    res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  }

  #status(res: http.ServerResponse, code: number, reason: string, message: string, details?: Json): void {
    this.#json(res, code, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    });
  }

  #authorized(req: http.IncomingMessage): boolean {
    return this.token === undefined || req.headers.authorization === `Bearer ${this.token}`;
  }

  #denied(verb: string, resource: string): boolean {
    return this.deny.some((d) => d.verb === verb && d.resource === resource);
  }

  #forbiddenMessage(verb: string, resource: string, ns: string): string {
    const [plural, sub] = resource.split("/");
    const group = resource === "workflows" ? "argoproj.io" : "";
    const what = group ? `${plural}.${group}` : (plural as string);
    return (
      `${what} is forbidden: User "system:serviceaccount:${ns}:default" cannot ${verb} resource "${plural}"` +
      `${sub ? ` with subresource "${sub}"` : ""} in API group "${group}" in the namespace "${ns}"`
    );
  }

  #kube(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): void {
    if (!this.#authorized(req)) {
      this.#status(res, 401, "Unauthorized", "Unauthorized");
      return;
    }
    const method = req.method ?? "GET";
    let m: RegExpExecArray | null;
    if ((m = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/workflows(?:\/([^/]+))?$/.exec(url.pathname))) {
      const ns = decodeURIComponent(m[1] as string);
      const name = m[2] ? decodeURIComponent(m[2]) : undefined;
      if (!this.crdInstalled) {
        this.#status(res, 404, "NotFound", "the server could not find the requested resource", {});
        return;
      }
      const watch = url.searchParams.get("watch") === "true";
      const verb =
        method === "POST" ? "create"
        : method === "GET" ? (name ? "get" : watch ? "watch" : "list")
        : method === "PUT" ? "update"
        : method === "PATCH" ? "patch"
        : method === "DELETE" ? "delete"
        : "unknown";
      if (this.#denied(verb, "workflows")) {
        this.#status(res, 403, "Forbidden", this.#forbiddenMessage(verb, "workflows", ns), { ...(name ? { name } : {}), group: "argoproj.io", kind: "workflows" });
        return;
      }
      this.#kubeWorkflows(verb, ns, name, req, res, url, body);
      return;
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname)) && method === "GET") {
      const ns = decodeURIComponent(m[1] as string);
      const pod = decodeURIComponent(m[2] as string);
      if (this.#denied("get", "pods/log")) {
        this.#status(res, 403, "Forbidden", this.#forbiddenMessage("get", "pods/log", ns), { name: pod, kind: "pods" });
        return;
      }
      const text = this.podLogs.get(`${ns}/${pod}`);
      if (text === undefined) {
        this.#status(res, 404, "NotFound", `pods "${pod}" not found`, { name: pod, kind: "pods" });
        return;
      }
      const tail = url.searchParams.get("tailLines");
      const out = tail ? text.split("\n").filter((l, i, a) => i < a.length - 1 || l !== "").slice(-Number(tail)).join("\n") + "\n" : text;
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(out);
      return;
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname)) && method === "DELETE") {
      const ns = decodeURIComponent(m[1] as string);
      const pod = decodeURIComponent(m[2] as string);
      if (this.#denied("delete", "pods")) {
        this.#status(res, 403, "Forbidden", this.#forbiddenMessage("delete", "pods", ns), { name: pod, kind: "pods" });
        return;
      }
      if (!this.podLogs.has(`${ns}/${pod}`)) {
        this.#status(res, 404, "NotFound", `pods "${pod}" not found`, { name: pod, kind: "pods" });
        return;
      }
      this.podLogs.delete(`${ns}/${pod}`);
      this.deletedPods.push(`${ns}/${pod}`);
      this.#json(res, 200, { apiVersion: "v1", kind: "Pod", metadata: { name: pod, namespace: ns } });
      return;
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps(?:\/([^/]+))?$/.exec(url.pathname))) {
      this.#configMaps(method, decodeURIComponent(m[1] as string), m[2] ? decodeURIComponent(m[2]) : undefined, req, res, body);
      return;
    }
    this.#status(res, 404, "NotFound", "the server could not find the requested resource", {});
  }

  /**
   * ConfigMaps as the API server keeps them: get, list (label selector), create (409 when the
   * name is taken), replace (409 on a stale `resourceVersion`), merge patch, delete; RBAC
   * denials by verb; names must be DNS subdomains and data values strings.
   */
  #configMaps(method: string, ns: string, name: string | undefined, req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const verb =
      method === "POST" ? "create"
      : method === "GET" ? (name ? "get" : "list")
      : method === "PUT" ? "update"
      : method === "PATCH" ? "patch"
      : method === "DELETE" ? "delete"
      : "unknown";
    if (this.#denied(verb, "configmaps")) {
      this.#status(res, 403, "Forbidden", this.#forbiddenMessage(verb, "configmaps", ns), { ...(name ? { name } : {}), kind: "configmaps" });
      return;
    }
    const key = `${ns}/${name}`;
    const notFound = (): void => this.#status(res, 404, "NotFound", `configmaps "${name}" not found`, { name, kind: "configmaps" });
    if (verb === "get") {
      const cm = this.configMaps.get(key);
      if (cm) this.#json(res, 200, cm);
      else notFound();
      return;
    }
    if (verb === "list") {
      const selector = new URL(req.url ?? "/", this.url).searchParams.get("labelSelector") ?? undefined;
      const items = [...this.configMaps.entries()]
        .filter(([k, v]) => k.startsWith(`${ns}/`) && matchSelector((v["metadata"] as { labels?: Record<string, string> }).labels, selector))
        .map(([, v]) => v);
      this.#json(res, 200, { kind: "ConfigMapList", apiVersion: "v1", metadata: {}, items });
      return;
    }
    if (verb === "delete") {
      if (!this.configMaps.delete(key)) return notFound();
      this.#json(res, 200, { kind: "Status", apiVersion: "v1", status: "Success" });
      return;
    }
    if (verb === "create" || verb === "update" || verb === "patch") {
      let parsed: Json;
      try {
        parsed = JSON.parse(body) as Json;
      } catch {
        this.#status(res, 400, "BadRequest", "the body of the request was not valid JSON");
        return;
      }
      const meta = (parsed["metadata"] ?? {}) as Json;
      const n = name ?? (meta["name"] as string | undefined) ?? "";
      const current = this.configMaps.get(`${ns}/${n}`);
      if (verb === "create" && current) {
        this.#status(res, 409, "AlreadyExists", `configmaps "${n}" already exists`, { name: n, kind: "configmaps" });
        return;
      }
      if (verb !== "create" && !current) return notFound();
      if (verb === "update" && meta["resourceVersion"] !== undefined && meta["resourceVersion"] !== (current?.["metadata"] as Json)["resourceVersion"]) {
        this.#status(res, 409, "Conflict", `Operation cannot be fulfilled on configmaps "${n}": the object has been modified; please apply your changes to the latest version and try again`, { name: n, kind: "configmaps" });
        return;
      }
      const next = verb === "patch" ? (mergePatch(current, parsed) as Json) : parsed;
      const causes: { field: string; message: string; reason: string }[] = [];
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n) || n.length > 253) causes.push({ field: "metadata.name", message: `Invalid value: "${n}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`, reason: "FieldValueInvalid" });
      for (const [k, v] of Object.entries((next["data"] ?? {}) as Json)) {
        if (typeof v !== "string") causes.push({ field: `data[${k}]`, message: "must be a string", reason: "FieldValueInvalid" });
        if (!/^[-._a-zA-Z0-9]+$/.test(k)) causes.push({ field: `data[${k}]`, message: "a valid config key must consist of alphanumeric characters, '-', '_' or '.'", reason: "FieldValueInvalid" });
      }
      if (Buffer.byteLength(JSON.stringify(next["data"] ?? {})) > 1048576) causes.push({ field: "data", message: "Too long: must have at most 1048576 bytes", reason: "FieldValueTooLong" });
      if (causes.length > 0) {
        this.#status(res, 422, "Invalid", `ConfigMap "${n}" is invalid: [${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}]`, { name: n, kind: "ConfigMap", causes });
        return;
      }
      const stored: Json = {
        ...next,
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { ...((next["metadata"] ?? {}) as Json), name: n, namespace: ns, resourceVersion: String(++this.#rv), uid: ((current?.["metadata"] as Json | undefined)?.["uid"] as string | undefined) ?? randomUUID() },
      };
      this.configMaps.set(`${ns}/${n}`, stored);
      this.#json(res, verb === "create" ? 201 : 200, stored);
      return;
    }
    this.#status(res, 405, "MethodNotAllowed", `method ${method} is not supported on configmaps`);
  }

  /** A stored ConfigMap (a copy), or undefined. */
  configMap(ns: string, name: string): Json | undefined {
    const cm = this.configMaps.get(`${ns}/${name}`);
    return cm ? structuredClone(cm) : undefined;
  }

  #notFound(res: http.ServerResponse, name: string): void {
    this.#status(res, 404, "NotFound", `workflows.argoproj.io "${name}" not found`, { name, group: "argoproj.io", kind: "workflows" });
  }

  /** Creates a workflow; returns [status code, Workflow | error]. */
  #create(ns: string, wf: Workflow): { ok: true; wf: Workflow } | { ok: false; code: 409 | 422 | 400; message: string; causes: { field: string; message: string; reason: string }[] } {
    const displayName = wf?.metadata?.name ?? wf?.metadata?.generateName ?? "";
    const causes = schemaCauses(wf);
    if (wf?.apiVersion !== "argoproj.io/v1alpha1" || wf?.kind !== "Workflow") {
      causes.unshift({ field: "kind", message: `expected argoproj.io/v1alpha1 Workflow, got ${wf?.apiVersion}/${wf?.kind}`, reason: "FieldValueInvalid" });
    }
    if (!wf?.metadata?.name && !wf?.metadata?.generateName) causes.unshift({ field: "metadata.name", message: "name or generateName is required", reason: "FieldValueRequired" });
    if (causes.length > 0) {
      const list = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
      return { ok: false, code: 422, message: `Workflow.argoproj.io "${displayName}" is invalid: [${list}]`, causes };
    }
    const stored = structuredClone(wf);
    let name = stored.metadata.name;
    if (!name) {
      do name = `${stored.metadata.generateName}${randomSuffix()}`;
      while (this.#workflows.has(`${ns}/${name}`));
    }
    if (this.#workflows.has(`${ns}/${name}`)) {
      return { ok: false, code: 409, message: `workflows.argoproj.io "${name}" already exists`, causes: [] };
    }
    stored.metadata = {
      ...stored.metadata,
      name,
      namespace: ns,
      uid: randomUUID(),
      creationTimestamp: new Date(Date.now() + this.#rv).toISOString(),
    };
    (stored.metadata as Json)["generation"] = 1;
    delete stored.status;
    this.#store(ns, stored, "ADDED");
    return { ok: true, wf: structuredClone(stored) };
  }

  #list(ns: string, url: URL, prefix = ""): Workflow[] {
    const selector = url.searchParams.get(`${prefix}labelSelector`) ?? undefined;
    const field = url.searchParams.get(`${prefix}fieldSelector`) ?? undefined;
    const nameEq = field ? /^metadata\.name=(.+)$/.exec(field)?.[1] : undefined;
    return this.workflows(ns).filter((w) => matchSelector(w.metadata.labels, selector) && (!nameEq || w.metadata.name === nameEq));
  }

  #openWatch(res: http.ServerResponse, ns: string, url: URL, prefix: string, wrap: (type: string, obj: Workflow) => unknown): void {
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    const field = url.searchParams.get(`${prefix}fieldSelector`) ?? undefined;
    const name = field ? /^metadata\.name=(.+)$/.exec(field)?.[1] : undefined;
    const labelSelector = url.searchParams.get(`${prefix}labelSelector`) ?? undefined;
    const watcher: Watcher = {
      ns,
      ...(name ? { name } : {}),
      ...(labelSelector ? { labelSelector } : {}),
      send: (type, obj) => res.write(`${JSON.stringify(wrap(type, obj))}\n`),
    };
    for (const wf of this.#list(ns, url, prefix)) watcher.send("ADDED", wf);
    this.#watchers.add(watcher);
    res.on("close", () => this.#watchers.delete(watcher));
  }

  #kubeWorkflows(verb: string, ns: string, name: string | undefined, req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): void {
    const key = `${ns}/${name}`;
    switch (verb) {
      case "create": {
        const r = this.#create(ns, JSON.parse(body) as Workflow);
        if (r.ok) this.#json(res, 201, r.wf);
        else if (r.code === 409) this.#status(res, 409, "AlreadyExists", r.message, { name: (JSON.parse(body) as Workflow).metadata.name, group: "argoproj.io", kind: "workflows" });
        else this.#status(res, 422, "Invalid", r.message, { name: (JSON.parse(body) as Workflow).metadata?.name ?? "", group: "argoproj.io", kind: "Workflow", causes: r.causes });
        return;
      }
      case "get": {
        const wf = this.#workflows.get(key);
        if (!wf) this.#notFound(res, name as string);
        else this.#json(res, 200, wf);
        return;
      }
      case "list":
        this.#json(res, 200, { apiVersion: "argoproj.io/v1alpha1", kind: "WorkflowList", metadata: { resourceVersion: String(this.#rv) }, items: this.#list(ns, url) });
        return;
      case "watch":
        this.#openWatch(res, ns, url, "", (type, object) => ({ type, object }));
        return;
      case "patch": {
        const wf = this.#workflows.get(key);
        if (!wf) return this.#notFound(res, name as string);
        const ct = req.headers["content-type"] ?? "";
        if (!ct.startsWith("application/merge-patch+json")) {
          this.#status(res, 415, "UnsupportedMediaType", `the fake supports merge patches only, got ${ct}`);
          return;
        }
        const next = mergePatch(wf, JSON.parse(body)) as Workflow;
        const causes = schemaCauses({ ...next, status: undefined });
        if (causes.length > 0) {
          this.#status(res, 422, "Invalid", `Workflow.argoproj.io "${name}" is invalid`, { name, group: "argoproj.io", kind: "Workflow", causes });
          return;
        }
        this.#store(ns, next, "MODIFIED");
        this.#json(res, 200, next);
        return;
      }
      case "update": {
        const wf = this.#workflows.get(key);
        if (!wf) return this.#notFound(res, name as string);
        const next = JSON.parse(body) as Workflow;
        if (next.metadata?.resourceVersion !== wf.metadata.resourceVersion) {
          this.#status(res, 409, "Conflict", `Operation cannot be fulfilled on workflows.argoproj.io "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: "argoproj.io", kind: "workflows" });
          return;
        }
        this.#store(ns, next, "MODIFIED");
        this.#json(res, 200, next);
        return;
      }
      case "delete": {
        const wf = this.#workflows.get(key);
        if (!wf) return this.#notFound(res, name as string);
        this.#workflows.delete(key);
        this.#notify(ns, "DELETED", wf);
        this.#json(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: "argoproj.io", kind: "workflows", uid: wf.metadata.uid } });
        return;
      }
      default:
        this.#status(res, 405, "MethodNotAllowed", `method ${req.method} not allowed`);
    }
  }

  // ---------------------------------------------------------------- Argo Server

  #grpc(res: http.ServerResponse, http: number, code: number, message: string): void {
    this.#json(res, http, { code, message, details: [] });
  }

  #argoServer(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): void {
    if (this.argoServerDown) {
      res.writeHead(503, { "Content-Type": "text/plain" });
      res.end("no healthy upstream");
      return;
    }
    if (!this.#authorized(req)) {
      this.#grpc(res, 401, 16, "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/");
      return;
    }
    const method = req.method ?? "GET";
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/v1\/workflow-events\/([^/]+)$/.exec(url.pathname)) && method === "GET") {
      const ns = decodeURIComponent(m[1] as string);
      if (this.#denied("watch", "workflows")) return this.#grpc(res, 403, 7, this.#forbiddenMessage("watch", "workflows", ns));
      this.#openWatch(res, ns, url, "listOptions.", (type, object) => ({ result: { type, object } }));
      return;
    }
    m = /^\/api\/v1\/workflows\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return this.#grpc(res, 404, 5, "Not Found");
    const ns = decodeURIComponent(m[1] as string);
    const name = m[2] ? decodeURIComponent(m[2]) : undefined;
    const action = m[3];
    const verb =
      method === "POST" ? "create"
      : method === "GET" && action === "log" ? "get"
      : method === "GET" ? (name ? "get" : "list")
      : method === "DELETE" ? "delete"
      : method === "PUT" && action === "resubmit" ? "create"
      : "update";
    const resource = action === "log" ? "pods/log" : "workflows";
    if (this.#denied(verb, resource)) return this.#grpc(res, 403, 7, this.#forbiddenMessage(verb, resource, ns));
    if (!this.crdInstalled) return this.#grpc(res, 404, 5, `the server could not find the requested resource (${method.toLowerCase()} workflows.argoproj.io)`);
    const key = `${ns}/${name}`;
    if (method === "POST" && !name) {
      const req = JSON.parse(body) as { workflow?: Workflow };
      const wf = req.workflow as Workflow;
      const r = this.#create(ns, wf);
      if (r.ok) return this.#json(res, 200, r.wf);
      if (r.code === 409) return this.#grpc(res, 409, 6, r.message);
      return this.#grpc(res, 400, 3, r.message);
    }
    if (method === "GET" && !name) {
      const items = this.#list(ns, url, "listOptions.");
      return this.#json(res, 200, { metadata: { resourceVersion: String(this.#rv) }, items: items.length > 0 ? items : null });
    }
    const wf = this.#workflows.get(key);
    if (!wf) return this.#grpc(res, 404, 5, `workflows.argoproj.io "${name}" not found`);
    if (method === "GET" && !action) return this.#json(res, 200, wf);
    if (method === "DELETE" && !action) {
      this.#workflows.delete(key);
      this.#notify(ns, "DELETED", wf);
      return this.#json(res, 200, {});
    }
    if (method === "GET" && action === "log") {
      const pod = url.searchParams.get("podName");
      const pods = pod ? [pod] : [...this.podLogs.keys()].filter((k) => k.startsWith(`${ns}/${name}-`)).map((k) => k.slice(ns.length + 1));
      if (pod && !this.podLogs.has(`${ns}/${pod}`)) {
        // Argo Server has already answered 200 when the pod lookup fails: the error comes in the stream.
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(`${JSON.stringify({ error: { grpc_code: 5, http_code: 404, message: `pods "${pod}" not found`, http_status: "Not Found" } })}\n`);
        return;
      }
      const tail = url.searchParams.get("logOptions.tailLines");
      res.writeHead(200, { "Content-Type": "application/json" });
      for (const p of pods) {
        const text = this.podLogs.get(`${ns}/${p}`) ?? "";
        const lines = text.split("\n").filter((l, i, a) => i < a.length - 1 || l !== "");
        for (const line of tail ? lines.slice(-Number(tail)) : lines) {
          res.write(`${JSON.stringify({ result: { content: line, podName: p } })}\n`);
        }
      }
      res.end();
      return;
    }
    if (method === "PUT" && action) {
      const next = structuredClone(wf);
      switch (action) {
        case "terminate":
          next.spec.shutdown = "Terminate";
          break;
        case "stop":
          next.spec.shutdown = "Stop";
          break;
        case "suspend":
          next.spec.suspend = true;
          break;
        case "resume":
        case "set": {
          // As Argo Server's ResumeWorkflow / SetWorkflow (workflow/util/util.go), refusals as InvalidArgument.
          const r = JSON.parse(body || "{}") as { nodeFieldSelector?: string; message?: string; phase?: NodePhase; outputParameters?: string };
          try {
            const changed =
              action === "resume"
                ? resumedWorkflow(next, r.nodeFieldSelector || undefined)
                : setWorkflowNodes(next, {
                    nodeFieldSelector: r.nodeFieldSelector ?? "",
                    ...(r.message ? { message: r.message } : {}),
                    ...(r.phase ? { phase: r.phase } : {}),
                    ...(r.outputParameters ? { outputParameters: JSON.parse(r.outputParameters) as Record<string, string> } : {}),
                  });
            next.spec = changed.spec;
            next.status = changed.status ?? {};
          } catch (err) {
            return this.#grpc(res, 400, 3, (err as Error).message);
          }
          break;
        }
        case "retry":
          if (next.status?.phase !== "Failed" && next.status?.phase !== "Error") {
            return this.#grpc(res, 400, 3, `workflow must be Failed/Error to retry`);
          }
          next.status = { ...next.status, phase: "Running" };
          delete next.status.finishedAt;
          break;
        case "resubmit": {
          const copy: Workflow = {
            apiVersion: "argoproj.io/v1alpha1",
            kind: "Workflow",
            metadata: { generateName: `${name}-`, labels: { "workflows.argoproj.io/resubmitted-from-workflow": name as string } },
            spec: structuredClone(wf.spec),
          };
          const r = this.#create(ns, copy);
          if (r.ok) return this.#json(res, 200, r.wf);
          return this.#grpc(res, 400, 3, r.message);
        }
        default:
          return this.#grpc(res, 404, 5, `unknown action ${action}`);
      }
      this.#store(ns, next, "MODIFIED");
      return this.#json(res, 200, next);
    }
    this.#grpc(res, 405, 12, "method not allowed");
  }
}
