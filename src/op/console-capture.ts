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
const METHODS = ["log", "info", "warn", "error", "debug"] as const;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  for (const m of METHODS) {
    const original = console[m];
    console[m] = (...args: unknown[]): void => {
      const sink = current.getStore();
      if (sink) sink(`${format(...args)}\n`);
      else original.apply(console, args);
    };
  }
  const dir = console.dir;
  console.dir = (item?: unknown, options?: object): void => {
    const sink = current.getStore();
    if (sink) sink(`${inspect(item, options)}\n`);
    else dir.call(console, item, options);
  };
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
