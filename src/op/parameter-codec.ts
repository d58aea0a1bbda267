/**
 * How parameter values travel as Argo strings. Strings travel as they are; every other JSON
 * value travels as its JSON text. Decoding follows the schema: a schema that accepts the raw
 * text gets the raw text, otherwise the text is parsed as JSON.
 */
import type { z } from "zod";
import { ValidationError } from "../errors.ts";

/**
 * The text an optional parameter without a default carries when the caller gave no value
 * (Argo needs a value for every input parameter). Decodes to `undefined` for optional schemas.
 */
export const NONE = "null";

/** Encodes a parameter value as the string Argo carries. */
export function encodeParameter(value: unknown): string {
  if (typeof value === "string") return value;
  const text = JSON.stringify(value);
  if (text === undefined) throw new ValidationError(`parameter value ${String(value)} is not JSON-serialisable`);
  return text;
}

/**
 * Decodes the string Argo carries into a value for `schema`; returns the text itself when
 * neither reading fits (validation then reports the mismatch with the value).
 */
export function decodeParameter(schema: z.ZodType, text: string): unknown {
  if (text === NONE && schema.safeParse(undefined).success) return undefined;
  if (schema.safeParse(text).success) return text;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return text;
  }
  if (Array.isArray(value) && !schema.safeParse(value).success) {
    // Aggregated outputs of a fanned-out step arrive as a JSON list of the strings each child
    // produced (Argo's rule): decode the elements as the child's values were encoded.
    const decoded = value.map((el) => {
      if (typeof el !== "string") return el;
      try {
        return JSON.parse(el) as unknown;
      } catch {
        return el;
      }
    });
    if (schema.safeParse(decoded).success) return decoded;
  }
  return value;
}
