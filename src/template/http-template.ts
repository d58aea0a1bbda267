/**
 * `HttpTemplate`: Argo's `http` template — a request sent by Argo's agent (no pod of its own),
 * whose response body is the node's `outputs.result`.
 */
import { z } from "zod";
import type { Template as ArgoTemplate } from "../argo/model.ts";
import { OUTPUT_SCHEMAS_ANNOTATION, RESULT_SCHEMA_KEY } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import { type Operand, type RenderContext, type ValueKind, renderValue } from "../expr/tree.ts";
import { splitSignature, type ParamSpec, valueKindOf } from "../op/signature.ts";
import { compact, nonEmpty } from "./compact.ts";
import { orderTemplate } from "./order.ts";
import { SecretKey } from "./secret.ts";
import type { ResultSignature } from "./result-type.ts";
import { type InputRefs, Template, type TemplateCompiler, type TemplateOptions, inputRefs } from "./template.ts";

/** HTTP methods Argo's agent sends. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

const METHODS: readonly HttpMethod[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** A value of an HTTP template's field: a word, or a function of the template's input references returning one. */
export type HttpWord<I extends Record<string, ParamSpec>> = Operand<string> | ((inputs: InputRefs<I>) => Operand<string>);

/** Headers of an HTTP template: text, expressions or Secret references ({@link SecretKey}), by header name. */
export type HttpHeaders = Readonly<Record<string, Operand<string> | SecretKey>>;

/** Options of an {@link HttpTemplate}. */
export interface HttpTemplateOptions<I extends Record<string, ParamSpec>, R = string> extends Pick<TemplateOptions, "memoize" | "annotations" | "labels" | "timeout"> {
  /** The template's name (lowercase RFC 1123). */
  readonly name: string;
  /** Input parameters (an HTTP template has no artifacts). @default no inputs */
  readonly inputs?: I;
  /** The URL; may embed inputs (`` (io) => argoString`https://api/${io.parameters.id}` ``). */
  readonly url: HttpWord<I>;
  /** @default "GET" */
  readonly method?: HttpMethod;
  /**
   * Request headers by name; a value may be a Secret's key (`secret("api", "token")`, rendered as
   * `valueFrom.secretKeyRef`: the token never enters the manifest).
   * @default none
   */
  readonly headers?: HttpHeaders | ((inputs: InputRefs<I>) => HttpHeaders);
  /** The request body (text; may embed inputs). @default none */
  readonly body?: HttpWord<I>;
  /**
   * When the request succeeded: an expr-lang condition over `request` and `response`
   * (`"response.statusCode == 201"`, `'response.body contains "ok"'`).
   * @default a 2xx status code
   */
  readonly successCondition?: string;
  /** How long to wait for the response, in whole seconds. @default Argo's (30 s) */
  readonly timeoutSeconds?: number;
  /** Accept any TLS certificate of the server. @default false */
  readonly insecureSkipVerify?: boolean;
  /**
   * The schema of the response body (JSON): `outputs.result` of steps calling the template is
   * then a `ParamRef<R>` (`z.infer` of the schema) instead of text, and the compiler checks
   * where it is wired. The local engine reads the body as JSON and fails the step when it does
   * not match, naming the template, the rule and the value. On Argo the body is not checked
   * (its agent does not know the schema: the manifest only carries it in the
   * `opflow.dev/output-schemas` annotation); there the consumer's own validation applies (an
   * OP's inputs are checked by its runner).
   * @default none: the body is text
   */
  readonly result?: z.ZodType<R>;
}

/**
 * An HTTP request as a step (Argo's `http` template, sent by Argo's agent; the local engine sends
 * it with `fetch`). The response body is the step's `outputs.result`; the step fails when the
 * status is not 2xx or `successCondition` does not hold.
 *
 * @example
 * ```ts
 * const notify = new HttpTemplate({
 *   name: "notify",
 *   inputs: { id: param(z.string()) },
 *   method: "POST",
 *   url: "https://hooks.example.org/done",
 *   headers: { "Content-Type": "application/json", Authorization: secret("hooks", "token") },
 *   body: (io) => argoString`{"id": "${io.parameters.id}"}`,
 *   successCondition: "response.statusCode == 202",
 * });
 * const step = new Step("notify", notify, { parameters: { id: "run-1" } });
 * step.outputs.result; // ParamRef<string>: the response body
 * ```
 */
