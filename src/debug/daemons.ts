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

/** A node that ends as a daemon ends: the Retry node over the attempt. */
interface Follower {
  readonly node: NodeStatus;
  /** When the daemon ends by itself: what follows (the next attempts), instead of failing too. */
  readonly onEarlyExit?: (ended: NodeStatus) => Promise<unknown>;
}

interface Entry extends DaemonHandle {
  readonly scope: string;
  readonly followers: Follower[];
  /** Set once its scope (or the run) ends it: its own end is then not a failure. */
  ending: boolean;
}

/** The daemons of one run. */
export class Daemons {
  private readonly entries = new Map<string, Entry>();
  private readonly scopes = new Map<string, AbortController>();
  /** Work a scope must wait for before it is over (the retries of its daemons). */
  private readonly pending = new Map<string, Set<Promise<unknown>>>();

  constructor(private readonly book: NodeBook) {}

  /** Whether any daemon ran in this run (else a scope's end has nothing to do: no await for it). */
  get used(): boolean {
    return this.scopes.size > 0 || this.entries.size > 0 || this.pending.size > 0;
  }

  /**
   * Aborted when `scope` ends: a daemon's process (ready or not yet) and the retries of a
   * daemon stop then.
   */
  scopeSignal(scope: string): AbortSignal {
    let c = this.scopes.get(scope);
    if (!c) this.scopes.set(scope, (c = new AbortController()));
    return c.signal;
  }

  /** Records a daemon that became ready, ended with `scope` (at once when `scope` already ended). */
  add(scope: string, handle: DaemonHandle, scopeSignal: AbortSignal): void {
    const entry: Entry = { ...handle, scope, followers: [], ending: false };
    this.entries.set(handle.node.id, entry);
    if (scopeSignal.aborted) this.track(scope, this.end([entry]));
  }

  /**
   * `follower` (the Retry node over daemon `nodeId`) ends as the daemon ends — or, when the
   * daemon ends by itself and `onEarlyExit` is given, as what that goes on with decides.
   */
  follow(nodeId: string, follower: NodeStatus, onEarlyExit?: (ended: NodeStatus) => Promise<unknown>): void {
    this.entries.get(nodeId)?.followers.push(onEarlyExit ? { node: follower, onEarlyExit } : { node: follower });
  }

  /** Whether the daemon of `nodeId` is being ended by its scope or the run. */
  ending(nodeId: string): boolean {
    return this.entries.get(nodeId)?.ending === true;
  }

  /**
   * The daemon of `nodeId` exited by itself before its scope ended: Argo marks it Failed (a
   * daemon's pod that ends, even with exit code 0, failed), and the Retry node over it unless
   * that retries.
   */
  async exitedEarly(nodeId: string, message: string): Promise<void> {
    const entry = this.entries.get(nodeId);
    if (!entry || entry.ending) return;
    this.entries.delete(nodeId);
    delete entry.node.daemoned;
    await this.book.finish(entry.node, "Failed", message);
    for (const f of entry.followers) {
      if (f.onEarlyExit) this.track(entry.scope, f.onEarlyExit(entry.node));
      else {
        delete f.node.daemoned;
        await this.book.finish(f.node, "Failed", message);
      }
    }
  }

  /**
   * Ends the daemons of `scope`: kills each (and any not ready yet), waits for its process to be
   * gone, records it Succeeded; then waits for the retries of its daemons to stop.
   */
  async endScope(scope: string): Promise<void> {
    this.scopes.get(scope)?.abort();
    // A later daemon of the same scope name (the workflow's exit handler) starts afresh.
    this.scopes.delete(scope);
    await this.end([...this.entries.values()].filter((e) => e.scope === scope));
    await this.settle(scope);
  }

  /** Ends every daemon still running (the run is over). */
  async endAll(): Promise<void> {
    for (const c of this.scopes.values()) c.abort();
    this.scopes.clear();
    await this.end([...this.entries.values()]);
    for (const scope of [...this.pending.keys()]) await this.settle(scope);
  }

  private track(scope: string, work: Promise<unknown>): void {
    let set = this.pending.get(scope);
    if (!set) this.pending.set(scope, (set = new Set()));
    const p = work.catch(() => undefined).finally(() => set.delete(p));
    set.add(p);
  }

  private async settle(scope: string): Promise<void> {
    for (;;) {
      const set = this.pending.get(scope);
      if (!set || set.size === 0) break;
      await Promise.all([...set]);
      // What they started (a retried daemon that became ready after the scope ended) ends too.
      await this.end([...this.entries.values()].filter((e) => e.scope === scope));
    }
    this.pending.delete(scope);
  }

  private async end(entries: readonly Entry[]): Promise<void> {
    const mine = entries.filter((e) => !e.ending);
    for (const e of mine) {
      e.ending = true;
      e.kill();
    }
    await Promise.all(
      mine.map(async (e) => {
        await e.exited;
        this.entries.delete(e.node.id);
        for (const n of [e.node, ...e.followers.map((f) => f.node)]) {
          delete n.daemoned;
          if (n.phase === "Running") await this.book.finish(n, "Succeeded");
        }
      }),
    );
  }
}
