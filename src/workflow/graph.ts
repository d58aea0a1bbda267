/**
 * The shape of a workflow as a graph, read from its manifest (so it works for any Argo
 * workflow, authored here or not): one node per template and per step or task of a Steps or
 * DAG template, with edges for the order of step groups, DAG dependencies, and which template
 * each step calls. Rendered as JSON, Mermaid or Graphviz DOT text for docs.
 */
import { dependsTasks } from "../expr/depends.ts";
import type { Template, Workflow } from "../argo/model.ts";

/** What a graph node stands for. */
export type GraphNodeKind = "steps" | "dag" | "container" | "script" | "resource" | "suspend" | "http" | "other" | "step" | "task";

/** A node: a template (`id` = its name) or a step or task inside one (`id` = `<template>/<name>`). */
export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly kind: GraphNodeKind;
  /** For steps and tasks: the template they belong to. */
  readonly parent?: string;
  /** For steps and tasks: the template they call. */
  readonly calls?: string;
  /** For steps and tasks: their loop (`withParam`, `withItems`, `withSequence`) or condition (`when`), shortly. */
  readonly note?: string;
}

/** An edge: `then` (a later step group, a DAG dependency) or `calls` (a step or task to its template). */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: "then" | "calls";
}

/** A workflow as nodes and edges. */
export interface WorkflowGraph {
  readonly entrypoint: string | undefined;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

function kindOf(t: Template): GraphNodeKind {
  if (t.steps) return "steps";
  if (t.dag) return "dag";
  if (t.container) return "container";
  if (t.script) return "script";
  if (t.resource) return "resource";
  if (t.suspend) return "suspend";
  if (t.http) return "http";
  return "other";
}

function noteOf(s: { withParam?: string; withItems?: unknown[]; withSequence?: unknown; when?: string }): string | undefined {
  const parts: string[] = [];
  if (s.withParam !== undefined) parts.push("withParam");
  if (s.withItems !== undefined) parts.push(`withItems (${s.withItems.length})`);
  if (s.withSequence !== undefined) parts.push("withSequence");
  if (s.when !== undefined) parts.push("when");
  return parts.length ? parts.join(", ") : undefined;
}

/**
 * The graph of a manifest.
 *
 * @example
 * const g = manifestGraph(workflow.compile());
 * console.log(graphToMermaid(g));
 */
export function manifestGraph(manifest: Workflow): WorkflowGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const templates = manifest.spec.templates ?? [];
  for (const t of templates) nodes.push({ id: t.name, label: t.name, kind: kindOf(t) });
  const add = (t: Template, kind: "step" | "task", name: string, calls: string | undefined, note: string | undefined): string => {
    const id = `${t.name}/${name}`;
    nodes.push({ id, label: name, kind, parent: t.name, ...(calls ? { calls } : {}), ...(note ? { note } : {}) });
    if (calls) edges.push({ from: id, to: calls, kind: "calls" });
    return id;
  };
  for (const t of templates) {
    if (t.steps) {
      let previous: string[] = [];
      for (const group of t.steps) {
        const ids = group.map((s) => add(t, "step", s.name, s.template, noteOf(s)));
        for (const p of previous) for (const id of ids) edges.push({ from: p, to: id, kind: "then" });
        previous = ids;
      }
    }
    if (t.dag) {
      for (const task of t.dag.tasks) {
        const id = add(t, "task", task.name, task.template, noteOf(task));
        const deps = task.depends !== undefined ? dependsTasks(task.depends) : (task.dependencies ?? []);
        for (const d of new Set(deps)) edges.push({ from: `${t.name}/${d}`, to: id, kind: "then" });
      }
    }
  }
  return { entrypoint: manifest.spec.entrypoint, nodes, edges };
}

const safeId = (id: string): string => `n_${id.replace(/[^A-Za-z0-9_]/g, (c) => `_${c.charCodeAt(0).toString(16)}_`)}`;
const mermaidText = (s: string): string => s.replace(/"/g, "#quot;");
const dotText = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

/**
 * Mermaid flowchart text: each Steps or DAG template a subgraph of its steps or tasks; dashed
 * arrows from a step to the graph template it calls.
 */
export function graphToMermaid(graph: WorkflowGraph): string {
  const lines = ["flowchart TD"];
  const graphTemplates = graph.nodes.filter((n) => n.kind === "steps" || n.kind === "dag");
  for (const g of graphTemplates) {
    lines.push(`  subgraph ${safeId(g.id)}["${mermaidText(`${g.label} (${g.kind})`)}"]`);
    for (const n of graph.nodes.filter((x) => x.parent === g.id)) {
      const text = `${n.label}${n.calls && n.calls !== n.label ? ` → ${n.calls}` : ""}${n.note ? ` [${n.note}]` : ""}`;
      lines.push(`    ${safeId(n.id)}["${mermaidText(text)}"]`);
    }
    lines.push("  end");
  }
  const graphIds = new Set(graphTemplates.map((g) => g.id));
  for (const e of graph.edges) {
    if (e.kind === "then") lines.push(`  ${safeId(e.from)} --> ${safeId(e.to)}`);
    else if (graphIds.has(e.to)) lines.push(`  ${safeId(e.from)} -.-> ${safeId(e.to)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Graphviz DOT text, laid out as {@link graphToMermaid} (clusters for Steps and DAG templates). */
export function graphToDot(graph: WorkflowGraph): string {
  const lines = ["digraph workflow {", "  rankdir=TB;", "  node [shape=box];"];
  const graphTemplates = graph.nodes.filter((n) => n.kind === "steps" || n.kind === "dag");
  for (const g of graphTemplates) {
    lines.push(`  subgraph cluster_${safeId(g.id)} {`, `    label="${dotText(`${g.label} (${g.kind})`)}";`, `    ${safeId(g.id)} [shape=point, style=invis];`);
    for (const n of graph.nodes.filter((x) => x.parent === g.id)) {
      const text = `${n.label}${n.calls && n.calls !== n.label ? ` → ${n.calls}` : ""}${n.note ? ` [${n.note}]` : ""}`;
      lines.push(`    ${safeId(n.id)} [label="${dotText(text)}"];`);
    }
    lines.push("  }");
  }
  const graphIds = new Set(graphTemplates.map((g) => g.id));
  for (const e of graph.edges) {
    if (e.kind === "then") lines.push(`  ${safeId(e.from)} -> ${safeId(e.to)};`);
    else if (graphIds.has(e.to)) lines.push(`  ${safeId(e.from)} -> ${safeId(e.to)} [style=dashed, lhead=cluster_${safeId(e.to)}];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
