/**
 * Global parameters: workflow parameters that are no input of the entrypoint, readable from any
 * template as `{{workflow.parameters.<name>}}` (Argo's `spec.arguments.parameters` read through
 * the `workflow.parameters` scope). A `GlobalParam` is a typed reference usable in any step's
 * arguments, `when`, hooks and expressions; the `Workflow` lists it under `globals`, which
 * declares it in the manifest with its value.
 */
import { z } from "zod";
import type { Parameter } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";
import { variableOf } from "../expr/refs.ts";
import { VarRef } from "../expr/tree.ts";
import { checkIOName } from "../names.ts";
import { encodeParameter } from "../op/parameter-codec.ts";
import { valueKindOf } from "../op/signature.ts";

/** Where a global parameter's value comes from when the workflow does not set it. */
export interface ConfigMapValue {
  /** The ConfigMap's name (in the workflow's namespace). */
  readonly name: string;
  /** The key whose value is taken. */
  readonly key: string;
}

/** Options of {@link globalParam}. */
export interface GlobalParamOptions<T> {
  /** Its value when the workflow gives none (`withValue()`) and `-p` does not override it. @default none: a value is required */
  readonly default?: T;
  /** Shown by Argo's UI and in the manifest. @default none */
  readonly description?: string;
  /**
   * Read the value from a ConfigMap's key at run time (Argo's `valueFrom.configMapKeyRef`;
   * the local engine reads it from the run's objects). `default` then applies when the key is
   * missing. @default none
   */
  readonly fromConfigMap?: ConfigMapValue;
}

/**
 * A workflow-global parameter: a typed reference to `{{workflow.parameters.<name>}}`, with its
 * schema and value. Pass it to any step's arguments or use it in expressions (`g.gt(3)`), and
 * list it in the workflow's `globals`.
 */
export class GlobalParam<T = unknown> extends VarRef<T> {
  private constructor(
    /** The parameter's name (`workflow.parameters.<name>`). */
    readonly name: string,
    /** The zod schema its value satisfies. */
    readonly schema: z.ZodType<T>,
    private readonly options: GlobalParamOptions<T>,
    /** The value given for one workflow (`withValue()`), else undefined. */
    private readonly given: { readonly value: T } | undefined,
  ) {
    super(variableOf({ type: "workflow", path: ["parameters", name] }, valueKindOf(schema)));
  }

  /** @internal Made by {@link globalParam}. */
  static make<T>(name: string, schema: z.ZodType<T>, options: GlobalParamOptions<T>): GlobalParam<T> {
    return new GlobalParam(name, schema, options, undefined);
  }

  /**
   * The same parameter with `value` for one workflow (checked by the schema); references made
   * from either are the same `{{workflow.parameters.<name>}}`.
   * @throws ValidationError when `value` does not fit the schema.
   */
  withValue(value: T): GlobalParam<T> {
    check(this.name, this.schema, value, "value");
    return new GlobalParam(this.name, this.schema, this.options, { value });
  }

  /** The description, if any. */
  get description(): string | undefined {
    return this.options.description;
  }

  /** The manifest's `spec.arguments.parameters` entry. @throws ValidationError when it has no value. */
  toArgoParameter(): Parameter {
    const o = this.options;
    const value = this.given ? this.given.value : o.default;
    const out: Parameter = { name: this.name };
    if (o.fromConfigMap) {
      out.valueFrom = { configMapKeyRef: { name: o.fromConfigMap.name, key: o.fromConfigMap.key }, ...(value !== undefined ? { default: encodeParameter(value) } : {}) };
    } else {
      if (value === undefined) throw new ValidationError(`global parameter "${this.name}": has no value; give a default (globalParam(…, { default })) or a value (.withValue(…))`);
      out.value = encodeParameter(value);
    }
    const en = enumOf(this.schema);
    if (en) out.enum = en;
    if (o.description !== undefined) out.description = o.description;
    return out;
  }
}

function check<T>(name: string, schema: z.ZodType<T>, value: unknown, field: string): void {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(`global parameter "${name}": ${field} ${JSON.stringify(value)} does not match the schema: ${r.error.issues[0]?.message ?? "invalid"}`);
  if (JSON.stringify(value) === undefined) throw new ValidationError(`global parameter "${name}": ${field} must be JSON-serialisable`);
}

/** The values of a string enum schema (Argo's `enum`: the UI offers them, Argo refuses others). */
function enumOf(schema: z.ZodType): string[] | undefined {
  return schema instanceof z.ZodEnum && schema.options.every((v) => typeof v === "string") ? schema.options.map(String) : undefined;
}

/**
 * Declares a global parameter of the workflow, `{{workflow.parameters.<name>}}`, typed by
 * `schema`. List it in `new Workflow({ globals: [g] })`; `opflow run -p name=value` (and the
 * engine's `parameters`) override its value.
 *
 * @throws ValidationError on a bad name or a default that does not fit the schema.
 * @example
 * const region = globalParam("region", z.enum(["eu", "us"]), { default: "eu" });
 * const train = new Step("train", trainT, { parameters: { region } });
 * new Workflow({ entrypoint: main, globals: [region.withValue("us")] });
 */
export function globalParam<S extends z.ZodType>(name: string, schema: S, options: GlobalParamOptions<z.output<S>> = {}): GlobalParam<z.output<S>> {
  checkIOName("global parameter", name);
  if (!(schema instanceof z.ZodType)) throw new ValidationError(`global parameter "${name}": expected a zod schema, got ${typeof schema}`);
  if (options.default !== undefined) check(name, schema, options.default, "default");
  if (options.fromConfigMap && (!options.fromConfigMap.name || !options.fromConfigMap.key)) {
    throw new ValidationError(`global parameter "${name}": fromConfigMap needs a name and a key, got ${JSON.stringify(options.fromConfigMap)}`);
  }
  return GlobalParam.make(name, schema as z.ZodType<z.output<S>>, options);
}
