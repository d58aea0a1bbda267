/**
 * Resume and reuse: nodes a previous engine of the same run finished are taken over with their
 * subtree (resume); succeeded keyed steps of other runs are taken over by key (`reuse`).
 */
import path from "node:path";
import type { NodeStatus } from "../argo/model.ts";
import type { Place } from "./_context.ts";
import type { ArtifactRef } from "./artifact-io.ts";
import type { Globals } from "./globals.ts";
import type { NodeBook } from "./node-book.ts";
import { clipMessage } from "./message-cap.ts";
import { safeSegment, type StoredNode } from "./state-tree.ts";

/** The output artifacts of a stored node, with their paths in its folder. */
function storedArtifacts(stored: StoredNode, node: NodeStatus = stored.node): Map<string, ArtifactRef> | undefined {
  const arts = node.outputs?.artifacts ?? [];
  if (arts.length === 0) return undefined;
  const m = new Map<string, ArtifactRef>();
  for (const a of arts) m.set(a.name, { artifact: a, localPath: path.join(stored.dir, "outputs", "artifacts", a.name) });
  return m;
}

/** Takes over nodes of earlier runs. */
export class Resume {
  private taken = 0;
  private boundaryIndex: Map<string, string[]> | undefined;

  /**
   * @param previous nodes recorded by a previous engine under the same name
   * @param reuse succeeded keyed steps of other runs, by key (their folder name)
   */
  constructor(
    private readonly book: NodeBook,
    private readonly globals: Globals,
    private readonly previous: ReadonlyMap<string, StoredNode>,
    private readonly reuse: ReadonlyMap<string, StoredNode> | undefined,
  ) {}

  /** How many nodes were taken over. */
  get count(): number {
    return this.taken;
  }

  /** A node a previous engine finished: taken over with its subtree. */
  restore(place: Place): NodeStatus | undefined {
    const id = this.book.idOf(place.name);
    const prev = this.previous.get(id);
    if (!prev || prev.node.phase !== "Succeeded") return undefined;
    const adopt = (nid: string): void => {
      const p = this.previous.get(nid);
      if (!p || this.book.nodes[nid]) return;
      this.book.nodes[nid] = { ...p.node };
      this.taken++;
      const arts = storedArtifacts(p);
      if (arts) this.book.artifacts.set(nid, arts);
      if (p.node.phase === "Succeeded") this.globals.addOutputs(p.node, this.book.artifacts.get(nid));
      // Descendants: children, and everything inside its boundary (a record's children list may
      // predate links made after it finished, such as the next step group or an exit handler).
      for (const c of p.node.children ?? []) adopt(c);
      for (const c of this.previousByBoundary().get(nid) ?? []) adopt(c);
    };
    adopt(id);
    if (place.parentId) this.book.addChild(place.parentId, id);
    const node = this.book.nodes[id] as NodeStatus;
    this.book.changed();
    return node;
  }

  /** Nodes of the previous run by boundary id. */
  private previousByBoundary(): Map<string, string[]> {
    if (!this.boundaryIndex) {
      this.boundaryIndex = new Map();
      for (const [id, p] of this.previous) {
        const b = p.node.boundaryID;
        if (!b) continue;
        let list = this.boundaryIndex.get(b);
        if (!list) this.boundaryIndex.set(b, (list = []));
        list.push(id);
      }
    }
    return this.boundaryIndex;
  }

  /** A keyed step another run finished (`reuse`): taken over with its outputs. */
  reuseKeyed(place: Place, templateName: string | undefined): NodeStatus | undefined {
    if (!place.key || !this.reuse) return undefined;
    const prev = this.reuse.get(safeSegment(place.key));
    if (!prev || prev.node.phase !== "Succeeded" || (templateName && prev.node.templateName !== templateName)) return undefined;
    const p = prev.node;
    const node = this.book.create(place, p.type === "Retry" ? "Retry" : p.type, undefined, "Pending", {
      ...(p.templateName ? { templateName: p.templateName } : {}),
      ...(p.inputs ? { inputs: p.inputs } : {}),
      ...(p.outputs ? { outputs: p.outputs } : {}),
    });
    node.phase = "Succeeded";
    node.finishedAt = node.startedAt;
    node.message = clipMessage(`reused from ${path.basename(path.dirname(prev.dir))} (key ${place.key})`);
    const arts = storedArtifacts(prev, p);
    if (arts) this.book.artifacts.set(node.id, arts);
    this.globals.addOutputs(node, this.book.artifacts.get(node.id));
    this.taken++;
    this.book.persist(node);
    this.book.changed();
    return node;
  }

  /** {@link restore}, else {@link reuseKeyed}. */
  takeOver(place: Place, templateName: string | undefined): NodeStatus | undefined {
    return this.restore(place) ?? this.reuseKeyed(place, templateName);
  }
}
