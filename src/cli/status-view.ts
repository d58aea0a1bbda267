/**
 * Renders an Argo `WorkflowStatus` as a tree for the terminal: each node with its phase,
 * duration, retry count and progress (`N/M`). Used by `opflow run` and `opflow status` (and
 * `opflow watch`): its only input is Argo's status shape, so it renders a local run and a
 * cluster run alike.
 *
 * @example
 * ```ts
 * console.log(renderStatus(result.status, { color: false }));
 * // steps-x2k9q  ✔ Succeeded  1.2s  3/3
 * // ├─ [0]
 * // │  └─ ✔ hello1  Succeeded  0.1s
 * // └─ [1] …
 * ```
 */
import type { NodePhase, NodeStatus, WorkflowStatus } from "../argo/model.ts";

/** Options of {@link renderStatus}. */
export interface RenderOptions {
  /** ANSI colours. @default false */
  readonly color?: boolean;
  /** "Now" for durations of running nodes, in ms since epoch. @default Date.now() */
  readonly now?: number;
  /** Most children shown under one node; the rest are summarised on one line. @default 12 */
  readonly maxChildren?: number;
  /** Most lines in all; the rest are summarised. @default unlimited */
  readonly maxLines?: number;
  /** The workflow's name, for the header when the status has no root node yet. */
  readonly name?: string;
}

const ICON: Record<NodePhase, string> = {
  Pending: "○",
  Running: "◷",
  Succeeded: "✔",
  Failed: "✖",
  Error: "⚠",
  Skipped: "⤼",
  Omitted: "−",
};

const COLOR: Record<NodePhase, string> = {
  Pending: "\x1b[2m",
  Running: "\x1b[36m",
  Succeeded: "\x1b[32m",
  Failed: "\x1b[31m",
  Error: "\x1b[31m",
  Skipped: "\x1b[2m",
  Omitted: "\x1b[2m",
};

/** Renders milliseconds for humans: `850ms`, `12.3s`, `4m05s`, `1h02m`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function duration(n: { startedAt?: string; finishedAt?: string }, now: number): string {
  if (!n.startedAt) return "";
  const start = Date.parse(n.startedAt);
  const end = n.finishedAt ? Date.parse(n.finishedAt) : now;
  return Number.isNaN(start) || Number.isNaN(end) ? "" : humanDuration(end - start);
}

function isLeaf(n: NodeStatus): boolean {
  return n.type === "Pod" || n.type === "Container" || n.type === "Suspend" || n.type === "HTTP" || n.type === "Plugin";
}

/** Whether `child` is named under `parent` (`p[0]`, `p(1)`, `p.onExit`, `p.x`). */
function namedUnder(parent: string, child: string): boolean {
  if (!child.startsWith(parent) || child.length === parent.length) return false;
  const c = child[parent.length];
  return c === "." || c === "[" || c === "(";
}

/** Builds the display tree: which nodes to show under which. */
class TreeIndex {
  private readonly byBoundary = new Map<string, NodeStatus[]>();
  private readonly grouped = new Set<string>();
  constructor(private readonly nodes: Record<string, NodeStatus>) {
    for (const n of Object.values(nodes)) {
      if (n.boundaryID) {
        let list = this.byBoundary.get(n.boundaryID);
        if (!list) this.byBoundary.set(n.boundaryID, (list = []));
        list.push(n);
      }
      // A retry's attempts and a fan-out's items are shown under it. Its other children — the
      // DAG tasks that depend on it, which Argo hangs off the node they wait for — are not
      // grouped: they stay in their DAG's list.
      if (n.type === "TaskGroup" || n.type === "Retry") {
        for (const c of n.children ?? []) if (namedUnder(n.name, nodes[c]?.name ?? "")) this.grouped.add(c);
      }
    }
  }

  children(n: NodeStatus): NodeStatus[] {
    if (n.type === "Steps") {
      // Argo hangs step group i+1 off the steps of group i; show the groups under their template.
      const index = (c: NodeStatus): number => Number(/\[(\d+)\]$/.exec(c.name)?.[1] ?? 0);
      return (this.byBoundary.get(n.id) ?? []).filter((c) => c.type === "StepGroup" && namedUnder(n.name, c.name)).sort((a, b) => index(a) - index(b));
    }
    if (n.type === "DAG") {
      return (this.byBoundary.get(n.id) ?? []).filter((c) => !this.grouped.has(c.id) && !/\.(onExit|hooks\.[^.]+)$/.test(c.name) && namedUnder(n.name, c.name) && !c.name.slice(n.name.length + 1).includes("."));
    }
    return (n.children ?? []).map((id) => this.nodes[id]).filter((c): c is NodeStatus => c !== undefined && namedUnder(n.name, c.name));
  }

