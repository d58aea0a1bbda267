/**
 * Plain-text views of a cluster workflow, in the spirit of `argo get` and `argo list`: a
 * summary, and the step tree as a table (STEP, TEMPLATE, PODNAME, DURATION, MESSAGE).
 * Used by `get` and `watch` until the shared status view (`status-view.ts`) lands.
 */
import type { NodePhase, NodeStatus, Workflow } from "../argo/model.ts";
import { podNameOf } from "../argo/pod-name.ts";
import { globalOutputs, workflowPhase } from "../argo/query.ts";
import { humanDuration, table } from "./cluster-options.ts";

const SYMBOL: Record<NodePhase, string> = {
  Succeeded: "✔",
  Failed: "✖",
  Error: "⚠",
  Running: "●",
  Pending: "◷",
  Skipped: "○",
  Omitted: "○",
};

/** The summary lines of `argo get`. */
export function workflowSummary(wf: Workflow, now: number = Date.now()): string {
  const s = wf.status ?? {};
  const rows: [string, string][] = [
    ["Name:", wf.metadata.name ?? ""],
    ["Namespace:", wf.metadata.namespace ?? ""],
    ["Status:", workflowPhase(wf) + (wf.spec.suspend ? " (Suspended)" : "") + (wf.spec.shutdown ? ` (${wf.spec.shutdown})` : "")],
  ];
  if (s.message) rows.push(["Message:", s.message]);
  if (wf.metadata.creationTimestamp) rows.push(["Created:", wf.metadata.creationTimestamp]);
  if (s.startedAt) rows.push(["Started:", s.startedAt]);
  if (s.finishedAt) rows.push(["Finished:", s.finishedAt]);
  if (s.startedAt) rows.push(["Duration:", humanDuration(s.startedAt, s.finishedAt, now)]);
  if (s.progress) rows.push(["Progress:", s.progress]);
  const params = wf.spec.arguments?.parameters ?? [];
  const lines = rows.map(([k, v]) => `${k.padEnd(14)}${v}`);
  if (params.length > 0) {
    lines.push("Parameters:");
    for (const p of params) lines.push(`  ${p.name}: ${p.value ?? p.default ?? ""}`);
  }
  const outputs = globalOutputs(wf);
  const outNames = Object.keys(outputs.parameters);
  if (outNames.length > 0) {
    lines.push("Outputs:");
    for (const n of outNames) lines.push(`  ${n}: ${outputs.parameters[n]}`);
  }
  return lines.join("\n");
}

/** The step tree of `argo get` as a table. */
export function stepTree(wf: Workflow, now: number = Date.now()): string {
  const nodes = wf.status?.nodes ?? {};
  const all = Object.values(nodes);
  if (all.length === 0) return "";
  const childIds = new Set(all.flatMap((n) => n.children ?? []));
  const roots = all.filter((n) => !childIds.has(n.id) && !n.boundaryID);
  const rows: string[][] = [];
  const visibleChildren = (n: NodeStatus): NodeStatus[] => {
    const out: NodeStatus[] = [];
    for (const id of n.children ?? []) {
      const c = nodes[id];
      if (!c) continue;
      if (c.type === "StepGroup") out.push(...visibleChildren(c));
      else out.push(c);
    }
    return out;
  };
  const visit = (n: NodeStatus, prefix: string, connector: string): void => {
    const pod = n.type === "Pod" ? podNameOf(wf, n) : "";
    rows.push([
      `${prefix}${connector}${SYMBOL[n.phase] ?? "?"} ${n.displayName}`,
      n.templateName ?? "",
      pod,
      n.type === "Pod" ? humanDuration(n.startedAt, n.finishedAt, now) : "",
      n.message ?? "",
    ]);
    const kids = visibleChildren(n);
    const childPrefix = prefix + (connector === "├─" ? "│ " : connector === "└─" ? "  " : "");
    kids.forEach((c, i) => visit(c, childPrefix, i === kids.length - 1 ? "└─" : "├─"));
  };
  for (const r of roots) visit(r, " ", "");
  return table(["STEP", "TEMPLATE", "PODNAME", "DURATION", "MESSAGE"], rows);
}

/** `argo get` output: summary, blank line, step tree. */
export function workflowView(wf: Workflow, now: number = Date.now()): string {
  const tree = stepTree(wf, now);
  return tree ? `${workflowSummary(wf, now)}\n\n${tree}` : workflowSummary(wf, now);
}

/** `argo list` table. */
export function workflowList(items: readonly Workflow[], now: number = Date.now()): string {
  const rows = items.map((wf) => {
    const s = wf.status ?? {};
    const created = wf.metadata.creationTimestamp;
    return [
      wf.metadata.name ?? "",
      workflowPhase(wf) + (wf.spec.suspend ? " (Suspended)" : ""),
      created ? humanDuration(created, undefined, now) : "",
      humanDuration(s.startedAt, s.finishedAt, now),
      s.progress ?? "",
      s.message ?? "",
    ];
  });
  return table(["NAME", "STATUS", "AGE", "DURATION", "PROGRESS", "MESSAGE"], rows);
}
