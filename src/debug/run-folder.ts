/**
 * Reading a run's folder from outside its engine: whether it holds a run, its manifest, the
 * engine recorded in it, its status as Argo's `WorkflowStatus`; and asking its engine to stop.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { yamlModule } from "../yaml-module.ts";
import type { NodeStatus, Workflow, WorkflowPhase, WorkflowStatus } from "../argo/model.ts";
import { atomicWrite, pathExists } from "../files.ts";
import { isSameProcess, parseIdentity, type ProcessIdentity } from "../executors/process-identity.ts";
import { RUN_FILES, StateTree } from "./state-tree.ts";
import { mentionsStoredValue, ValueReader } from "./value-store.ts";

/** Whether `dir` holds a run (its manifest). */
export async function holdsRun(dir: string): Promise<boolean> {
  return pathExists(path.join(dir, RUN_FILES.manifest));
}

/** The manifest of the run in `dir` (rejects when there is none). */
export async function readManifest(dir: string): Promise<Workflow> {
  return yamlModule().parse(await fs.readFile(path.join(dir, RUN_FILES.manifest), "utf8")) as Workflow;
}

/** The engine recorded in `engine.pid` of the run in `dir` (pid, start time, boot id), or undefined when there is none. */
export async function enginePid(dir: string): Promise<ProcessIdentity | undefined> {
  return (await engineIdentity(dir)) ?? undefined;
}

/** How the engine of the run in `dir` takes requests of other processes (the control file), if it does. */
export async function controlOf(dir: string): Promise<string | undefined> {
  const control = (await fs.readFile(path.join(dir, RUN_FILES.control), "utf8").catch(() => "")).trim();
  return control || undefined;
}

/** Asks the engine of the run in `dir` to `stop` or `terminate` (then send it {@link CONTROL_SIGNAL}). */
export async function requestOfEngine(dir: string, action: "stop" | "terminate"): Promise<void> {
  await atomicWrite(path.join(dir, RUN_FILES.request), action);
}

/** Reads back a whole tree as an Argo `WorkflowStatus` (for `opflow status`). */
export async function readRunStatus(dir: string): Promise<{ status: WorkflowStatus; engineAlive: boolean | undefined }> {
  const abs = path.resolve(dir);
  let status: WorkflowStatus = {};
  try {
    const text = await fs.readFile(path.join(abs, RUN_FILES.workflowStatus), "utf8");
    status = JSON.parse(text) as WorkflowStatus;
    if (mentionsStoredValue(text)) status = new ValueReader(abs).resolveStatus(status);
  } catch {
    /* a run killed before its first snapshot */
  }
  try {
    status.phase = (await fs.readFile(path.join(abs, RUN_FILES.status), "utf8")).trim() as WorkflowPhase;
  } catch {
    /* keep the snapshot's phase */
  }
  const tree = new StateTree(path.dirname(abs), path.basename(abs));
  const stored = await tree.load();
  const nodes: Record<string, NodeStatus> = { ...(status.nodes ?? {}) };
  for (const [id, s] of stored) {
    const prev = nodes[id];
    // A node's own record is newer than the snapshot unless the snapshot saw it fulfilled.
    if (!prev || prev.phase === "Running" || prev.phase === "Pending") nodes[id] = { ...prev, ...s.node };
  }
  status.nodes = nodes;
  const engine = await engineIdentity(abs);
  // Alive only when the recorded engine is still that process (not a process that got its pid).
  const engineAlive = engine === null ? undefined : engine !== undefined && isSameProcess(engine);
  return { status, engineAlive };
}

/** The identity recorded in a run's `engine.pid`: null when there is none, undefined when it holds no pid. */
export async function engineIdentity(dir: string): Promise<ProcessIdentity | undefined | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, RUN_FILES.enginePid), "utf8");
  } catch {
    return null;
  }
  return parseIdentity(text);
}
