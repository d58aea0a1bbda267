/**
 * OPs: typed operations. Two forms, one contract:
 *
 * - a class extending {@link OP} with static `inputs` / `outputs` signatures and an async
 *   `execute`;
 * - a function form, {@link defineOp}.
 *
 * Both give an {@link OPDefinition}: what templates, the runner and the local engine use.
 */
import type { z } from "zod";
import { type Issue, ValidationError } from "../errors.ts";
import { checkNestedValue } from "../expr/nested-layout.ts";
import { checkIOName, checkName } from "../names.ts";
import { type OPInput, type OPOutput, type Signature, type SpecValue, splitSignature } from "./signature.ts";

/** What `execute` may use besides its input; `O` is the OP's output signature. */
export interface OPContext<O extends Signature = Signature> {
  /** Reports progress (`N/M`), shown live by the engine and by Argo. */
  progress(done: number, total: number): void;
  /** Writes a line to the step's log. */
  log(message: string): void;
  /** Aborted when the step times out or is cancelled. */
  readonly signal: AbortSignal;
  /** A private scratch directory for this execution (the step's working directory). */
  readonly workdir: string;
  /** The name of the workflow this runs in (Argo's `{{workflow.name}}`), when known. */
  readonly workflowName?: string;
  /** The key of the step this runs as (dflow's step key), when it has one. */
  readonly stepKey?: string;
  /**
   * Records output `name` now (dflow's `set_output`): it is kept even when `execute` throws
   * later, so the failed step carries the outputs set so far (a `continueOn: { failed: true }`
   * step downstream can read them). On success, what `execute` returns takes precedence and set
   * outputs fill in what it leaves out. Checked against the output's schema at once; an
   * artifact's path must still exist when `execute` ends. Not available in sliced runs.
   *
   * @throws ValidationError for an undeclared output or a value its schema refuses.
   * @example
   * ```ts
   * async execute({ steps }, ctx) {
   *   for (let i = 0; i < steps; i++) {
   *     ctx.setOutput("done", i);   // survives the throw below
   *     if (diverged()) throw new FatalError("diverged");
   *   }
   *   return { done: steps };
   * }
   * ```
   */
  setOutput<K extends keyof O & string>(name: K, value: SpecValue<O[K]>): void;
}

/** An OP as templates and runners see it. */
export interface OPDefinition<I extends Signature = Signature, O extends Signature = Signature> {
  /** Name (lowercase RFC 1123); becomes the template's name. */
  readonly name: string;
  readonly inputs: I;
  readonly outputs: O;
  /** A short description, shown in docs and as a template annotation. */
  readonly description?: string | undefined;
  /** The module that exports this OP, as recorded when it was defined (for containers). */
  readonly modulePath?: string | undefined;
  execute(input: OPInput<I>, context: OPContext<O>): Promise<OPOutput<O>>;
}

/** A class whose instances are OPs (the class form). */
export interface OPClass<I extends Signature = Signature, O extends Signature = Signature> {
  new (): OP<I, O>;
  readonly inputs: I;
  readonly outputs: O;
  readonly opName?: string;
  readonly description?: string;
}


/** `TrainModel` → `train-model`. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .toLowerCase();
}

function checkSignature(owner: string, which: "inputs" | "outputs", sig: Signature): void {
  if (typeof sig !== "object" || sig === null) throw new ValidationError(`OP "${owner}": ${which} must be an object of param(...)/artifact(...)`);
  splitSignature(sig);
  for (const name of Object.keys(sig)) checkIOName(`OP "${owner}": ${which}`, name);
}

/** opflow's folders whose frames are not the caller: OPs, and the templates that wrap them. */
const OWN_FOLDERS = [new URL(".", import.meta.url).href, new URL("../template/", import.meta.url).href];

/** Records which module called: the first stack frame outside opflow's `op/` and `template/` folders and dependencies. */
export function callerModule(): string | undefined {
  const stack = new Error().stack ?? "";
  for (const line of stack.split("\n").slice(1)) {
    const m = /(file:\/\/[^\s)]+?):\d+:\d+/.exec(line) ?? /[(\s](\/[^\s)]+?):\d+:\d+\)?$/.exec(line);
    if (!m) continue;
    const url = (m[1] as string).startsWith("file:") ? (m[1] as string) : `file://${m[1]}`;
    if (OWN_FOLDERS.some((dir) => url.startsWith(dir)) || url.includes("/node_modules/")) continue;
    return url;
  }
  // Inside an OP bundle every frame is the bundle's own: the bundler defines this constant as
  // the module it bundled (elsewhere it is unset).
  return process.env.OPFLOW_BUNDLED_MODULE;
}

