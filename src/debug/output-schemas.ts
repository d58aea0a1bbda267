/**
 * Checks the output parameters of a container or script template against the JSON Schemas the
 * template carries (the `opflow.dev/output-schemas` annotation, written by the compiler from
 * the template's typed signature), as the OP runner checks an OP's outputs; and the response
 * body of an HTTP template against the schema of its `result`. Values are read as they travel:
 * text a schema accepts as it is stays text, anything else is read as JSON.
 */
import { z } from "zod";
import type { Parameter } from "../argo/model.ts";
import { RESULT_SCHEMA_KEY } from "../contract.ts";

/** Schemas read back, by annotation text (one entry per template that has them). */
const cache = new Map<string, Map<string, z.ZodType> | null>();

function schemasOf(text: string): Map<string, z.ZodType> | null {
  const known = cache.get(text);
  if (known !== undefined) return known;
  let result: Map<string, z.ZodType> | null = null;
  {
    result = new Map();
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      for (const [name, schema] of Object.entries(parsed)) {
        try {
          result.set(name, z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]));
        } catch {
          /* a schema zod cannot read back is not checked */
        }
      }
    } catch {
      result = null;
    }
  }
  cache.set(text, result);
  return result;
}

/**
 * The first output parameter whose value does not match its schema in `annotation` (the text
 * of the template's `opflow.dev/output-schemas` annotation), described as
 * `output parameter "n": Invalid input: expected int, received number, got "2.5"`; undefined
 * when all match (or there is no annotation). A value equal to the parameter's declared
 * default (`declared`) is not checked.
 */
export function outputSchemaViolation(annotation: string | undefined, declared: readonly Parameter[], values: readonly Parameter[]): string | undefined {
  if (!annotation) return undefined;
  const schemas = schemasOf(annotation);
  if (!schemas) return undefined;
  for (const p of values) {
    const schema = schemas.get(p.name);
    const text = p.value;
    if (!schema || text === undefined) continue;
    const decl = declared.find((d) => d.name === p.name);
    if (decl?.valueFrom?.default !== undefined && decl.valueFrom.default === text) continue;
    const violation = valueViolation(schema, text);
    if (violation !== undefined) return `output parameter "${p.name}"${violation}`;
  }
  return undefined;
}

/**
 * How an HTTP node's response body (`outputs.result`) breaks the schema its template's
 * annotation holds for it, as `outputs.result at items.0.id: Invalid input: expected number,
 * received string, got "{…}"`; undefined when it matches (or there is no such schema).
 */
export function resultSchemaViolation(annotation: string | undefined, body: string): string | undefined {
  if (!annotation) return undefined;
  const schema = schemasOf(annotation)?.get(RESULT_SCHEMA_KEY);
  if (!schema) return undefined;
  const violation = valueViolation(schema, body);
  if (violation === undefined) return undefined;
  let json = true;
  try {
    JSON.parse(body);
  } catch {
    json = false;
  }
  return `outputs.result (the response body)${violation}${json ? "" : " (the body is not JSON)"}`;
}

/** `" at <path>: <rule>, got <value>"` when `text` (as it is, or read as JSON) does not match `schema`. */
function valueViolation(schema: z.ZodType, text: string): string | undefined {
  if (schema.safeParse(text).success) return undefined;
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    /* stays text */
  }
  const r = schema.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  const at = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return `${at}: ${issue?.message ?? "does not match its schema"}, got ${JSON.stringify(shown)}`;
}
