/**
 * Suspend nodes waiting for a person, as Argo treats them (workflow/util/util.go
 * `ResumeWorkflow`, `updateSuspendedNode`, `OverrideOutputParametersWithDefault`; operator.go
 * `addRawOutputFields`): which nodes are active, the `supplied` outputs they expect, and what
 * `argo resume [--node-field-selector …]` and `argo node set` change. Pure functions over node
 * statuses, shared by the Kubernetes client and the local engine.
 */
import { SubmitError } from "../errors.ts";
import { nodeFieldSelector } from "./control.ts";
import type { NodeSetOptions } from "./client.ts";
import type { NodePhase, NodeStatus, Outputs, Parameter, Template, Workflow } from "./model.ts";

export type { NodeSetOptions };

/** Phases `node set` may give a suspend node. */
const SETTABLE_PHASES: readonly NodePhase[] = ["Running", "Succeeded", "Failed", "Error"];

/** Whether a node is a suspend node still waiting (Argo's `IsActiveSuspendNode`). */
export function isActiveSuspendNode(node: NodeStatus): boolean {
  return node.type === "Suspend" && node.phase === "Running";
}

/**
 * The outputs a suspend node starts with: the template's `valueFrom.supplied` output
 * parameters, each defaulting to the input of the same name's default when it has none of its
 * own (operator.go `addRawOutputFields`). Undefined when there are none.
 */
export function suppliedOutputs(tmpl: Template): Outputs | undefined {
  const params: Parameter[] = [];
  for (const p of tmpl.outputs?.parameters ?? []) {
    if (!p.valueFrom?.supplied) continue;
    const inputDefault = tmpl.inputs?.parameters?.find((i) => i.name === p.name)?.default;
    params.push(p.valueFrom.default === undefined && inputDefault !== undefined ? { ...p, valueFrom: { ...p.valueFrom, default: inputDefault } } : structuredClone(p));
  }
  return params.length > 0 ? { parameters: params } : undefined;
}

/** The message of a supplied output that has no value when its node resumes (Argo's, word for word). */
export function unsetOutputMessage(name: string): string {
  return `raw output parameter '${name}' has not been set and does not have a default value`;
}

/**
 * Gives every supplied output that was not set its default (Argo's
 * `OverrideOutputParametersWithDefault`, used by a resume without selector and by a suspend
 * whose duration ran out). Throws naming the first one without a default.
 */
export function outputsWithDefaults(outputs: Outputs | undefined): Outputs | undefined {
  if (!outputs?.parameters) return outputs;
  const parameters = outputs.parameters.map((p) => {
    if (!p.valueFrom?.supplied) return p;
    if (p.valueFrom.default === undefined) throw new SubmitError(unsetOutputMessage(p.name));
    const { valueFrom: _, ...rest } = p;
    return { ...rest, value: p.valueFrom.default };
  });
  return { ...outputs, parameters };
}

/** The changed copy of one node; the caller writes it back. */
export interface SuspendNodeChange {
  readonly before: NodeStatus;
  readonly after: NodeStatus;
}

/**
 * `argo node set`: the active suspend nodes `options.nodeFieldSelector` matches, changed
 * (outputs set, message, phase). Nothing is changed unless every change applies; errors carry
 * Argo's messages — a selector that matches no active suspend node, an output the node does
 * not expect or that is not `supplied` (or already set).
 */