  /** Leaf progress summed under `n`. */
  progress(n: NodeStatus, memo: Map<string, [number, number]>): [number, number] {
    const m = memo.get(n.id);
    if (m) return m;
    let r: [number, number];
    if (isLeaf(n)) {
      const own = n.progress ? /^(\d+)\/(\d+)$/.exec(n.progress) : null;
      if (n.phase === "Succeeded") r = own ? [Number(own[2]), Number(own[2])] : [1, 1];
      else r = own ? [Number(own[1]), Number(own[2])] : [0, 1];
    } else {
      r = [0, 0];
      memo.set(n.id, r);
      const kids = this.children(n);
      // Attempts a retry superseded do not count.
      for (const c of n.type === "Retry" ? kids.slice(-1) : kids) {
        const [d, t] = this.progress(c, memo);
        r = [r[0] + d, r[1] + t];
      }
    }
    memo.set(n.id, r);
    return r;
  }
}

/** Counts nodes by phase, for summaries such as `9,990 Succeeded, 10 Running`. */
function phaseCounts(nodes: readonly NodeStatus[]): string {
  const counts = new Map<NodePhase, number>();
  for (const n of nodes) counts.set(n.phase, (counts.get(n.phase) ?? 0) + 1);
  return [...counts].map(([p, c]) => `${c.toLocaleString("en-US")} ${p}`).join(", ");
}

/**
 * Renders `status` as a tree (one string, lines separated by `\n`).
 *
 * @example
 * process.stdout.write(renderStatus(status, { color: process.stdout.isTTY }) + "\n");
 */
