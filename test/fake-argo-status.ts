/**
 * Builds `status` objects shaped like the Argo controller's for a submitted manifest, so tests
 * can drive a workflow Pending → Running → Succeeded (or Failed) on the fake API server.
 *
 * Nodes follow Argo's naming: the root node is named (and identified) by the workflow name; a
 * steps template has StepGroup children `<parent>[i]` whose children are `<parent>[i].<step>`;
 * a DAG template's tasks are `<parent>.<task>`; loop items are `<step>(i:item)`; a step with a
 * retryStrategy is a Retry node with an attempt `<step>(0)`. Node ids are
 * `<workflow>-<argoNameHash(node name)>`; Pod nodes get outputs from their template's declared
 * outputs, and a log line per pod.
 */
import type { Artifact, NodePhase, NodeStatus, NodeType, Parameter, Template, Workflow, WorkflowStatus, WorkflowStep } from "../src/argo/model.ts";
import { argoNodeId, podNameOf } from "../src/argo/pod-name.ts";

/** The phase to drive a workflow to. */
export type DrivePhase = "Pending" | "Running" | "Succeeded" | "Failed";

interface Built {
  nodes: Record<string, NodeStatus>;
  leaves: NodeStatus[];
}

function itemLabel(item: unknown): string {
  return typeof item === "object" ? JSON.stringify(item) : String(item);
}

function expand(step: WorkflowStep): { displayName: string; item?: unknown }[] {
  if (step.withItems) return step.withItems.map((item, i) => ({ displayName: `${step.name}(${i}:${itemLabel(item)})`, item }));
  if (step.withParam) return [1, 2].map((item, i) => ({ displayName: `${step.name}(${i}:${item})`, item }));
  if (step.withSequence) return [0, 1].map((item, i) => ({ displayName: `${step.name}(${i}:${item})`, item }));
  return [{ displayName: step.name }];
}

/**
 * The node tree of `wf` (all Pending, no times). Leaves are Pod/Suspend nodes in execution
 * order.
 */
