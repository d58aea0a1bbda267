/**
 * Node bookkeeping of a run: `status.nodes` in Argo's shape (ids, names, types, phases,
 * boundaries, children), each change recorded in the state tree and announced — to the run's
 * owner at once, and to whatever evaluates hooks at most every 50 ms.
 */
import type { NodePhase, NodeStatus, NodeType, Template } from "../argo/model.ts";
import type { ArtifactRef } from "./artifact-io.ts";
import { messageOf, now, type Place } from "./_context.ts";
import { nodeId } from "./node-id.ts";
import { clipMessage } from "./message-cap.ts";
import { assertTransition, isFulfilled } from "./node-state.ts";
import type { StateTree } from "./state-tree.ts";

/**
 * Most nodes of one run. Argo has no such number, but its workflow object (every node in
 * `status.nodes`) stops far below it; here it stops a template that calls itself more than
 * once per level (the depth cap comes too late for an exponential tree) with a message, before
 * the engine runs out of memory.
 */
export const MAX_NODES = 50_000;

/** The nodes of one run and their local output artifacts. */
export class NodeBook {
  /** `status.nodes`, by id. */
  readonly nodes: Record<string, NodeStatus> = {};
  /** Output artifacts of nodes with their local paths, by node id. */
  readonly artifacts = new Map<string, ReadonlyMap<string, ArtifactRef>>();
  private readonly childSets = new WeakMap<NodeStatus, Set<string>>();
  private readonly watchers = new Set<() => void>();
  private watchersDue = false;
  private count = 0;

  /**
   * @param onChange called after every change (cheap; callers throttle)
   * @param onDiskError called when the state tree cannot be written, or the run has
   *   {@link MAX_NODES} nodes (the run must stop)
   */
  constructor(
    readonly wfName: string,
    private readonly tree: StateTree,
    private readonly onChange: () => void,
    private readonly onDiskError: (message: string) => void,
    private readonly maxNodes = MAX_NODES,
  ) {}

  /** The id of the node named `name`. */
  idOf(name: string): string {
    return nodeId(this.wfName, name);
  }

  /** The node at `place`, if it exists. */
  at(place: Place): NodeStatus | undefined {
    return this.nodes[this.idOf(place.name)];
  }

  /**
   * Something changed: tells the run's owner, and whatever evaluates hooks — within 50 ms, once
   * for all the changes of those 50 ms (a fan-out of steps with hooks changes often).
   */
  changed(): void {
    this.onChange();
    if (this.watchers.size === 0 || this.watchersDue) return;
    this.watchersDue = true;
    setTimeout(() => {
      this.watchersDue = false;
      for (const w of [...this.watchers]) w();
    }, 50);
  }

  /**
   * Calls `evaluate` after changes of the run (see {@link changed}), and at least every second
   * — as Argo re-evaluates hook expressions on every reconcile — until the returned function is
   * called.
   */
  whileRunning(evaluate: () => void): () => void {
    this.watchers.add(evaluate);
    const timer = setInterval(evaluate, 1000);
    return () => {
      this.watchers.delete(evaluate);
      clearInterval(timer);
    };
  }

  /** Creates the node of `place` (linked under its parent, recorded, announced). */
  create(place: Place, type: NodeType, tmpl: Template | undefined, phase: NodePhase, extra: Partial<NodeStatus> = {}): NodeStatus {
    const id = this.idOf(place.name);
    const node: NodeStatus = {
      id,
      name: place.name,
      displayName: place.displayName,
      type,
      ...(tmpl ? { templateName: tmpl.name } : {}),
      templateScope: `local/${this.wfName}`,
      phase,
      ...(place.boundaryID ? { boundaryID: place.boundaryID } : {}),
      startedAt: now(),
      ...extra,
    };
    if (isFulfilled(phase)) node.finishedAt = node.startedAt;
    if (node.message !== undefined) node.message = clipMessage(node.message);
    if (!this.nodes[id] && ++this.count === this.maxNodes) {
      this.onDiskError(`the workflow has ${this.maxNodes} nodes, the local engine's limit (a template that calls itself without end?)`);
    }
    this.nodes[id] = node;
    if (place.key) this.tree.nodeDir(node, place.key);
    if (place.parentId) this.addChild(place.parentId, id);
    this.persist(node);
    this.changed();
    return node;
  }

  /** Records a node in the state tree; a failing disk fails the run, not the process. */
  persist(node: NodeStatus): void {
    try {
      this.tree.persistNode(node);
    } catch (err) {
      this.onDiskError(`cannot write the state tree (${this.tree.dir}): ${messageOf(err)}`);
    }
  }

  addChild(parentId: string, childId: string): void {
    const parent = this.nodes[parentId];
    if (!parent) return;
    const children = (parent.children ??= []);
    // A set beside the list: a 10,000-way fan-out must not cost 10,000² comparisons.
    let known = this.childSets.get(parent);
    if (!known) this.childSets.set(parent, (known = new Set(children)));
    if (known.has(childId)) return;
    known.add(childId);
    children.push(childId);
  }

  setRunning(node: NodeStatus): void {
    assertTransition(node.name, node.phase, "Running");
    node.phase = "Running";
    this.persist(node);
    this.changed();
  }

  /**
   * Moves a node to a final phase; its record is on disk when this returns (so that a resumed
   * run never runs a succeeded step again).
   */
  async finish(node: NodeStatus, phase: NodePhase, message?: string): Promise<NodeStatus> {
    assertTransition(node.name, node.phase, phase);
    node.phase = phase;
    node.finishedAt = now();
    if (message) node.message = clipMessage(message);
    else if (phase === "Succeeded") delete node.message;
    this.changed();
    this.persist(node);
    if (phase === "Succeeded" && (node.type === "Steps" || node.type === "DAG") && node.outputs?.parameters?.length) {
      await this.tree.writeOutputParameters(node).catch((err: unknown) => this.onDiskError(`cannot write the state tree (${this.tree.dir}): ${messageOf(err)}`));
    }
    return node;
  }

  /** A node created and ended Error at once. */
  async error(place: Place, type: NodeType, tmpl: Template | undefined, message: string): Promise<NodeStatus> {
    const node = this.create(place, type, tmpl, "Pending");
    return this.finish(node, "Error", message);
  }

  /** A node created and ended Skipped (or Omitted) at once. */
  async skip(place: Place, message: string, phase: "Skipped" | "Omitted" = "Skipped"): Promise<NodeStatus> {
    const node = this.create(place, "Skipped", undefined, "Pending");
    return this.finish(node, phase, message);
  }
}
