/**
 * `bundleModuleSync`: {@link bundleModule} for synchronous callers (compiling a workflow is
 * synchronous, and an OP template's manifest names its bundle by hash). esbuild's plugins need
 * its asynchronous API, so bundles are made in a worker thread while the calling thread waits
 * on a shared flag, then read from a port without returning to the event loop.
 *
 * The worker is shared by the whole process, like a thread pool: it holds no workflow's state,
 * starts with the first bundle that is not in the bundle cache and never holds the process open.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from "node:worker_threads";
import { type BundleOptions, type OpBundle, cachedBundle } from "./bundle.ts";
import { BundleError } from "./bundle-error.ts";

/** How long a synchronous bundle may take before it is given up. */
const TIMEOUT_MS = 120_000;

let worker: Worker | undefined;

function bundler(): Worker {
  if (!worker) {
    const bundleModuleUrl = new URL(import.meta.url.endsWith(".ts") ? "./bundle.ts" : "./bundle.js", import.meta.url).href;
    const w = new Worker(new URL("./_bundle-worker.mjs", import.meta.url), { workerData: bundleModuleUrl, stdout: false, stderr: false });
    w.unref();
    const forget = (): void => {
      if (worker === w) worker = undefined;
    };
    w.on("exit", forget);
    w.on("error", forget);
    worker = w;
  }
  return worker;
}

type Reply = { ok: true; bundle: OpBundle } | { ok: false; name: string; message: string };

/**
 * Bundles `moduleFile` as {@link bundleModule} does, synchronously.
 *
 * @throws BundleError as {@link bundleModule} does, or when the bundling thread fails.
 * @example
 * const b = bundleModuleSync("examples/hello.ts"); // b.fileName: "<hash>.mjs"
 */
export function bundleModuleSync(moduleFile: string, options: BundleOptions = {}): OpBundle {
  // A cached bundle costs no thread and no esbuild (`opflow render` of an unchanged module).
  const cached = cachedBundle(moduleFile, options);
  if (cached) return cached;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const w = bundler();
  try {
    w.postMessage({ file: moduleFile, options: { ...options, externals: [...(options.externals ?? [])] }, flag, port: port2 }, [port2]);
    const waited = Atomics.wait(flag, 0, 0, TIMEOUT_MS);
    const message = receiveMessageOnPort(port1)?.message as Reply | undefined;
    if (!message) {
      if (waited === "timed-out") void w.terminate();
      throw new BundleError(`OP bundle of ${moduleFile}: ${waited === "timed-out" ? `bundling took longer than ${TIMEOUT_MS / 1000} s` : "the bundling thread ended without an answer"}`);
    }
    if (!message.ok) throw message.name === "BundleError" ? new BundleError(message.message) : new BundleError(`OP bundle of ${moduleFile}: ${message.name}: ${message.message}`);
    return { ...message.bundle, contents: new Uint8Array(message.bundle.contents) };
  } finally {
    port1.close();
  }
}