/**
 * Base class of the class form of OPs.
 *
 * @example
 * class Duplicate extends OP<typeof Duplicate.inputs, typeof Duplicate.outputs> {
 *   static readonly inputs = { msg: param(z.string()), times: param(z.number().int()) };
 *   static readonly outputs = { msg: param(z.string()) };
 *   async execute({ msg, times }: OPInput<typeof Duplicate.inputs>) {
 *     return { msg: msg.repeat(times) };
 *   }
 * }
 */
export abstract class OP<I extends Signature = Signature, O extends Signature = Signature> implements OPDefinition<I, O> {
  abstract execute(input: OPInput<I>, context: OPContext<O>): Promise<OPOutput<O>>;

  private get cls(): OPClass<I, O> {
    return this.constructor as unknown as OPClass<I, O>;
  }
  get name(): string {
    return this.cls.opName ?? kebabCase(this.constructor.name);
  }
  get inputs(): I {
    return this.cls.inputs;
  }
  get outputs(): O {
    return this.cls.outputs;
  }
  get description(): string | undefined {
    return this.cls.description;
  }
  get modulePath(): string | undefined {
    return moduleOfClass.get(this.constructor);
  }
}

const moduleOfClass = new WeakMap<object, string | undefined>();

/** Options of {@link defineOp}. */
export interface DefineOpOptions<I extends Signature, O extends Signature> {
  /** Name (lowercase RFC 1123, at most 128 characters); becomes the template's name. */
  readonly name: string;
  readonly inputs: I;
  readonly outputs: O;
  readonly description?: string;
  execute(input: OPInput<I>, context: OPContext<O>): Promise<OPOutput<O>> | OPOutput<O>;
}

/**
 * Defines an OP from a function.
 *
 * @example
 * export const hello = defineOp({
 *   name: "hello",
 *   inputs: { name: param(z.string()) },
 *   outputs: { greeting: param(z.string()) },
 *   async execute({ name }) {
 *     return { greeting: `Hello, ${name}!` };
 *   },
 * });
 */
export function defineOp<I extends Signature, O extends Signature>(options: DefineOpOptions<I, O>): OPDefinition<I, O> {
  checkName("OP", options.name);
  checkSignature(options.name, "inputs", options.inputs);
  checkSignature(options.name, "outputs", options.outputs);
  const run = options.execute;
  return Object.freeze({
    name: options.name,
    inputs: options.inputs,
    outputs: options.outputs,
    description: options.description,
    modulePath: callerModule(),
    async execute(input: OPInput<I>, context: OPContext<O>): Promise<OPOutput<O>> {
      return run(input, context);
    },
  });
}

/** Turns an OP class or instance into its definition, checking its name and signatures. */
export function toOPDefinition<I extends Signature, O extends Signature>(
  op: OPDefinition<I, O> | OPClass<I, O>,
): OPDefinition<I, O> {
  let def: OPDefinition<I, O>;
  if (typeof op === "function") {
    if (!moduleOfClass.has(op)) moduleOfClass.set(op, callerModule());
    def = new op();
  } else def = op;
  if (!def || typeof def.execute !== "function") {
    throw new ValidationError(`expected an OP (a class extending OP, or defineOp(...)), got ${typeof op}`);
  }
  checkName("OP", def.name);
  if (!def.inputs || !def.outputs) {
    throw new ValidationError(`OP "${def.name}": static inputs and outputs signatures are required`);
  }
  checkSignature(def.name, "inputs", def.inputs);
  checkSignature(def.name, "outputs", def.outputs);
  return def;
}

/** Describes a value for an error message: `"ten" (string)`. */
export function describeValue(value: unknown): string {
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  let text: string;
  try {
    // NaN and ±Infinity are named as such (JSON would print them as null).
    const mark = "\u0000";
    text = (JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? `${mark}${v}${mark}` : v)) ?? String(value)).replace(/"\\u0000(-?\w+)\\u0000"/g, "$1");
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return `${text} (${type})`;
}

