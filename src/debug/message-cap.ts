/**
 * Caps on what goes into node and workflow messages. A message quotes values (an expression,
 * a parameter, a step's output) that may be megabytes: a 200 KB value made a 600 KB node
 * message, copied again into every status snapshot, the journal and `--json`. Messages keep
 * their head, which names the object and the rule, and say how much was cut.
 */

/** The longest node or workflow message kept, in characters. */
export const MESSAGE_MAX_CHARS = 1024;

/** The longest value quoted inside a message, in characters. */
export const QUOTED_VALUE_MAX_CHARS = 200;

/**
 * `text` cut to `max` characters (never inside a surrogate pair), with the count of what was
 * cut; unchanged when it fits.
 *
 * @example
 * clipText("x".repeat(5000), 100); // "xxx…x… (4900 more characters)" (100 characters of x)
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // keep a surrogate pair whole
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

/** A node or workflow message within {@link MESSAGE_MAX_CHARS}. */
export function clipMessage(message: string): string;
export function clipMessage(message: string | undefined): string | undefined;
export function clipMessage(message: string | undefined): string | undefined {
  return message === undefined ? undefined : clipText(message, MESSAGE_MAX_CHARS);
}

/** A value as a message quotes it: JSON, within {@link QUOTED_VALUE_MAX_CHARS}. */
export function quoteValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return clipText(text, QUOTED_VALUE_MAX_CHARS);
}
