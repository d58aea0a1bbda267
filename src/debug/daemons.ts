/**
 * The daemons of a run (`daemon: true` templates that became ready), by the scope that ends
 * them — as Argo's `killDaemonedChildren` (workflow/controller/exec_control.go), called when a
 * Steps or DAG node is fulfilled (steps.go, dag.go) and, for daemons outside any, when the
 * workflow ends (operator.go): the daemon's process group is killed and its node — and the
 * Retry node over it — recorded **Succeeded**, no longer daemoned.
 *
 * A scope is the id of the Steps or DAG node that is the daemon's boundary (`""` for the
 * workflow itself).
 */
import type { NodeStatus } from "../argo/model.ts";
import type { NodeBook } from "./node-book.ts";

/** One running daemon. */
export interface DaemonHandle {
  /** The daemoned Pod node. */
  readonly node: NodeStatus;
  /** Kills the process group (the run of its pod then ends). */
  kill(): void;
  /** Settles once the process ended and its pod run is over. */
  readonly exited: Promise<unknown>;
}

interface Entry extends DaemonHandle {
  readonly scope: string;
  /** Nodes that end with it: the Retry node over the attempt. */
  readonly followers: NodeStatus[];
  /** Set once its scope (or the run) ends it: its own end is then not a failure. */
  ending: boolean;
}

/** The daemons of one run. */
export class Daemons {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly book: NodeBook) {}

  /** Records a daemon that became ready, ended with `scope`. */
  add(scope: string, handle: DaemonHandle): void {
    this.entries.set(handle.node.id, { ...handle, scope, followers: [], ending: false });
  }

  /** `follower` (the Retry node over daemon `nodeId`) ends as the daemon ends. */
  follow(nodeId: string, follower: NodeStatus): void {
    this.entries.get(nodeId)?.followers.push(follower);
  }

  /** Whether the daemon of `nodeId` is being ended by its scope or the run. */
  ending(nodeId: string): boolean {
    return this.entries.get(nodeId)?.ending === true;
  }

  /**
   * The daemon of `nodeId` exited by itself before its scope ended: Argo marks it Failed (a
   * daemon's pod that ends, even with exit code 0, failed), and the Retry node over it.
   */
  async exitedEarly(nodeId: string, message: string): Promise<void> {
    const entry = this.entries.get(nodeId);
    if (!entry || entry.ending) return;
    this.entries.delete(nodeId);
    for (const n of [entry.node, ...entry.followers]) {
      delete n.daemoned;
      await this.book.finish(n, "Failed", message);
    }
  }

  /** Ends the daemons of `scope`: kills each, waits for its process to be gone, records it Succeeded. */
  async endScope(scope: string): Promise<void> {
    await this.end([...this.entries.values()].filter((e) => e.scope === scope));
  }

  /** Ends every daemon still running (the run is over). */
  async endAll(): Promise<void> {
    await this.end([...this.entries.values()]);
  }

  private async end(entries: readonly Entry[]): Promise<void> {
    for (const e of entries) {
      e.ending = true;
      e.kill();
    }
    await Promise.all(
      entries.map(async (e) => {
        await e.exited;
        this.entries.delete(e.node.id);
        for (const n of [e.node, ...e.followers]) {
          delete n.daemoned;
          if (n.phase === "Running") await this.book.finish(n, "Succeeded");
        }
      }),
    );
  }
}
