/**
 * How a run stops: Argo's `terminate` (everything ends, exit handlers do not run) and `stop`
 * (exit handlers — the workflow's and those of steps and tasks that ran — still run; a later
 * terminate ends them too), and the workflow's deadline.
 */
import { setMaxListeners } from "node:events";
import { EngineError } from "../errors.ts";
import type { Place } from "./_context.ts";

/** The message of a run stopped by `spec.activeDeadlineSeconds`. */
export const DEADLINE_MESSAGE = "Workflow exceeded its deadline";

/** An abort controller whose signal many running steps may listen to. */
function controller(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}

/** The stop state of one run. */
export class RunControl {
  private abort = controller();
  private readonly hardStop = new AbortController();
  /** A stop that lets exit handlers run (Argo's `stop`); {@link hardStop} ends them too. */
  private graceful = false;
  private message: string | undefined;

  /** Listens to the run's terminate `signal` and its graceful `stopSignal`. */
  listen(signals: { readonly signal?: AbortSignal; readonly stopSignal?: AbortSignal }): void {
    const on = (signal: AbortSignal | undefined, exitHandlers: boolean): void => {
      if (!signal) return;
      const stop = (): void => this.stop(typeof signal.reason === "string" ? signal.reason : "Stopped", { exitHandlers });
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    };
    on(signals.stopSignal, true);
    on(signals.signal, false);
  }

  /** The message of the first stop, if the run was stopped. */
  get stopMessage(): string | undefined {
    return this.message;
  }

  /**
   * Stops the run: running steps are killed, nothing new starts. With `exitHandlers` (Argo's
   * `stop`, as opposed to `terminate`), exit handlers still run; a later stop without it ends
   * them too.
   */
  stop(message: string, options: { exitHandlers?: boolean } = {}): void {
    this.message ??= message;
    if (options.exitHandlers && !this.abort.signal.aborted) this.graceful = true;
    this.abort.abort(new EngineError(message));
    if (!options.exitHandlers) this.hardStop.abort(new EngineError(message));
  }

  /** The signal that ends what runs at `place`. */
  signalFor(place: Place): AbortSignal {
    return place.exit && this.graceful ? this.hardStop.signal : this.abort.signal;
  }

  /** Whether what runs at `place` must stop. */
  halted(place: Place): boolean {
    return this.signalFor(place).aborted;
  }

  /**
   * Whether the workflow's exit handler runs: always, unless the run was terminated (a stop
   * caused by a deadline or Argo's `stop` lets it run). An exit handler after a stop gets a
   * fresh signal, as Argo runs it regardless.
   */
  admitExitHandler(): boolean {
    const stopped = this.abort.signal.aborted;
    if (stopped && this.message !== DEADLINE_MESSAGE && !(this.graceful && !this.hardStop.signal.aborted)) return false;
    if (stopped) this.abort = controller();
    return true;
  }
}