/** The rule a zod issue states, as "expects number", "expects one of a, b", "must be >= 1". */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const i = issue as { code: string; expected?: string; values?: unknown[]; message: string };
  if (i.code === "invalid_type" && i.expected) return `expects ${i.expected}`;
  if (i.code === "invalid_value" && i.values) return `expects one of ${i.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return `is invalid (${i.message.replace(/^Invalid input: /, "").replace(/^Too (small|big): /, "")})`;
}

/** Formats a zod error as `field "x.y": expected number, got "ten" (string)`. */
export function formatIssues(where: string, field: string, error: z.ZodError, value: unknown): string {
  return schemaIssues(where, field, error, value)
    .map((i) => i.message)
    .join("; ");
}

/** The issues of a schema check, as data: path from `field`, rule `"schema"`, the offending value. */
export function schemaIssues(where: string, field: string, error: z.ZodError, value: unknown): Issue[] {
  return error.issues.map((issue) => {
    const segs = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
    const path = [field, ...segs.map(String)].join(".");
    let got: unknown = value;
    for (const seg of issue.path) got = (got as Record<PropertyKey, unknown> | undefined)?.[seg as PropertyKey];
    return { path: [field, ...segs], rule: "schema", message: `${where}: parameter "${path}" ${describeIssue(issue)}, got ${describeValue(got)}`, value: got };
  });
}

/**
 * Checks and completes `execute`'s input against the signature: applies defaults, rejects
 * unknown fields, missing required ones and values that do not match their schema.
 */
export function validateInput<I extends Signature>(opName: string, sig: I, input: Record<string, unknown>): OPInput<I> {
  return validateRecord(`OP "${opName}" input`, sig, input, "input") as OPInput<I>;
}

/** Checks `execute`'s output against the signature. */
export function validateOutput<O extends Signature>(opName: string, sig: O, output: unknown): OPOutput<O> {
  if (typeof output !== "object" || output === null || Array.isArray(output)) {
    throw new ValidationError(`OP "${opName}" output: execute must return an object, got ${describeValue(output)}`);
  }
  return validateRecord(`OP "${opName}" output`, sig, output as Record<string, unknown>, "output") as OPOutput<O>;
}

/**
 * Checks one output value given to `setOutput` against the signature.
 * @throws ValidationError for an undeclared output or a value its schema refuses.
 */
export function validateOneOutput(opName: string, sig: Signature, name: string, value: unknown): unknown {
  const where = `OP "${opName}" setOutput`;
  const spec = Object.prototype.hasOwnProperty.call(sig, name) ? sig[name] : undefined;
  if (!spec) throw new ValidationError(`${where}: unknown output ${JSON.stringify(name)}; declared: ${Object.keys(sig).join(", ") || "none"}`);
  if (value === undefined) throw new ValidationError(`${where}: output "${name}" needs a value, got undefined`);
  return validateRecord(where, { [name]: spec }, { [name]: value }, "output")[name];
}

function validateRecord(where: string, sig: Signature, value: Record<string, unknown>, side: "input" | "output"): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (!(key in sig)) {
      throw new ValidationError(`${where}: unknown ${side} ${JSON.stringify(key)}; declared: ${Object.keys(sig).join(", ") || "none"}`);
    }
  }
  for (const [name, spec] of Object.entries(sig)) {
    const v = value[name];
    if (spec.kind === "parameter") {
      if (v === undefined && spec.hasDefault) {
        out[name] = spec.defaultValue;
        continue;
      }
      const r = spec.schema.safeParse(v);
      if (!r.success) {
        if (v === undefined) throw new ValidationError(`${where}: parameter "${name}" is required but missing`);
        throw new ValidationError(formatIssues(where, name, r.error, v), { issues: schemaIssues(where, name, r.error, v) });
      }
      out[name] = r.data;
    } else {
      if (v === undefined || v === null) {
        if (!spec.optional) throw new ValidationError(`${where}: artifact "${name}" is required but missing`);
        out[name] = undefined;
        continue;
      }
      if (spec.shape === "nested") {
        if (typeof v !== "object") throw new ValidationError(`${where}: artifact "${name}" expects a nested record or list of paths, got ${describeValue(v)}`);
        checkNestedValue(v, spec.layout, `${where}: artifact "${name}"`);
        out[name] = v;
        continue;
      }
      const ok =
        spec.shape === "path"
          ? typeof v === "string"
          : spec.shape === "list"
            ? Array.isArray(v) && v.every((p) => typeof p === "string")
            : typeof v === "object" && !Array.isArray(v) && Object.values(v as object).every((p) => typeof p === "string");
      if (!ok) {
        const expected = spec.shape === "path" ? "a path (string)" : spec.shape === "list" ? "a list of paths" : "a record of paths";
        throw new ValidationError(`${where}: artifact "${name}" expects ${expected}, got ${describeValue(v)}`);
      }
      out[name] = v;
    }
  }
  return out;
}