export function buildNodes(wf: Workflow): Built {
  const wfName = wf.metadata.name as string;
  const templates = new Map((wf.spec.templates ?? []).map((t) => [t.name, t]));
  const nodes: Record<string, NodeStatus> = {};
  const leaves: NodeStatus[] = [];

  const add = (name: string, displayName: string, type: NodeType, templateName: string | undefined, boundaryID: string | undefined): NodeStatus => {
    const node: NodeStatus = {
      id: argoNodeId(wfName, name),
      name,
      displayName,
      type,
      phase: "Pending",
      ...(templateName ? { templateName, templateScope: `local/${wfName}` } : {}),
      ...(boundaryID ? { boundaryID } : {}),
    };
    nodes[node.id] = node;
    return node;
  };
  const child = (parent: NodeStatus, c: NodeStatus): void => {
    parent.children = [...(parent.children ?? []), c.id];
  };

  const stack: string[] = [];
  const visit = (name: string, displayName: string, t: Template | undefined, boundary: string | undefined, step?: WorkflowStep, item?: unknown): NodeStatus => {
    if (!t) return add(name, displayName, "Skipped", undefined, boundary);
    // Recursion (a template calling itself, guarded by `when`): expand one level, then skip.
    if (stack.filter((n) => n === t.name).length >= 2) {
      const skipped = add(name, displayName, "Skipped", t.name, boundary);
      skipped.phase = "Skipped";
      skipped.message = "when evaluated false";
      return skipped;
    }
    stack.push(t.name);
    try {
      return visitTemplate(name, displayName, t, boundary, step, item);
    } finally {
      stack.pop();
    }
  };

  const visitTemplate = (name: string, displayName: string, t: Template, boundary: string | undefined, step?: WorkflowStep, item?: unknown): NodeStatus => {
    if (t.steps) {
      const node = add(name, displayName, "Steps", t.name, boundary);
      t.steps.forEach((group, i) => {
        const g = add(`${name}[${i}]`, `[${i}]`, "StepGroup", t.name, node.id);
        child(node, g);
        for (const s of group) {
          for (const e of expand(s)) {
            const c = visit(`${name}[${i}].${e.displayName}`, e.displayName, templates.get(s.template ?? ""), node.id, s, e.item);
            child(g, c);
          }
        }
      });
      return node;
    }
    if (t.dag) {
      const node = add(name, displayName, "DAG", t.name, boundary);
      for (const task of t.dag.tasks) {
        const items = expand(task);
        if (items.length === 1 && items[0]?.displayName === task.name) {
          child(node, visit(`${name}.${task.name}`, task.name, templates.get(task.template ?? ""), node.id, task));
        } else {
          const group = add(`${name}.${task.name}`, task.name, "TaskGroup", task.template, node.id);
          child(node, group);
          for (const e of items) child(group, visit(`${name}.${e.displayName}`, e.displayName, templates.get(task.template ?? ""), node.id, task, e.item));
        }
      }
      return node;
    }
    if (t.suspend) {
      const node = add(name, displayName, "Suspend", t.name, boundary);
      leaves.push(node);
      return node;
    }
    // Inputs as Argo records them: the step's arguments over the template's defaults (tags
    // are left unresolved; `{{item}}` becomes the loop item).
    const inputs = (): NodeStatus["inputs"] => {
      const params: Parameter[] = (t.inputs?.parameters ?? []).map((p) => {
        const arg = step?.arguments?.parameters?.find((a) => a.name === p.name);
        const value = arg?.value ?? p.value ?? p.default;
        return { name: p.name, ...(value !== undefined ? { value: item !== undefined ? value.replace(/\{\{item\}\}/g, itemLabel(item)) : value } : {}) };
      });
      return params.length > 0 ? { parameters: params } : undefined;
    };
    if (t.retryStrategy) {
      const retry = add(name, displayName, "Retry", t.name, boundary);
      const attempt = add(`${name}(0)`, `${displayName}(0)`, "Pod", t.name, boundary);
      const recorded = inputs();
      if (recorded) retry.inputs = attempt.inputs = recorded;
      child(retry, attempt);
      leaves.push(attempt);
      return retry;
    }
    const pod = add(name, displayName, "Pod", t.name, boundary);
    const recorded = inputs();
    if (recorded) pod.inputs = recorded;
    leaves.push(pod);
    return pod;
  };

  const entry = templates.get(wf.spec.entrypoint ?? "");
  visit(wfName, wfName, entry, undefined);
  return { nodes, leaves };
}

function outputsFor(wfName: string, pod: string, t: Template | undefined): NodeStatus["outputs"] {
  if (!t) return undefined;
  const parameters: Parameter[] = (t.outputs?.parameters ?? []).map((p) => ({
    name: p.name,
    value: p.valueFrom?.default ?? `${p.name}-value`,
    ...(p.valueFrom ? { valueFrom: p.valueFrom } : {}),
    ...(p.globalName ? { globalName: p.globalName } : {}),
  }));
  const artifacts: Artifact[] = (t.outputs?.artifacts ?? []).map((a) => ({
    name: a.name,
    ...(a.path ? { path: a.path } : {}),
    s3: { key: `${wfName}/${pod}/${a.name}.tgz` },
    ...(a.globalName ? { globalName: a.globalName } : {}),
  }));
  const out: NonNullable<NodeStatus["outputs"]> = { exitCode: "0" };
  if (parameters.length > 0) out.parameters = parameters;
  if (artifacts.length > 0) out.artifacts = artifacts;
  if (t.script) out.result = `result of ${t.name}`;
  return out;
}

/**
 * An Argo-shaped status of `wf` at `phase`. Running: the first leaf Succeeded, the second
 * Running, the rest Pending. Failed: the last leaf Failed. Also returns the log text of each
 * pod that ran.
 */