export function renderStatus(status: WorkflowStatus, options: RenderOptions = {}): string {
  const nodes = status.nodes ?? {};
  const now = options.now ?? Date.now();
  const color = options.color ?? false;
  const maxChildren = options.maxChildren ?? 12;
  const index = new TreeIndex(nodes);
  const memo = new Map<string, [number, number]>();
  const paint = (phase: NodePhase, text: string): string => (color ? `${COLOR[phase]}${text}\x1b[0m` : text);
  const dim = (text: string): string => (color ? `\x1b[2m${text}\x1b[0m` : text);
  const lines: string[] = [];

  const describe = (n: NodeStatus): string => {
    const parts: string[] = [];
    const label = n.type === "StepGroup" || n.type === "TaskGroup" ? n.displayName : `${ICON[n.phase]} ${n.displayName}`;
    parts.push(paint(n.phase, label));
    if (n.type !== "StepGroup") parts.push(paint(n.phase, n.phase));
    const d = duration(n, now);
    if (d && n.type !== "Skipped") parts.push(dim(d));
    if (n.type === "Retry") {
      const retries = Math.max(0, index.children(n).length - 1);
      if (retries > 0) parts.push(dim(`${retries} ${retries === 1 ? "retry" : "retries"}`));
    }
    const [done, total] = index.progress(n, memo);
    if (isLeaf(n) ? n.progress !== undefined && n.phase === "Running" : total > 1) parts.push(dim(`${done}/${total}`));
    if (n.message && n.phase !== "Succeeded") parts.push(dim(n.message.length > 160 ? `${n.message.slice(0, 157)}…` : n.message));
    // A suspend node waiting for a person: what resumes it, and the outputs still to supply.
    if (n.type === "Suspend" && n.phase === "Running") {
      const unset = (n.outputs?.parameters ?? []).filter((p) => p.valueFrom?.supplied && p.value === undefined).map((p) => p.name);
      const resume = options.name ? `opflow resume ${options.name}` : "opflow resume";
      parts.push(dim(`waiting for \`${resume}\`${unset.length > 0 ? ` (to supply first with \`opflow node set\`: ${unset.join(", ")})` : ""}`));
    }
    // Taken over instead of run: from the content-hash cache, or from another run by key.
    if (n.memoizationStatus) parts.push(dim(n.memoizationStatus.hit ? "cache hit" : "cache miss"));
    else if (n.phase === "Succeeded" && n.message?.startsWith("reused ")) parts.push(dim(n.message));
    return parts.join("  ");
  };

  const walk = (n: NodeStatus, prefix: string, last: boolean, depth: number, root: boolean): void => {
    if (options.maxLines !== undefined && lines.length >= options.maxLines) return;
    lines.push(root ? describe(n) : `${prefix}${last ? "└─ " : "├─ "}${describe(n)}`);
    const childPrefix = root ? "" : `${prefix}${last ? "   " : "│  "}`;
    let kids = index.children(n);
    let hidden: NodeStatus[] = [];
    if (kids.length > maxChildren) {
      // Show what needs attention first: failures and running nodes, then the newest.
      const rank = (c: NodeStatus): number => (c.phase === "Failed" || c.phase === "Error" ? 0 : c.phase === "Running" ? 1 : c.phase === "Pending" ? 3 : 2);
      const sorted = [...kids].sort((a, b) => rank(a) - rank(b));
      const shown = new Set(sorted.slice(0, maxChildren - 1).map((c) => c.id));
      hidden = kids.filter((c) => !shown.has(c.id));
      kids = kids.filter((c) => shown.has(c.id));
    }
    kids.forEach((c, i) => walk(c, childPrefix, i === kids.length - 1 && hidden.length === 0, depth + 1, false));
    if (hidden.length > 0) lines.push(`${childPrefix}└─ ${dim(`… ${hidden.length.toLocaleString("en-US")} more (${phaseCounts(hidden)})`)}`);
  };

  // Roots: nodes no other node shows (the entry node, the workflow's exit handler, hooks).
  const shownAsChild = new Set<string>();
  for (const n of Object.values(nodes)) for (const c of index.children(n)) shownAsChild.add(c.id);
  const roots = Object.values(nodes)
    .filter((n) => !shownAsChild.has(n.id) && !n.boundaryID)
    .sort((a, b) => (a.startedAt ?? "").localeCompare(b.startedAt ?? ""));

  const phase = status.phase || "Pending";
  const header = [options.name ?? roots[0]?.name ?? "workflow", phase];
  const wfDuration = duration(status, now);
  if (wfDuration) header.push(wfDuration);
  const progress = status.progress ?? (() => {
    let d = 0;
    let t = 0;
    for (const r of roots) {
      const [a, b] = index.progress(r, memo);
      d += a;
      t += b;
    }
    return `${d}/${t}`;
  })();
  header.push(progress);
  lines.push((color ? "\x1b[1m" : "") + header.join("  ") + (color ? "\x1b[0m" : ""));
  if (status.message && phase !== "Succeeded") lines.push(dim(`message: ${status.message}`));
  for (const r of roots) walk(r, "", true, 0, true);
  if (options.maxLines !== undefined && lines.length >= options.maxLines) {
    lines.length = options.maxLines - 1;
    lines.push(dim("…"));
  }
  if (status.outputs?.parameters?.length) {
    lines.push("outputs:");
    for (const p of status.outputs.parameters) lines.push(`  ${p.name} = ${p.value ?? ""}`);
  }
  return lines.join("\n");
}

/**
 * Redraws a status tree in place on a TTY stream (at most every `intervalMs`), and prints
 * nothing on other streams.
 */
export class LiveStatusView {
  private lastLines = 0;
  private lastDraw = 0;
  private pending: WorkflowStatus | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly name: string,
    private readonly intervalMs = 250,
  ) {}

  /** Whether this view draws anything (a TTY). */
  get active(): boolean {
    return this.stream.isTTY === true;
  }

  update(status: WorkflowStatus): void {
    if (!this.active) return;
    this.pending = status;
    const wait = this.intervalMs - (Date.now() - this.lastDraw);
    if (wait <= 0) this.draw();
    else this.timer ??= setTimeout(() => this.draw(), wait);
  }

  /** Draws the last status now and stops redrawing. */
  close(status?: WorkflowStatus): void {
    if (status) this.pending = status;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // The last drawing stays in the scrollback: not cut to the screen's height.
    if (this.active && this.pending) this.draw(true);
  }

  private draw(final = false): void {
    this.timer = undefined;
    this.lastDraw = Date.now();
    if (!this.pending) return;
    const rows = (this.stream.rows ?? 40) - 2;
    const text = renderStatus(this.pending, { color: true, name: this.name, ...(final ? {} : { maxLines: Math.max(5, rows) }) });
    const lines = text.split("\n");
    const clear = this.lastLines > 0 ? `\x1b[${this.lastLines}A\x1b[0J` : "";
    this.stream.write(`${clear}${text}\n`);
    this.lastLines = lines.length;
  }
}
