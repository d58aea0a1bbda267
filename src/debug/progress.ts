/**
 * Progress of a local run, as Argo reports it (docs/progress.md): a leaf reports `N/M` (the last
 * line of `$ARGO_PROGRESS_FILE`, or `task.progress()` in-process); a pod without its own report
 * counts `0/1` until it succeeds (`1/1`); a parent sums its leaves.
 */
import type { NodeStatus, WorkflowStatus } from "../argo/model.ts";

/** The last `N/M` line of a progress file, or undefined. */
export function parseProgress(text: string): string | undefined {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\s*(\d+)\/(\d+)\s*$/.exec(lines[i] as string);
    if (m) return `${m[1]}/${m[2]}`;
  }
  return undefined;
}

/** `[done, total]` of a progress string. */
export function splitProgress(progress: string | undefined): [number, number] | undefined {
  const m = progress ? /^(\d+)\/(\d+)$/.exec(progress) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function isLeaf(n: NodeStatus): boolean {
  return n.type === "Pod" || n.type === "Container";
}

/** The progress a leaf contributes. */
export function leafProgress(n: NodeStatus): [number, number] {
  const own = splitProgress(n.progress);
  if (n.phase === "Succeeded") return own ? [own[1], own[1]] : [1, 1];
  return own ?? [0, 1];
}

/**
 * Sums leaf progress under `rootId` (the whole workflow when omitted), Argo's `status.progress`.
 *
 * @example
 * aggregateProgress(status); // "3/7"
 */
export function aggregateProgress(status: WorkflowStatus, rootId?: string): string {
  const nodes = status.nodes ?? {};
  let done = 0;
  let total = 0;
  if (rootId === undefined) {
    // Attempts a retry superseded do not count: only each Retry node's last attempt does.
    const superseded = new Set<string>();
    for (const n of Object.values(nodes)) if (n.type === "Retry") for (const c of (n.children ?? []).slice(0, -1)) superseded.add(c);
    for (const n of Object.values(nodes)) {
      if (!isLeaf(n) || superseded.has(n.id)) continue;
      const [d, t] = leafProgress(n);
      done += d;
      total += t;
    }
    return `${done}/${total}`;
  }
  const stack = [rootId];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = nodes[id];
    if (!n) continue;
    if (isLeaf(n)) {
      const [d, t] = leafProgress(n);
      done += d;
      total += t;
    }
    const kids = n.children ?? [];
    for (const c of n.type === "Retry" ? kids.slice(-1) : kids) stack.push(c);
  }
  return `${done}/${total}`;
}