export class HttpTemplate<I extends Record<string, ParamSpec> = {}, R = string> extends Template<I, ResultSignature<R>> {
  private readonly http: HttpTemplateOptions<I, R>;
  /** The JSON Schema of the response body, as the annotation carries it (undefined: text). */
  private readonly resultSchema: Record<string, unknown> | undefined;

  constructor(options: HttpTemplateOptions<I, R>) {
    const inputs = options.inputs ?? ({} as I);
    const { memoize, annotations, labels, timeout } = options;
    super(options.name, inputs, {}, compact({ memoize, annotations, labels, timeout }));
    const where = `template "${options.name}"`;
    this.resultSchema = options.result === undefined ? undefined : resultJsonSchema(where, options.result);
    const { parameters, artifacts } = splitSignature(inputs);
    const files = [...artifacts.map(([n]) => n), ...parameters.filter(([, s]) => s.big).map(([n]) => n)];
    if (files.length) throw new ValidationError(`${where}: an HTTP template takes parameters only, got artifact input(s) ${files.join(", ")}`);
    if (options.url === undefined || options.url === "") throw new ValidationError(`${where}: url is required`);
    if (options.method !== undefined && !METHODS.includes(options.method)) {
      throw new ValidationError(`${where}: method must be one of ${METHODS.join(", ")}; got ${JSON.stringify(options.method)}`);
    }
    if (options.timeoutSeconds !== undefined && (!Number.isInteger(options.timeoutSeconds) || options.timeoutSeconds <= 0)) {
      throw new ValidationError(`${where}: timeoutSeconds must be a positive whole number, got ${JSON.stringify(options.timeoutSeconds)}`);
    }
    if (options.successCondition !== undefined && (typeof options.successCondition !== "string" || !options.successCondition.trim())) {
      throw new ValidationError(`${where}: successCondition must be a non-empty expression, got ${JSON.stringify(options.successCondition)}`);
    }
    if (options.body !== undefined && (options.method ?? "GET") === "GET") {
      throw new ValidationError(`${where}: a GET request has no body; set method (e.g. "POST")`);
    }
    this.http = options;
  }

  override resultKind(): ValueKind {
    return this.http.result === undefined ? "string" : valueKindOf(this.http.result);
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const ctx = compiler.context(this);
    const refs = inputRefs(this, this.inputs);
    const word = (w: HttpWord<I>): string => renderWord(typeof w === "function" ? w(refs) : w, ctx);
    const o = this.http;
    const headerMap = typeof o.headers === "function" ? o.headers(refs) : o.headers;
    const headers = Object.entries(headerMap ?? {}).map(([name, value]) => {
      if (!name.trim()) throw new ValidationError(`template "${this.name}": a header name is empty`);
      return value instanceof SecretKey ? { name, valueFrom: value.valueFrom() } : { name, value: renderWord(value, ctx) };
    });
    const http = compact({
      method: o.method,
      url: word(o.url),
      headers: headers.length ? headers : undefined,
      body: o.body !== undefined ? word(o.body) : undefined,
      successCondition: o.successCondition,
      timeoutSeconds: o.timeoutSeconds,
      insecureSkipVerify: o.insecureSkipVerify || undefined,
    });
    const tmpl: ArgoTemplate = compact({ name: compiler.nameOf(this), inputs: nonEmpty(this.renderInputs(() => undefined, compiler)), ...this.renderCommon(), http });
    if (this.resultSchema) {
      tmpl.metadata = { ...(tmpl.metadata ?? {}), annotations: { ...(tmpl.metadata?.annotations ?? {}), [OUTPUT_SCHEMAS_ANNOTATION]: JSON.stringify({ [RESULT_SCHEMA_KEY]: this.resultSchema }) } };
    }
    return [orderTemplate(tmpl)];
  }
}

/** The JSON Schema of a `result` option; refuses what is no zod schema or has no JSON Schema form. */
function resultJsonSchema(where: string, schema: unknown): Record<string, unknown> {
  if (!(schema instanceof z.ZodType)) throw new ValidationError(`${where}: result must be a zod schema of the response body (e.g. z.object({ id: z.number() })), got ${describe(schema)}`);
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { io: "input", unrepresentable: "throw" }) as Record<string, unknown>;
  } catch (err) {
    throw new ValidationError(`${where}: result: the schema has no JSON Schema form, which the local engine checks the body against (${(err as Error).message}); use plain zod types (objects, arrays, strings, numbers, enums)`);
  }
  delete json.$schema;
  return json;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function renderWord(w: Operand<string>, ctx: RenderContext): string {
  return renderValue(w, ctx);
}
