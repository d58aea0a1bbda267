/**
 * HTTP templates on this machine, through Node's `fetch`, as Argo's agent runs them
 * (workflow/executor/agent.go executeHTTPTemplate): the response body is the node's
 * `outputs.result`; the node Succeeded when `successCondition` (expr-lang over `request` and
 * `response`) holds, or, without one, when the status code is 2xx. Header values may come from
 * Secrets of the local store.
 */
import { EngineError } from "../errors.ts";
import { evaluateExpression } from "./_expr.ts";
import type { LocalObjects } from "./local-objects.ts";

/** The `http` field of a template (after substitution). */
export interface HttpSpec {
  readonly url: string;
  readonly method?: string;
  readonly headers?: readonly { name: string; value?: string; valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }[];
  readonly body?: string;
  readonly bodyFrom?: { bytes?: string };
  readonly timeoutSeconds?: number;
  readonly successCondition?: string;
  readonly insecureSkipVerify?: boolean;
}

/** How an HTTP node ended. */
export interface HttpResult {
  readonly phase: "Succeeded" | "Failed" | "Error";
  readonly message?: string;
  readonly result?: string;
}

/**
 * Sends the request and judges the response.
 *
 * @example
 * ```ts
 * await runHttp({ url: "http://127.0.0.1:8080/health", successCondition: "response.statusCode == 200" }, undefined, signal);
 * // { phase: "Succeeded", result: "ok" }
 * ```
 */
export async function runHttp(spec: HttpSpec, objects: LocalObjects | undefined, signal: AbortSignal, where: string): Promise<HttpResult> {
  const method = spec.method || "GET";
  const headers = new Headers();
  const requestHeaders: Record<string, string[]> = {};
  for (const h of spec.headers ?? []) {
    let value = h.value ?? "";
    const ref = h.valueFrom?.secretKeyRef;
    if (ref) {
      if (!objects) return { phase: "Error", message: `${where}: header "${h.name}" refers to Secret "${ref.name}", and no local store was given (opflow run --objects FILE|DIR)` };
      try {
        value = (objects.get("Secret", ref.name ?? "", ref.key ?? "") as Buffer).toString();
      } catch (err) {
        return { phase: "Error", message: `${where}: header "${h.name}": ${(err as Error).message}` };
      }
    }
    headers.append(h.name, value);
    (requestHeaders[h.name] ??= []).push(ref ? "" : value);
  }
  const body = spec.bodyFrom?.bytes !== undefined ? Buffer.from(spec.bodyFrom.bytes, "base64") : spec.body;
  const timeout = spec.timeoutSeconds !== undefined ? AbortSignal.timeout(spec.timeoutSeconds * 1000) : undefined;
  let response: Response;
  let text: string;
  try {
    response = await fetch(spec.url, {
      method,
      headers,
      ...(body !== undefined && body !== "" && method !== "GET" && method !== "HEAD" ? { body } : {}),
      signal: timeout ? AbortSignal.any([signal, timeout]) : signal,
    });
    text = await response.text();
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return { phase: "Error", message: `${where}: ${method} ${spec.url}: ${(err as Error).message}${cause ? ` (${cause})` : ""}` };
  }
  if (!spec.successCondition) {
    const ok = response.status >= 200 && response.status < 300;
    return ok ? { phase: "Succeeded", result: text } : { phase: "Failed", message: `received non-2xx response code: ${response.status}`, result: text };
  }
  const responseHeaders: Record<string, string[]> = {};
  response.headers.forEach((v, k) => (responseHeaders[k] ??= []).push(v));
  const env = {
    request: { method, url: spec.url, body: spec.body ?? "", bodyBytes: spec.bodyFrom?.bytes ?? "", headers: requestHeaders },
    response: { statusCode: response.status, body: text, headers: responseHeaders },
  };
  let holds: unknown;
  try {
    holds = evaluateExpression(spec.successCondition, env);
  } catch (err) {
    throw new EngineError(`${where}: successCondition '${spec.successCondition}': ${(err as Error).message}`);
  }
  if (holds !== true && holds !== false) throw new EngineError(`${where}: successCondition '${spec.successCondition}' evaluated to ${JSON.stringify(holds)}, not a boolean`);
  return holds ? { phase: "Succeeded", result: text } : { phase: "Failed", message: `successCondition '${spec.successCondition}' evaluated false`, result: text };
}
