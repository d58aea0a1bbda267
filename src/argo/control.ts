/**
 * What Argo's control actions do to a Workflow object, for the Kubernetes back-end (which has
 * no Argo Server to do it): resume, retry and resubmit as object transformations, and the
 * list filter. Argo Server performs the same actions itself.
 */
import type { NodeStatus, Workflow, WorkflowPhase } from "./model.ts";
import type { WorkflowListFilter } from "./client.ts";
import { SubmitError } from "../errors.ts";

/** Label the Argo controller keeps equal to the workflow's phase. */
export const PHASE_LABEL = "workflows.argoproj.io/phase";
/** Label the Argo controller sets to "true" once a workflow is done. */
export const COMPLETED_LABEL = "workflows.argoproj.io/completed";
/** Label Argo puts on a resubmitted workflow, naming the original. */
export const RESUBMITTED_FROM_LABEL = "workflows.argoproj.io/resubmitted-from-workflow";

/** Whether a workflow phase is final. */
export function isCompletedPhase(phase: WorkflowPhase | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed" || phase === "Error";
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * The label selector string for a filter, or undefined: the labels, plus the controller's
 * phase label when only started phases are asked for (a workflow the controller has not
 * picked up yet has no phase label, so `Pending` is filtered on the client only).
 */
export function labelSelector(filter: WorkflowListFilter = {}): string | undefined {
  const parts: string[] = [];
  if (typeof filter.labels === "string") {
    if (filter.labels.trim()) parts.push(filter.labels.trim());
  } else if (filter.labels) {
    for (const [k, v] of Object.entries(filter.labels)) parts.push(`${k}=${v}`);
  }
  const phases = filter.phases ?? [];
  if (phases.length > 0 && !phases.includes("Pending") && !phases.includes("")) {
    parts.push(`${PHASE_LABEL} in (${[...new Set(phases)].join(",")})`);
  }
  return parts.length > 0 ? parts.join(",") : undefined;
}

/**
 * Whether `labels` satisfy a Kubernetes label selector (string or equality map), as the API
 * server matches the selector {@link labelSelector} makes: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`.
 */
export function matchesLabelSelector(labels: Readonly<Record<string, string>>, selector: WorkflowListFilter["labels"]): boolean {
  if (selector === undefined) return true;
  if (typeof selector !== "string") return Object.entries(selector).every(([k, v]) => labels[k] === v);
  // Split on commas outside parentheses (`k in (a,b)`).
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .every((p) => {
      let m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(p);
      if (m) {
        const v = labels[m[1] as string];
        return m[2] === "!=" ? v !== m[3] : v === m[3];
      }
      m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(p);
      if (m) {
        const values = (m[3] as string).split(",").map((s) => s.trim());
        const v = labels[m[1] as string];
        const inSet = v !== undefined && values.includes(v);
        return m[2] === "in" ? inSet : !inSet;
      }
      if (p.startsWith("!")) return labels[p.slice(1).trim()] === undefined;
      if (/^\S+$/.test(p)) return labels[p] !== undefined;
      throw new SubmitError(`local engine: label selector ${JSON.stringify(selector)}: cannot parse ${JSON.stringify(p)}`);
    });
}

/** Applies the parts of a filter a server cannot (name prefix, phase), and sorts newest first. */
export function filterWorkflows(items: readonly Workflow[], filter: WorkflowListFilter = {}): Workflow[] {
  const phases = filter.phases && filter.phases.length > 0 ? new Set<string>(filter.phases) : undefined;
  return items
    .filter((wf) => !filter.namePrefix || (wf.metadata.name ?? "").startsWith(filter.namePrefix))
    .filter((wf) => {
      if (!phases) return true;
      const phase = wf.status?.phase ?? "";
      return phases.has(phase) || (phase === "" && phases.has("Pending"));
    })
    .sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
}

const SELECTOR_FIELDS = ["displayName", "name", "id", "templateName", "phase", "type", "templateRef.name", "templateRef.template", "inputs.parameters.<name>.value"];

function nodeField(n: NodeStatus, field: string): string | undefined {
  switch (field) {
    case "displayName":
    case "name":
    case "id":
    case "templateName":
    case "phase":
    case "type":
      return n[field];
    case "templateRef.name":
      return n.templateRef?.name;
    case "templateRef.template":
      return n.templateRef?.template;
  }
  const p = /^inputs\.parameters\.(.+)\.value$/.exec(field);
  if (p) return n.inputs?.parameters?.find((x) => x.name === p[1])?.value;
  throw new SubmitError(`node field selector: unknown field ${JSON.stringify(field)}; fields are ${SELECTOR_FIELDS.join(", ")}`);
}

/**
 * A node field selector as Argo reads it (`argo retry --node-field-selector`): terms
 * `field=value`, `field==value` or `field!=value`, joined by commas, all of which must hold.
 *
 * @example
 * const match = nodeFieldSelector("templateName=train,phase=Succeeded");
 * match(node); // true for Succeeded nodes of template "train"
 */
export function nodeFieldSelector(selector: string): (node: NodeStatus) => boolean {
  const terms = selector
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
    .map((term) => {
      const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
      if (!m) throw new SubmitError(`node field selector ${JSON.stringify(selector)}: term ${JSON.stringify(term)} is not field=value or field!=value`);
      const [, field = "", op, value = ""] = m;
      nodeField({ id: "", name: "", displayName: "", type: "Pod", phase: "Succeeded" }, field);
      return { field, equal: op !== "!=", value };
    });
  if (terms.length === 0) throw new SubmitError(`node field selector ${JSON.stringify(selector)} is empty`);
  return (node) => terms.every((t) => (nodeField(node, t.field) === t.value) === t.equal);
}

/**
 * Retry as Argo does, in outline: a Failed or Error workflow goes back to Running; failed leaf
 * nodes are removed so the controller runs them again; their failed ancestors are reset to
 * Running. Succeeded nodes are kept (and reused), unless `restartSuccessful` with a
 * {@link nodeFieldSelector} names them.
 */
export function retriedWorkflow(wf: Workflow, options: { restartSuccessful?: boolean; nodeFieldSelector?: string } = {}): Workflow {
  return retryPlan(wf, options).workflow;
}

/** What a retry changes: the new object, and the Pod nodes whose pods must be deleted first. */
export interface RetryPlan {
  readonly workflow: Workflow;
  /** Removed Pod nodes: their pods must go, or the controller would adopt the failed pods again. */
  readonly removedPods: readonly NodeStatus[];
}

/**
 * `ids` and every node that contains one of them: its parent by `children` links, and so on up.
 * A node no `children` list names is taken to sit under its `boundaryID` (a journal may hold a
 * parent's record from before it linked a child).
 */
export function containers(nodes: Iterable<NodeStatus>, ids: Iterable<string>): Set<string> {
  const byId = new Map<string, NodeStatus>();
  const parent = new Map<string, string>();
  for (const n of nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const out = new Set<string>();
  for (const start of ids) {
    for (let id: string | undefined = start; id !== undefined && !out.has(id); id = parent.get(id) ?? byId.get(id)?.boundaryID) out.add(id);
  }
  return out;
}

/** The {@link RetryPlan} of {@link retriedWorkflow}. */
export function retryPlan(wf: Workflow, options: { restartSuccessful?: boolean; nodeFieldSelector?: string } = {}): RetryPlan {
  const phase = wf.status?.phase;
  if (phase !== "Failed" && phase !== "Error") {
    throw new SubmitError(`workflow "${wf.metadata.name}": only a Failed or Error workflow can be retried; its phase is ${phase || "Pending"}`);
  }
  const out = clone(wf);
  const status = out.status ?? {};
  const nodes: Record<string, NodeStatus> = status.nodes ?? {};
  const restart = new Set<string>();
  const selector = options.restartSuccessful && options.nodeFieldSelector ? nodeFieldSelector(options.nodeFieldSelector) : undefined;
  for (const n of Object.values(nodes)) {
    const failed = n.phase === "Failed" || n.phase === "Error";
    const leaf = !n.children || n.children.length === 0;
    if ((failed && leaf) || (selector && n.phase === "Succeeded" && leaf && selector(n))) restart.add(n.id);
  }
  // Restarted nodes are leaves: whatever else contains them is an ancestor to reset.
  const reset = containers(Object.values(nodes), restart);
  for (const id of restart) reset.delete(id);
  const removedPods = [...restart].map((id) => nodes[id]).filter((n): n is NodeStatus => n !== undefined && n.type === "Pod");
  for (const id of restart) delete nodes[id];
  for (const n of Object.values(nodes)) {
    if (n.children) n.children = n.children.filter((c) => !restart.has(c));
    if (reset.has(n.id)) {
      n.phase = "Running";
      delete n.finishedAt;
      delete n.message;
    }
  }
  status.phase = "Running";
  delete status.finishedAt;
  delete status.message;
  status.nodes = nodes;
  out.status = status;
  delete out.spec.shutdown;
  out.metadata.labels = { ...(out.metadata.labels ?? {}), [COMPLETED_LABEL]: "false", [PHASE_LABEL]: "Running" };
  return { workflow: out, removedPods };
}

/** Resubmit as Argo does: a new workflow with the same spec and `generateName: <name>-`. */
export function resubmittedWorkflow(wf: Workflow): Workflow {
  const name = wf.metadata.name ?? "workflow";
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(wf.metadata.labels ?? {})) if (!k.startsWith("workflows.argoproj.io/")) labels[k] = v;
  labels[RESUBMITTED_FROM_LABEL] = name;
  const spec = clone(wf.spec);
  delete spec.shutdown;
  delete spec.suspend;
  const annotations = wf.metadata.annotations ? { ...wf.metadata.annotations } : undefined;
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { generateName: `${name}-`, labels, ...(annotations ? { annotations } : {}) },
    spec,
  };
}
