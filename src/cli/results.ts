/**
 * What `opflow run` and `opflow status` print about a run's results: the workflow's outputs
 * (its entrypoint's, as `wf.run()` returns them) and, for a failed run, one line naming the
 * step that failed.
 */
import type { Workflow, WorkflowStatus } from "../argo/model.ts";
import { describeFailure, looseOutputs, rootOutputs } from "../argo/query.ts";
import { decodeParameter } from "../op/parameter-codec.ts";
import type { Signature } from "../op/signature.ts";

function asWorkflow(name: string, status: WorkflowStatus): Workflow {
  return { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name }, spec: {}, status };
}

/**
 * The workflow's outputs as values: parameters read as JSON where they parse, artifacts as
 * their references (`{ name, s3: { key } }`).
 */
export function runOutputs(name: string, status: WorkflowStatus, signature?: Signature): Readonly<Record<string, unknown>> {
  const io = rootOutputs(asWorkflow(name, status));
  const out: Record<string, unknown> = { ...looseOutputs(io) };
  for (const [k, text] of Object.entries(io.parameters)) {
    const typed = typedValue(signature, k, text);
    if (typed.ok) out[k] = typed.value;
  }
  return out;
}

/**
 * An output parameter's value decoded by the entrypoint's signature (a `number[]` output that
 * Argo aggregated as `["1","2"]` is `[1, 2]`, as `wf.run()` gives it); not ok where there is no
 * signature or the text does not decode (the loose reading then stands).
 */
function typedValue(signature: Signature | undefined, name: string, text: string): { ok: true; value: unknown } | { ok: false } {
  const spec = signature?.[name];
  if (spec?.kind !== "parameter") return { ok: false };
  try {
    return { ok: true, value: decodeParameter(spec.schema, text) };
  } catch {
    return { ok: false };
  }
}

/** `Outputs:` and one `name = value` line per output; "" when there are none. */
export function formatOutputs(name: string, status: WorkflowStatus, workdir?: string, signature?: Signature): string {
  const io = rootOutputs(asWorkflow(name, status));
  const lines: string[] = [];
  for (const [k, v] of Object.entries(io.parameters)) {
    const typed = typedValue(signature, k, v);
    lines.push(`  ${k} = ${typed.ok && typeof typed.value !== "string" ? JSON.stringify(typed.value) : v}`);
  }
  for (const [k, a] of Object.entries(io.artifacts)) {
    const key = a.s3?.key;
    lines.push(key ? `  ${k} = artifact ${key}  (opflow download --key ${key} ${k}${workdir ? ` --workdir ${workdir}` : ""})` : `  ${k} = artifact ${JSON.stringify(a)}`);
  }
  return lines.length ? `Outputs:\n${lines.join("\n")}\n` : "";
}

/** `Failed: step "x" (path) failed: …` for a run that failed; "" otherwise. */
export function formatFailure(name: string, status: WorkflowStatus): string {
  const line = describeFailure(asWorkflow(name, status));
  return line ? `${status.phase}: ${line}\n` : "";
}
