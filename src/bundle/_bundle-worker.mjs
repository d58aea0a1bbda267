// @ts-check
/**
 * The worker thread behind `bundleModuleSync` (see `bundle-sync.ts`): for each request it
 * bundles one module with `bundleModule` (esbuild's plugins need its asynchronous API), posts
 * the result on the request's port and wakes the waiting thread through the request's flag.
 * It stays up between requests, so that tsx and esbuild's service start once per process.
 *
 * Plain JavaScript because worker threads start without the TypeScript loader; it registers tsx
 * itself (when opflow runs from its TypeScript sources) before importing `bundle.ts`.
 */
import { parentPort, workerData } from "node:worker_threads";

/**
 * A request.
 * @typedef {object} BundleRequest
 * @property {string} file The module to bundle.
 * @property {import("./bundle.ts").BundleOptions} options
 * @property {Int32Array} flag Set to 1 (and notified) once the reply is posted.
 * @property {import("node:worker_threads").MessagePort} port Receives the reply.
 */

/**
 * The reply: the bundle, or the error's class name and message.
 * @typedef {{ ok: true, bundle: import("./bundle.ts").OpBundle } | { ok: false, name: string, message: string }} BundleReply
 */

/** The `workerData` of this worker: the URL of `bundle.ts` (or of its compiled form). */
const bundleModuleUrl = /** @type {string} */ (workerData);

/** @type {Promise<typeof import("./bundle.ts")>} */
const loaded = (async () => {
  if (bundleModuleUrl.endsWith(".ts")) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  return /** @type {typeof import("./bundle.ts")} */ (await import(bundleModuleUrl));
})();

/** @param {BundleRequest} request */
async function serve(request) {
  /** @type {BundleReply} */
  let reply;
  try {
    const { bundleModule } = await loaded;
    reply = { ok: true, bundle: await bundleModule(request.file, request.options) };
  } catch (err) {
    const e = /** @type {Error} */ (err);
    reply = { ok: false, name: e?.name ?? "Error", message: e?.message ?? String(err) };
  }
  request.port.postMessage(reply);
  request.port.close();
  Atomics.store(request.flag, 0, 1);
  Atomics.notify(request.flag, 0);
}

parentPort?.on("message", (request) => void serve(/** @type {BundleRequest} */ (request)));
