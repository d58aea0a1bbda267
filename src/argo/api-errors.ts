/**
 * Turns failures of the Kubernetes API or Argo Server into {@link SubmitError}s that say what
 * went wrong and what to do: no kubeconfig, server unreachable, 401, 403 (with the verb and
 * resource RBAC must allow), 404, 409 (name taken), 422 (the server's field errors), Argo's
 * CRD not installed, Argo Server down. Tokens are redacted from every message.
 */
import { SubmitError } from "../errors.ts";

/** Which API a call went to. */
export type ApiBackend = "kubernetes" | "argo-server";

/** The Kubernetes verbs opflow uses (what an RBAC Role must allow). */
export type ApiVerb = "create" | "get" | "list" | "watch" | "patch" | "update" | "delete";

/** What kind of failure a {@link ClusterApiError} is. */
export type ApiErrorReason =
  | "Unreachable"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Invalid"
  | "CrdMissing"
  | "ArgoServerDown"
  | "BadRequest"
  | "Conflict"
  | "ServerError";

/** One field error reported by the server (Kubernetes `Status.details.causes`). */
export interface FieldCause {
  /** Field path, e.g. `spec.templates[0].name`. */
  readonly field?: string;
  readonly message: string;
  readonly reason?: string;
}

/** The call that failed, for the message. */
export interface ApiCallContext {
  readonly backend: ApiBackend;
  readonly verb: ApiVerb;
  /** Resource as RBAC names it: `workflows`, `pods/log`, `configmaps`. */
  readonly resource: string;
  /** API group: `argoproj.io`, or `""` for the core group. */
  readonly group: string;
  readonly namespace: string;
  /** Object name, when the call is about one object. */
  readonly name?: string;
  /** Server URL (API server or Argo Server), for messages. */
  readonly endpoint: string;
  /** Values that must never appear in a message (tokens). */
  readonly secrets?: readonly string[];
  /** Extra words for the operation, e.g. `retry` for an Argo Server action. */
  readonly action?: string;
}

/** A failed call to the cluster, classified. */
export class ClusterApiError extends SubmitError {
  override readonly name: string = "ClusterApiError";
  constructor(
    message: string,
    /** The classification. */
    readonly reason: ApiErrorReason,
    /** HTTP status code, when the server answered. */
    readonly status: number | undefined,
    /** Field errors of a 422 (or Argo Server 400). */
    readonly causes: readonly FieldCause[] = [],
  ) {
    super(message);
  }
}

/** Replaces every secret (and any `Bearer …` value) in `text` with `[redacted]`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[redacted]");
  return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, "$1[redacted]");
}

interface ParsedBody {
  message?: string;
  reason?: string;
  causes: FieldCause[];
  detailsName?: string;
  grpcCode?: number;
  raw: string;
}

function parseBody(body: unknown): ParsedBody {
  let value: unknown = body;
  let raw = "";
  if (typeof body === "string") {
    raw = body;
    try {
      value = JSON.parse(body);
    } catch {
      value = undefined;
    }
  } else if (body !== undefined && body !== null) {
    try {
      raw = JSON.stringify(body);
    } catch {
      raw = String(body);
    }
  }
  const out: ParsedBody = { causes: [], raw };
  if (typeof value !== "object" || value === null) return out;
  const v = value as Record<string, unknown>;
  if (typeof v["message"] === "string") out.message = v["message"];
  if (typeof v["reason"] === "string") out.reason = v["reason"];
  if (typeof v["code"] === "number" && v["kind"] !== "Status") out.grpcCode = v["code"];
  const details = v["details"];
  if (typeof details === "object" && details !== null && !Array.isArray(details)) {
    const d = details as Record<string, unknown>;
    if (typeof d["name"] === "string") out.detailsName = d["name"];
    if (Array.isArray(d["causes"])) {
      for (const c of d["causes"] as unknown[]) {
        if (typeof c !== "object" || c === null) continue;
        const cause = c as Record<string, unknown>;
        out.causes.push({
          field: typeof cause["field"] === "string" ? cause["field"] : undefined,
          message: typeof cause["message"] === "string" ? cause["message"] : "",
          reason: typeof cause["reason"] === "string" ? cause["reason"] : undefined,
        });
      }
    }
  }
  return out;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** The network error code of `error` or of its causes (ECONNREFUSED, ENOTFOUND, …). */
