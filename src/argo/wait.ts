/**
 * Waiting for a workflow to finish: a watch stream for prompt updates, with polling as the
 * safety net (a watch may be forbidden by RBAC, or dropped by a proxy).
 */
import type { Workflow, WorkflowStatus } from "./model.ts";
import type { ArgoClient } from "./client.ts";
import { isCompletedPhase } from "./control.ts";
import { type Duration, parseDuration } from "../duration.ts";
import { SubmitError } from "../errors.ts";

/** A duration written with its unit, such as `"500ms"`, `"30s"`, `"10m"`, `"2h"` (the grammar of `src/duration.ts`). */
export type WaitDuration = Exclude<Duration, number>;

/** Milliseconds in a {@link WaitDuration}. */
export function waitDurationMs(d: WaitDuration): number {
  if (typeof d !== "string") throw new SubmitError(`duration ${JSON.stringify(d)} must be a number followed by ms, s, m or h`);
  return parseDuration(d, "duration", SubmitError);
}

/** Options of {@link waitForWorkflow}. */
export interface WaitOptions {
  /**
   * Give up (with a SubmitError) after this long. The workflow keeps running.
   * @default no limit
   */
  readonly timeout?: WaitDuration;
  /**
   * How often to read the workflow (also while watching, as a safety net).
   * @default "2s" without a watch, "10s" with one
   */
  readonly pollInterval?: WaitDuration;
  /**
   * Use a watch stream for prompt updates.
   * @default true
   */
  readonly watch?: boolean;
  /**
   * Called with each new status (each time the object's resourceVersion changes).
   * @default none
   */
  readonly onUpdate?: (status: WorkflowStatus, workflow: Workflow) => void;
  /**
   * Stops waiting (rejects with the signal's reason).
   * @default none
   */
  readonly signal?: AbortSignal;
}

/**
 * Waits until workflow `name` is Succeeded, Failed or Error; returns it (it does not throw
 * when the workflow failed: check `status.phase`).
 *
 * @example
 * ```ts
 * const done = await waitForWorkflow(client, "hello-x7k2p", {
 *   timeout: "30m",
 *   onUpdate: (status) => console.log(status.phase, status.progress),
 * });
 * ```
 */
export async function waitForWorkflow(client: ArgoClient, name: string, options: WaitOptions = {}): Promise<Workflow> {
  const useWatch = options.watch ?? true;
  const pollMs = waitDurationMs(options.pollInterval ?? (useWatch ? "10s" : "2s"));
  const deadline = options.timeout ? Date.now() + waitDurationMs(options.timeout) : undefined;
  const stop = new AbortController();
  const outer = options.signal;
  let lastVersion: string | undefined;
  let last: Workflow | undefined;

  return new Promise<Workflow>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: unknown, wf?: Workflow): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      stop.abort();
      outer?.removeEventListener("abort", onAbort);
      if (error !== undefined) reject(error);
      else resolve(wf as Workflow);
    };
    const onAbort = (): void => finish(outer?.reason ?? new SubmitError(`waiting for workflow "${name}" was aborted`));
    if (outer?.aborted) {
      onAbort();
      return;
    }
    outer?.addEventListener("abort", onAbort);

    const seenVersions = new Set<string>();
    // The watch and the poll may deliver versions out of order: report only newer ones.
    // resourceVersion is opaque, but etcd's are integers; compare them as such when they are.
    const isNewer = (version: string): boolean => {
      if (seenVersions.has(version)) return false;
      if (lastVersion !== undefined && /^\d+$/.test(version) && /^\d+$/.test(lastVersion)) return BigInt(version) > BigInt(lastVersion);
      return version !== lastVersion;
    };
    const seen = (wf: Workflow): void => {
      if (done) return;
      const version = wf.metadata.resourceVersion ?? JSON.stringify(wf.status ?? {});
      if (isNewer(version)) {
        seenVersions.add(version);
        lastVersion = version;
        last = wf;
        try {
          options.onUpdate?.(wf.status ?? {}, wf);
        } catch (error) {
          finish(error);
          return;
        }
      }
      if (isCompletedPhase(wf.status?.phase)) finish(undefined, wf);
    };

    const poll = async (): Promise<void> => {
      if (done) return;
      try {
        seen(await client.get(name));
      } catch (error) {
        finish(error);
        return;
      }
      if (done) return;
      if (deadline !== undefined && Date.now() >= deadline) {
        const s = last?.status;
        finish(
          new SubmitError(
            `workflow "${name}" did not finish within ${options.timeout} (phase ${s?.phase || "Pending"}${s?.progress ? `, progress ${s.progress}` : ""}); it keeps running on the cluster`,
          ),
        );
        return;
      }
      const wait = deadline === undefined ? pollMs : Math.max(0, Math.min(pollMs, deadline - Date.now()));
      timer = setTimeout(() => void poll(), wait);
    };

    const watchLoop = async (): Promise<void> => {
      while (!done) {
        try {
          await client.watch(name, (type, wf) => (type === "DELETED" ? finish(new SubmitError(`workflow "${name}" was deleted while waiting for it`)) : seen(wf)), stop.signal);
        } catch {
          return; // fall back to polling alone (e.g. RBAC does not allow watch)
        }
        if (done) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    void poll().then(() => {
      if (useWatch && !done) void watchLoop();
    });
  });
}
