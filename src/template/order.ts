/** Key order of rendered Argo objects: stable and readable (name first), applied once per object. */
import type { DAGTask, Template as ArgoTemplate } from "../argo/model.ts";

const FIELD_ORDER = [
  "name",
  "inputs",
  "outputs",
  "metadata",
  "steps",
  "dag",
  "container",
  "script",
  "suspend",
  "resource",
];

/** Puts template fields in a stable, readable order (name first). */
export function orderTemplate(t: ArgoTemplate): ArgoTemplate {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if ((t as unknown as Record<string, unknown>)[k] !== undefined) out[k] = (t as unknown as Record<string, unknown>)[k];
  for (const [k, v] of Object.entries(t)) if (!(k in out) && v !== undefined) out[k] = v;
  return out as unknown as ArgoTemplate;
}

const TASK_FIELD_ORDER = ["name", "template", "depends", "arguments", "when", "withParam", "withItems", "withSequence", "continueOn", "onExit"];

/** Puts DAG task fields in a stable, readable order (name first). */
export function orderTask(t: DAGTask): DAGTask {
  const out: Record<string, unknown> = {};
  for (const k of TASK_FIELD_ORDER) if ((t as unknown as Record<string, unknown>)[k] !== undefined) out[k] = (t as unknown as Record<string, unknown>)[k];
  for (const [k, v] of Object.entries(t)) if (!(k in out)) out[k] = v;
  return out as unknown as DAGTask;
}
