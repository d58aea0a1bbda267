/** Small helpers for building manifest objects (internal). */

/** Drops undefined fields (manifests never carry `null` for "not set"). */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** `value` unless it is undefined or an empty object. */
export function nonEmpty<T extends object | undefined>(value: T): T | undefined {
  return value && Object.keys(value).length ? value : undefined;
}
