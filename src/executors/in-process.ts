/**
 * The binding executor: runs a template's local binding — the OP called in the engine's
 * process, or sent to a worker thread by a binding made for `thread: "worker"` — against the
 * step's folder as its contract root.
 */
import type { LocalBinding } from "../contract.ts";
import { atomicWrite } from "../files.ts";
import { setLongTimeout } from "../long-timer.ts";
import type { Executor, PodEnd, PodSpec } from "./executor.ts";

/** An {@link Executor} for one template's {@link LocalBinding}. */
export class BindingExecutor implements Executor {
  readonly name = "in-process";
  readonly mounts = "never";

  constructor(private readonly binding: LocalBinding) {}

  async run(spec: PodSpec): Promise<PodEnd> {
    const abort = new AbortController();
    let timedOut = false;
    const onAbort = (): void => abort.abort(spec.signal.reason);
    spec.signal.addEventListener("abort", onAbort, { once: true });
    const timer = spec.timeoutMs !== undefined ? setLongTimeout(() => ((timedOut = true), abort.abort(new Error("timeout"))), spec.timeoutMs) : undefined;
    const logs: string[] = [];
    // An in-process OP shares the engine's process: a chdir must not outlive it.
    const cwd = process.cwd();
    try {
      const call = this.binding({
        root: spec.dir,
        parameters: { ...spec.parameters },
        env: spec.env,
        template: spec.template,
        progress: (done, total) => spec.onProgress?.(`${done}/${total}`),
        log: (text) => void logs.push(text),
        signal: abort.signal,
      });
      // A binding that ignores its signal still loses the race against its deadline.
      const aborted = new Promise<never>((_, reject) => {
        if (abort.signal.aborted) reject(abort.signal.reason);
        abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true });
      });
      const r = await Promise.race([call, aborted]);
      if (timedOut) return { exitCode: 137, stdout: "", timedOut: true, aborted: false };
      if (spec.signal.aborted) return { exitCode: 143, stdout: "", timedOut: false, aborted: true };
      return { exitCode: r.exitCode, stdout: r.result ?? "", timedOut: false, aborted: false, ...(r.message !== undefined && r.exitCode !== 0 ? { message: r.message } : {}) };
    } catch (err) {
      if (timedOut) return { exitCode: 137, stdout: "", timedOut: true, aborted: false };
      if (spec.signal.aborted) return { exitCode: 143, stdout: "", timedOut: false, aborted: true };
      logs.push(`${(err as Error).stack ?? String(err)}\n`);
      return { exitCode: 1, stdout: "", timedOut: false, aborted: false, message: `${(err as Error).message}` };
    } finally {
      if (process.cwd() !== cwd) {
        process.chdir(cwd);
        logs.push(`opflow: template "${spec.template}" changed the working directory of the engine; restored to ${cwd}\n`);
      }
      timer?.clear();
      spec.signal.removeEventListener("abort", onAbort);
      if (logs.length > 0) await atomicWrite(spec.logFile, logs.join(""));
    }
  }
}
