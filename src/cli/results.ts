/**
 * What `opflow run` and `opflow status` print about a run's results: the workflow's outputs
 * (its entrypoint's, as `wf.run()` returns them) and, for a failed run, one line naming the
 * step that failed.
 */
import type { Workflow, WorkflowStatus } from "../argo/model.ts";
import { describeFailure, looseOutputs, rootOutputs } from "../argo/query.ts";

function asWorkflow(name: string, status: WorkflowStatus): Workflow {
  return { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name }, spec: {}, status };
}

/**
 * The workflow's outputs as values: parameters read as JSON where they parse, artifacts as
 * their references (`{ name, s3: { key } }`).
 */
export function runOutputs(name: string, status: WorkflowStatus): Readonly<Record<string, unknown>> {
  return looseOutputs(rootOutputs(asWorkflow(name, status)));
}

/** `Outputs:` and one `name = value` line per output; "" when there are none. */
export function formatOutputs(name: string, status: WorkflowStatus, workdir?: string): string {
  const io = rootOutputs(asWorkflow(name, status));
  const lines: string[] = [];
  for (const [k, v] of Object.entries(io.parameters)) lines.push(`  ${k} = ${v}`);
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