export function networkErrorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    const o = e as { code?: unknown; errno?: unknown; cause?: unknown; message?: unknown };
    if (typeof o.code === "string" && NETWORK_CODES.has(o.code)) return o.code;
    if (typeof o.errno === "string" && NETWORK_CODES.has(o.errno)) return o.errno;
    if (typeof o.message === "string") {
      const m = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/.exec(o.message);
      if (m) return m[1];
    }
    e = o.cause;
  }
  return undefined;
}

/** Status code and body of an HTTP error from either client, if `error` is one. */
export function httpErrorParts(error: unknown): { status: number; body: unknown } | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const o = error as { code?: unknown; body?: unknown; status?: unknown };
  if (typeof o.code === "number" && o.code >= 100 && o.code < 600) return { status: o.code, body: o.body };
  if (typeof o.status === "number" && o.status >= 100 && o.status < 600) return { status: o.status, body: o.body };
  return undefined;
}

function rbacTarget(ctx: ApiCallContext): string {
  const group = ctx.group === "" ? "the core API group" : `API group "${ctx.group}"`;
  return `verb "${ctx.verb}" on resource "${ctx.resource}" (${group}) in namespace "${ctx.namespace}"`;
}

function what(ctx: ApiCallContext): string {
  const kind = ctx.resource === "workflows" ? "workflow" : ctx.resource === "pods/log" ? "pod" : ctx.resource.replace(/s$/, "");
  const obj = ctx.name ? `${kind} "${ctx.name}"` : ctx.resource;
  if (ctx.action && ctx.action.includes(" ")) return `${ctx.action} "${ctx.name ?? ""}" in namespace "${ctx.namespace}"`;
  const action = ctx.action ?? (ctx.resource === "pods/log" ? "read the logs of" : ctx.verb);
  return `${action} ${obj} in namespace "${ctx.namespace}"`;
}

const GRPC_TO_HTTP: Record<number, number> = { 3: 400, 5: 404, 6: 409, 7: 403, 9: 400, 10: 409, 14: 503, 16: 401 };

/**
 * Classifies any failure of a cluster call and returns a {@link ClusterApiError} with a
 * message that names the operation and what to do. The message never holds a secret.
 */
