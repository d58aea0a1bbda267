/**
 * Logs of a workflow run: the logs of each step's pod, found from the status nodes.
 */
import type { Workflow } from "./model.ts";
import type { ArgoClient } from "./client.ts";
import { ClusterApiError } from "./api-errors.ts";
import { querySteps, type ArgoStepFilter } from "./query.ts";

/** Options of {@link workflowLogs}. */
export interface WorkflowLogOptions {
  /**
   * Which steps (only Pod nodes have logs).
   * @default every pod of the workflow
   */
  readonly step?: ArgoStepFilter;
  /**
   * Container of each pod.
   * @default "main"
   */
  readonly container?: string;
  /**
   * Only the last N lines of each pod.
   * @default all lines
   */
  readonly tailLines?: number;
}

/** The log of one step. */
export interface ArgoStepLog {
  /** The step's display name. */
  readonly step: string;
  readonly nodeId: string;
  readonly podName: string;
  /** The text (empty when the pod is gone). */
  readonly text: string;
  /** Why there is no text, when the pod could not be read (deleted by pod GC, not started). */
  readonly missing?: string;
}

/**
 * Logs of the steps of `workflow` that ran in pods, in start order.
 *
 * @example
 * ```ts
 * const wf = await client.get("hello-x7k2p");
 * for (const log of await workflowLogs(client, wf, { step: { name: "train" } })) console.log(log.text);
 * ```
 */
export async function workflowLogs(client: ArgoClient, workflow: Workflow, options: WorkflowLogOptions = {}): Promise<ArgoStepLog[]> {
  const steps = querySteps(workflow, { ...options.step, type: "Pod" });
  const out: ArgoStepLog[] = [];
  for (const step of steps) {
    const podName = step.podName as string;
    const base = { step: step.displayName, nodeId: step.id, podName };
    if (step.phase === "Pending" && !step.startedAt) {
      out.push({ ...base, text: "", missing: "the pod has not started" });
      continue;
    }
    try {
      const text = await client.podLogs(workflow.metadata.name ?? "", podName, {
        ...(options.container ? { container: options.container } : {}),
        ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
      });
      out.push({ ...base, text });
    } catch (error) {
      if (error instanceof ClusterApiError && error.reason === "NotFound") {
        out.push({ ...base, text: "", missing: `pod ${podName} not found (deleted by pod GC?)` });
      } else throw error;
    }
  }
  return out;
}