export function argoStatus(wf: Workflow, phase: DrivePhase, start = new Date("2026-01-01T00:00:00Z")): { status: WorkflowStatus; logs: Map<string, string> } {
  const wfName = wf.metadata.name as string;
  const templates = new Map((wf.spec.templates ?? []).map((t) => [t.name, t]));
  const { nodes, leaves } = buildNodes(wf);
  const logs = new Map<string, string>();
  const at = (i: number): string => new Date(start.getTime() + i * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  if (phase === "Pending") return { status: { phase: "Pending", startedAt: at(0), progress: `0/${leaves.length}` }, logs };

  const leafPhase = (i: number): NodePhase => {
    if (phase === "Succeeded") return "Succeeded";
    if (phase === "Failed") return i === leaves.length - 1 ? "Failed" : "Succeeded";
    return i === 0 ? "Succeeded" : i === 1 ? "Running" : "Pending";
  };
  leaves.forEach((leaf, i) => {
    leaf.phase = leafPhase(i);
    if (leaf.phase !== "Pending") leaf.startedAt = at(i + 1);
    if (leaf.type === "Pod") leaf.progress = leaf.phase === "Succeeded" ? "1/1" : "0/1";
    if (leaf.phase === "Succeeded" || leaf.phase === "Failed") leaf.finishedAt = at(i + 2);
    const t = templates.get(leaf.templateName ?? "");
    if (leaf.phase === "Succeeded" && leaf.type === "Pod") leaf.outputs = outputsFor(wfName, podNameOf(wf, leaf), t);
    if (leaf.phase === "Failed") {
      leaf.message = "Error (exit code 1)";
      leaf.outputs = { exitCode: "1" };
    }
    if (leaf.type === "Pod" && leaf.phase !== "Pending") {
      logs.set(podNameOf(wf, leaf), `${leaf.displayName}: started\n${leaf.displayName}: ${leaf.phase === "Failed" ? "failed" : "done"}\n`);
    }
  });
  // Parents: phase from children, times, progress.
  const byId = nodes;
  const resolve = (n: NodeStatus): { done: number; total: number } => {
    if (!n.children || n.children.length === 0) {
      const isPod = n.type === "Pod";
      return { done: isPod && n.phase === "Succeeded" ? 1 : 0, total: isPod ? 1 : 0 };
    }
    let done = 0;
    let total = 0;
    const phases: NodePhase[] = [];
    const starts: string[] = [];
    const ends: string[] = [];
    for (const id of n.children) {
      const c = byId[id] as NodeStatus;
      const p = resolve(c);
      done += p.done;
      total += p.total;
      phases.push(c.phase);
      if (c.startedAt) starts.push(c.startedAt);
      if (c.finishedAt) ends.push(c.finishedAt);
    }
    n.phase = phases.includes("Failed")
      ? "Failed"
      : phases.every((p) => p === "Succeeded" || p === "Skipped")
        ? "Succeeded"
        : phases.some((p) => p !== "Pending")
          ? "Running"
          : "Pending";
    if (starts.length > 0) n.startedAt = starts.sort()[0] as string;
    if ((n.phase === "Succeeded" || n.phase === "Failed") && ends.length > 0) n.finishedAt = ends.sort().at(-1) as string;
    n.progress = `${done}/${total}`;
    if (n.type === "Retry") {
      const attempt = byId[n.children[0] as string];
      if (attempt?.outputs) n.outputs = attempt.outputs;
    }
    if (n.phase === "Failed") n.message = "child failed";
    return { done, total };
  };
  const root = byId[wfName] as NodeStatus;
  const totals = resolve(root);
  const status: WorkflowStatus = {
    phase: phase === "Running" ? "Running" : phase,
    startedAt: at(0),
    progress: `${totals.done}/${totals.total}`,
    nodes,
  };
  if (phase === "Succeeded" || phase === "Failed") status.finishedAt = root.finishedAt ?? at(leaves.length + 2);
  if (phase === "Failed") status.message = "child failed";
  // Global outputs.
  const gp: Parameter[] = [];
  const ga: Artifact[] = [];
  for (const n of Object.values(nodes)) {
    for (const p of n.outputs?.parameters ?? []) if (p.globalName) gp.push({ name: p.globalName, value: p.value as string });
    for (const a of n.outputs?.artifacts ?? []) if (a.globalName) ga.push({ name: a.globalName, ...(a.s3 ? { s3: a.s3 } : {}) });
  }
  if (gp.length > 0 || ga.length > 0) status.outputs = { ...(gp.length ? { parameters: gp } : {}), ...(ga.length ? { artifacts: ga } : {}) };
  return { status, logs };
}