export function toClusterApiError(error: unknown, ctx: ApiCallContext): ClusterApiError {
  if (error instanceof ClusterApiError) return error;
  const secrets = ctx.secrets ?? [];
  const clean = (s: string): string => redact(s, secrets);
  const server = ctx.backend === "argo-server" ? `Argo Server ${ctx.endpoint}` : `Kubernetes API server ${ctx.endpoint}`;
  const prefix = `cannot ${what(ctx)}`;

  const net = networkErrorCode(error);
  if (net !== undefined) {
    if (ctx.backend === "argo-server") {
      return new ClusterApiError(
        clean(`${prefix}: Argo Server at ${ctx.endpoint} is down or unreachable (${net}); check ARGO_SERVER and that the argo-server deployment is running`),
        "ArgoServerDown",
        undefined,
      );
    }
    return new ClusterApiError(
      clean(`${prefix}: Kubernetes API server ${ctx.endpoint} is unreachable (${net}); check the kubeconfig's cluster address and your network`),
      "Unreachable",
      undefined,
    );
  }

  const parts = httpErrorParts(error);
  if (!parts) {
    const message = error instanceof Error ? error.message : String(error);
    return new ClusterApiError(clean(`${prefix}: ${message}`), "ServerError", undefined);
  }
  const body = parseBody(parts.body);
  let status = parts.status;
  if (ctx.backend === "argo-server" && body.grpcCode !== undefined && GRPC_TO_HTTP[body.grpcCode] && (status === 500 || status === 200)) {
    status = GRPC_TO_HTTP[body.grpcCode] as number;
  }
  const serverMessage = body.message ? `: ${body.message}` : "";

  if (status === 401) {
    const how =
      ctx.backend === "argo-server"
        ? "check ARGO_TOKEN (a service account token, `argo auth token`)"
        : "check the kubeconfig user's credentials (token or certificate may have expired)";
    return new ClusterApiError(clean(`${prefix}: ${server} rejected the credentials (401 Unauthorized); ${how}`), "Unauthorized", 401);
  }
  if (status === 403) {
    return new ClusterApiError(
      clean(`${prefix}: forbidden (403); RBAC must allow ${rbacTarget(ctx)}${serverMessage}`),
      "Forbidden",
      403,
    );
  }
  const crdMissing =
    /could not find the requested resource|no matches for kind|the server doesn't have a resource type/i.test(body.message ?? body.raw) ||
    (status === 404 && ctx.backend === "kubernetes" && !body.detailsName);
  if (crdMissing && ctx.group === "argoproj.io") {
    return new ClusterApiError(
      clean(
        `${prefix}: Argo Workflows is not installed on ${server}: the API does not serve workflows.argoproj.io/v1alpha1 ` +
          "(install Argo's CRDs, e.g. `kubectl apply -k https://github.com/argoproj/argo-workflows/manifests/base/crds/full`)",
      ),
      "CrdMissing",
      status,
    );
  }
  if (status === 404) {
    if (ctx.backend === "argo-server" && !body.message && body.grpcCode === undefined) {
      return new ClusterApiError(
        clean(`${prefix}: ${server} answered 404 without an Argo error; is ARGO_SERVER (and ARGO_BASE_HREF) pointing at Argo Server?`),
        "NotFound",
        404,
      );
    }
    return new ClusterApiError(clean(`${prefix}: not found (404)${serverMessage}`), "NotFound", 404);
  }
  if (status === 409) {
    if (ctx.verb === "create") {
      return new ClusterApiError(
        clean(`${prefix}: the name "${ctx.name ?? body.detailsName ?? "?"}" is already taken in namespace "${ctx.namespace}" (409); delete that workflow, choose another name, or use metadata.generateName`),
        "AlreadyExists",
        409,
      );
    }
    return new ClusterApiError(clean(`${prefix}: conflict (409), the object changed meanwhile${serverMessage}`), "Conflict", 409);
  }
  if (status === 400 && body.causes.length === 0 && /strict decoding error/i.test(body.message ?? "")) {
    // fieldValidation=Strict: the API server lists unknown (or duplicate) fields in the message.
    for (const m of (body.message ?? "").matchAll(/(unknown|duplicate) field "([^"]+)"/g)) {
      body.causes.push({ field: m[2], message: m[1] === "unknown" ? "field not declared in schema" : "duplicate field", reason: "FieldValueInvalid" });
    }
  }
  if (status === 422 || (status === 400 && (body.causes.length > 0 || (ctx.backend === "argo-server" && ctx.verb === "create")))) {
    const lines = body.causes.map((c) => `  ${c.field ? `${c.field}: ` : ""}${c.message}`);
    const detail = lines.length > 0 ? `\n${lines.join("\n")}` : serverMessage;
    return new ClusterApiError(clean(`${prefix}: the server rejected the manifest (${status} Invalid)${detail}`), "Invalid", status, body.causes);
  }
  if (status === 400) {
    return new ClusterApiError(clean(`${prefix}: bad request (400)${serverMessage}`), "BadRequest", 400);
  }
  if (ctx.backend === "argo-server" && (status === 502 || status === 503 || status === 504)) {
    return new ClusterApiError(
      clean(`${prefix}: Argo Server at ${ctx.endpoint} is down (${status}); check that the argo-server deployment is running`),
      "ArgoServerDown",
      status,
    );
  }
  return new ClusterApiError(clean(`${prefix}: ${server} answered ${status}${serverMessage || (body.raw ? `: ${body.raw.slice(0, 300)}` : "")}`), "ServerError", status);
}
