/**
 * Sends what an OP prints with `console.*` to its step's log while it runs in a process it
 * shares with others (the engine's, or a worker thread): the console is patched once, and each
 * call goes to the log of the OP whose asynchronous context made it — concurrent OPs keep
 * their own lines. Calls from outside a running OP reach the console as before.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { format, inspect } from "node:util";

type Sink = (text: string) => void;

const current = new AsyncLocalStorage<Sink>();
const METHODS = ["log", "info", "warn", "error", "debug", "dir"] as const;
const WRAPPED = Symbol("opflow.console-capture");

type ConsoleFn = ((...args: unknown[]) => void) & { [WRAPPED]?: true };

/**
 * Wraps each console method that is not wrapped yet (again after something — a test spy —
 * replaced it): a call inside a running OP goes to its sink, any other to the method wrapped.
 */
function install(): void {
  const c = console as unknown as Record<(typeof METHODS)[number], ConsoleFn>;
  for (const m of METHODS) {
    if (c[m][WRAPPED]) continue;
    const original = c[m];
    const wrapper: ConsoleFn = (...args: unknown[]): void => {
      const sink = current.getStore();
      if (!sink) return original.apply(console, args);
      sink(m === "dir" ? `${inspect(args[0], args[1] as object | undefined)}\n` : `${format(...args)}\n`);
    };
    wrapper[WRAPPED] = true;
    c[m] = wrapper;
  }
}

/**
 * Runs `fn` with every `console.log/info/warn/error/debug/dir` call made in its asynchronous
 * context written to `sink` (one line per call, formatted as the console would).
 *
 * @example
 * await withConsoleTo((text) => lines.push(text), () => op.execute(input, context));
 */
export function withConsoleTo<T>(sink: Sink, fn: () => Promise<T>): Promise<T> {
  install();
  return current.run(sink, fn);
}
