/**
 * Suspend nodes of a run waiting for a person (a suspend template without a duration, or one
 * whose duration has not run out): they stay Running until a {@link NodeRequest} resumes them
 * (`opflow resume`, Argo's `argo resume`) or sets their supplied outputs, message or phase
 * (`opflow node set`, Argo's `argo node set`), with Argo's semantics (argo/suspend-nodes.ts).
 */
import type { NodePhase, NodeStatus } from "../argo/model.ts";
import type { NodeSetOptions } from "../argo/client.ts";
import { isActiveSuspendNode, resumeSuspendNodes, setSuspendNodes } from "../argo/suspend-nodes.ts";
import type { NodeBook } from "./node-book.ts";
import type { StoredNode } from "./state-tree.ts";

/** A request to the engine about its waiting suspend nodes. */
export type NodeRequest = { readonly action: "resume"; readonly nodeFieldSelector?: string } | { readonly action: "set"; readonly options: NodeSetOptions };

/** What a {@link NodeRequest} changed. */
export interface NodeRequestResult {
  /** Names of the nodes changed (`wf[1].approve`). */
  readonly nodes: readonly string[];
}

/** How a wait ended. */
export type SuspendEnd = { readonly how: "resumed"; readonly phase: NodePhase } | { readonly how: "expired" } | { readonly how: "aborted" };

interface Waiter {
  readonly node: NodeStatus;
  end(value: SuspendEnd): void;
}

/** The run's suspend nodes waiting for a person, and what resumes them. */
export class Suspensions {
  private readonly waiting = new Map<string, Waiter>();

  constructor(
    private readonly book: NodeBook,
    private readonly previous: ReadonlyMap<string, StoredNode>,
  ) {}

  /**
   * The node an earlier engine of this run left waiting at `id` (a Running suspend node),
   * whose start, outputs set so far and message the new node keeps.
   */
  earlier(id: string): NodeStatus | undefined {
    const prev = this.previous.get(id)?.node;
    return prev && isActiveSuspendNode(prev) ? prev : undefined;
  }

  /**
   * Waits until a request resumes `node` (or ends it), `ms` run out (never when undefined), or
   * `signal` aborts.
   */
  wait(node: NodeStatus, ms: number | undefined, signal: AbortSignal): Promise<SuspendEnd> {
    return new Promise<SuspendEnd>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const end = (value: SuspendEnd): void => {
        if (!this.waiting.delete(node.id)) return;
        if (timer) clearTimeout(timer);
        clearInterval(keepAlive);
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const onAbort = (): void => end({ how: "aborted" });
      // Nothing else may keep the process alive while it waits for a person (a request comes as a signal).
      const keepAlive = setInterval(() => undefined, 3_600_000);
      this.waiting.set(node.id, { node, end });
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      if (ms !== undefined) {
        // In slices: setTimeout holds at most 2^31 ms (a suspend of 30 days must not end at once).
        const due = Date.now() + ms;
        const arm = (): void => {
          const left = due - Date.now();
          if (left <= 0) return end({ how: "expired" });
          timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
        };
        arm();
      }
    });
  }

  /**
   * Applies a request to the waiting nodes, as Argo applies `resume` and `node set` to a
   * workflow: all or nothing, errors (`SubmitError`) naming what is wrong. Resumed nodes end with
   * the phase asked for; nodes only given outputs or a message keep waiting.
   */
  apply(request: NodeRequest): NodeRequestResult {
    const nodes = [...this.waiting.values()].map((w) => w.node);
    const changes = request.action === "resume" ? resumeSuspendNodes(nodes, request.nodeFieldSelector) : setSuspendNodes(nodes, request.options);
    for (const { before, after } of changes) {
      if (after.outputs) before.outputs = after.outputs;
      if (after.message !== undefined) before.message = after.message;
      if (after.phase === "Running") {
        this.book.persist(before);
        this.book.changed();
      } else this.waiting.get(before.id)?.end({ how: "resumed", phase: after.phase });
    }
    return { nodes: changes.map((c) => c.before.name) };
  }
}
