/**
 * A local run as an Argo Workflow object: from the manifest and status a {@link LocalArgoClient}
 * holds, or read back from the run's state tree on disk; and the live engine of another process
 * running it.
 */
import fs from "node:fs/promises";
import { COMPLETED_LABEL, PHASE_LABEL, isCompletedPhase } from "../argo/control.ts";
import type { Workflow, WorkflowPhase, WorkflowStatus } from "../argo/model.ts";
import type { ProcessIdentity } from "../executors/process-identity.ts";
import { StateTree } from "./state-tree.ts";
import { controlOf, enginePid, holdsRun, readManifest, readRunStatus } from "./run-folder.ts";

/** The namespace a `LocalArgoClient` reports. */
export const LOCAL_NAMESPACE = "local";

/** The Workflow object of a local run: the controller's phase labels, the local namespace. */
export function runWorkflowObject(manifest: Workflow, status: WorkflowStatus, createdAt: string): Workflow {
  const phase = (status.phase || "Pending") as Exclude<WorkflowPhase, "">;
  const labels: Record<string, string> = {
    ...(manifest.metadata.labels ?? {}),
    [PHASE_LABEL]: phase,
    [COMPLETED_LABEL]: String(isCompletedPhase(phase)),
  };
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { ...manifest.metadata, namespace: LOCAL_NAMESPACE, labels, creationTimestamp: createdAt },
    spec: manifest.spec,
    status,
  };
}

/**
 * The run stored in `dir`, or undefined when there is none. A run that is not finished and
 * whose engine is gone (and not `runningHere`) is reported Failed.
 */
export async function storedRun(dir: string, runningHere: boolean): Promise<Workflow | undefined> {
  let manifest: Workflow;
  try {
    manifest = await readManifest(dir);
  } catch {
    return undefined;
  }
  const { status, engineAlive } = await readRunStatus(dir);
  if (!isCompletedPhase(status.phase) && engineAlive !== true && !runningHere) {
    status.phase = "Failed";
    status.message = `the engine of this run is gone (killed?); retry it to resume (its Succeeded steps are reused)`;
  }
  let createdAt = status.startedAt;
  if (!createdAt) {
    const st = await fs.stat(dir).catch(() => undefined);
    createdAt = (st ? (st.birthtime.getTime() > 0 ? st.birthtime : st.mtime) : new Date(0)).toISOString();
  }
  return runWorkflowObject(manifest, status, createdAt);
}

/** The live engine of another process running the run in `dir`, and how it takes requests, if any. */
export async function otherEngine(dir: string): Promise<{ pid: number; identity: ProcessIdentity; control?: string } | undefined> {
  if (!(await holdsRun(dir))) return undefined;
  const { status, engineAlive } = await readRunStatus(dir);
  if (isCompletedPhase(status.phase) || engineAlive !== true) return undefined;
  const identity = await enginePid(dir);
  if (identity === undefined) return undefined;
  const control = await controlOf(dir);
  return { pid: identity.pid, identity, ...(control ? { control } : {}) };
}
