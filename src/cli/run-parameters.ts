/**
 * `opflow run -p NAME=VALUE`: sets the workflow's arguments — and the entrypoint's inputs, as a
 * user expects, also where the workflow does not repeat them under `spec.arguments` — and
 * rejects unknown names before anything is created.
 */
import type { Workflow } from "../argo/model.ts";
import { UsageError, closest } from "./args.ts";

/**
 * The manifest with every `-p` name that the entrypoint takes but `spec.arguments` does not
 * list added to `spec.arguments.parameters`.
 *
 * @throws UsageError naming an unknown parameter, what the workflow takes, and a near name.
 */
export function withParameters(manifest: Workflow, given: Readonly<Record<string, string>>): Workflow {
  const names = Object.keys(given);
  if (names.length === 0) return manifest;
  const declared = manifest.spec.arguments?.parameters ?? [];
  const entry = (manifest.spec.templates ?? []).find((t) => t.name === manifest.spec.entrypoint);
  // The entrypoint is elsewhere (workflowTemplateRef): the engine checks the names.
  if (!entry) return manifest;
  const inputs = (entry.inputs?.parameters ?? []).map((p) => p.name);
  const known = [...new Set([...declared.map((p) => p.name), ...inputs])];
  const added = [...declared];
  for (const name of names) {
    if (!known.includes(name)) {
      const near = closest(name, known);
      throw new UsageError(
        `-p ${name}: the workflow takes no parameter ${JSON.stringify(name)}; it takes: ${known.join(", ") || "none"}${near ? ` (did you mean ${near}?)` : ""}`,
      );
    }
    if (!declared.some((p) => p.name === name)) added.push({ name, value: given[name] as string });
  }
  if (added.length === declared.length) return manifest;
  return { ...manifest, spec: { ...manifest.spec, arguments: { ...manifest.spec.arguments, parameters: added } } };
}
