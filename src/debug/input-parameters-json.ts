/**
 * `{{inputs.parameters}}`: all of a template's input parameters as one JSON list, as Argo
 * substitutes it (workflow/common/util.go SubstituteParams: `json.Marshal` of the resolved
 * `inputs.parameters`). Hera's runner passes it to every script it runs.
 */
import type { Parameter } from "../argo/model.ts";

/**
 * The JSON text Argo gives `{{inputs.parameters}}`: each declared parameter with its resolved
 * value, fields in the order of Argo's Parameter type, empty ones left out; `null` for a template
 * without input parameters (Go marshals a nil list so).
 *
 * @example
 * ```ts
 * inputParametersJson([{ name: "a", default: "1" }], [{ name: "a", value: "2" }]);
 * // '[{"name":"a","default":"1","value":"2"}]'
 * ```
 */
export function inputParametersJson(declared: readonly Parameter[] | undefined, resolved: readonly Parameter[]): string {
  if (!declared || declared.length === 0) return "null";
  const values = new Map(resolved.map((p) => [p.name, p.value]));
  return JSON.stringify(
    declared.map((p) => {
      const out: Record<string, unknown> = { name: p.name };
      if (p.default !== undefined) out["default"] = String(p.default);
      const value = values.get(p.name) ?? p.value;
      if (value !== undefined) out["value"] = String(value);
      if (p.valueFrom !== undefined) out["valueFrom"] = p.valueFrom;
      if (p.globalName) out["globalName"] = p.globalName;
      if (p.enum?.length) out["enum"] = p.enum.map(String);
      if (p.description !== undefined) out["description"] = String(p.description);
      return out;
    }),
  );
}