export function setSuspendNodes(nodes: Iterable<NodeStatus>, options: NodeSetOptions, now: string = new Date().toISOString()): SuspendNodeChange[] {
  const match = nodeFieldSelector(options.nodeFieldSelector);
  if (options.phase !== undefined && !SETTABLE_PHASES.includes(options.phase)) {
    throw new SubmitError(`node set: phase must be one of ${SETTABLE_PHASES.join(", ")}, got ${JSON.stringify(options.phase)}`);
  }
  const changes: SuspendNodeChange[] = [];
  for (const node of nodes) {
    if (!isActiveSuspendNode(node) || !match(node)) continue;
    const after: NodeStatus = structuredClone(node);
    let updated = false;
    if (options.phase !== undefined) {
      after.phase = options.phase;
      if (options.phase !== "Running") after.finishedAt = now;
      updated = true;
    }
    if (options.message) {
      after.message = options.message;
      updated = true;
    }
    const values = Object.entries(options.outputParameters ?? {});
    if (values.length > 0) {
      const params = after.outputs?.parameters;
      if (!params) throw new SubmitError(`node "${node.displayName}": cannot set output parameters because node is not expecting any raw parameters`);
      for (const [name, value] of values) {
        const i = params.findIndex((p) => p.name === name);
        const p = params[i];
        if (!p) throw new SubmitError(`node "${node.displayName}": node is not expecting output parameter '${name}' (it expects ${params.map((x) => `'${x.name}'`).join(", ")})`);
        if (!p.valueFrom?.supplied) throw new SubmitError(`node "${node.displayName}": cannot set output parameter '${name}' because it does not use valueFrom.supplied or it was already set`);
        const { valueFrom: _, ...rest } = p;
        params[i] = { ...rest, value };
      }
      updated = true;
    }
    if (updated) changes.push({ before: node, after });
  }
  if (changes.length === 0) {
    throw new SubmitError(`node field selector ${JSON.stringify(options.nodeFieldSelector)}: no suspend node waiting to be resumed matches it (set and resume target only Suspend nodes in phase Running)`);
  }
  return changes;
}

/**
 * `argo resume`: without a selector every active suspend node ends Succeeded, its supplied
 * outputs that were not set taking their defaults (a resume fails, changing nothing, when one
 * has none); with one, the nodes it matches end Succeeded as they are (Argo's
 * `updateSuspendedNode`: an output left unset then fails the step that reads it).
 */
export function resumeSuspendNodes(nodes: Iterable<NodeStatus>, selector?: string, now: string = new Date().toISOString()): SuspendNodeChange[] {
  if (selector) return setSuspendNodes(nodes, { nodeFieldSelector: selector, phase: "Succeeded" }, now);
  const changes: SuspendNodeChange[] = [];
  for (const node of nodes) {
    if (!isActiveSuspendNode(node)) continue;
    const after: NodeStatus = structuredClone(node);
    let outputs: Outputs | undefined;
    try {
      outputs = outputsWithDefaults(after.outputs);
    } catch (err) {
      throw new SubmitError(`node "${node.displayName}": ${(err as Error).message}; set it first (node set --output-parameter NAME=VALUE --node-field-selector displayName=${node.displayName})`);
    }
    if (outputs) after.outputs = outputs;
    after.phase = "Succeeded";
    after.finishedAt = now;
    changes.push({ before: node, after });
  }
  return changes;
}

/** Writes changed nodes into a copy of `wf`, publishing set outputs with a `globalName` (Argo's `AddParamToGlobalScope`). */
function withChanges(wf: Workflow, changes: readonly SuspendNodeChange[]): Workflow {
  const out = structuredClone(wf);
  const nodes = (out.status ??= {}).nodes ?? (out.status.nodes = {});
  for (const { after } of changes) {
    nodes[after.id] = after;
    for (const p of after.outputs?.parameters ?? []) {
      if (!p.globalName || p.value === undefined) continue;
      const globals = ((out.status.outputs ??= {}).parameters ??= []);
      const known = globals.find((g) => g.name === p.globalName);
      if (known) known.value = p.value;
      else globals.push({ name: p.globalName, value: p.value });
    }
  }
  return out;
}

/**
 * Resume as Argo does (`argo resume [--node-field-selector …]`): `spec.suspend` cleared and the
 * suspend nodes waiting (all, or those the selector matches) Succeeded (see
 * {@link resumeSuspendNodes}); throws as Argo refuses.
 */
export function resumedWorkflow(wf: Workflow, selector?: string, now: string = new Date().toISOString()): Workflow {
  const changes = resumeSuspendNodes(Object.values(wf.status?.nodes ?? {}), selector, now);
  const out = withChanges(wf, changes);
  if (!selector) delete out.spec.suspend;
  return out;
}

/** `argo node set`: the workflow with its matching suspend nodes changed (see {@link setSuspendNodes}). */
export function setWorkflowNodes(wf: Workflow, options: NodeSetOptions, now: string = new Date().toISOString()): Workflow {
  return withChanges(wf, setSuspendNodes(Object.values(wf.status?.nodes ?? {}), options, now));
}
