// @ts-check
/**
 * A worker thread that runs OPs for the local engine (see `worker-pool.ts`): it imports the OP's
 * module — again, in this thread — finds the OP by name and runs it through the OP runner
 * against the step's folder, one task at a time, reporting progress, log lines and the result.
 *
 * Plain JavaScript because worker threads start without the TypeScript loader: where opflow runs
 * from its `.ts` sources (this checkout) it registers tsx itself before importing the runner;
 * the OP's module is imported through `importUserModule`, which registers tsx for TypeScript.
 */
import { existsSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

/**
 * A task for the worker.
 * @typedef {object} WorkerTask
 * @property {number} id
 * @property {string} module The OP's module (a file URL).
 * @property {string} op The OP's name.
 * @property {import("./slices.ts").SliceSpec} [slices] Run as a slice of a fan-out.
 * @property {string} root Contract root (the step's folder).
 * @property {Record<string, string>} parameters Input parameter values.
 * @property {Record<string, string>} [env] The OPFLOW_ENV variables of the pod's environment.
 * @property {string} workdir The OP's scratch directory.
 */
/**
 * A message to the worker.
 * @typedef {({ type: "run" } & WorkerTask) | { type: "abort", id: number }} WorkerRequest
 */
/**
 * A message of the worker.
 * @typedef {{ type: "progress", id: number, done: number, total: number }
 *   | { type: "log", id: number, text: string }
 *   | { type: "done", id: number, result: import("../contract.ts").InProcessResult }} WorkerReply
 */

/** The `workerData` marking an OP worker. */
export const OP_WORKER_MARK = "opflow-op-worker";

async function serve() {
  const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
  // Loaded here, not at the top: OP bundles include this file (for OP_WORKER_MARK) and must
  // not carry the TypeScript loader; from compiled JavaScript no loader is needed.
  if (existsSync(new URL("./runner.ts", import.meta.url))) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  const { runOp } = await import("./runner.ts");
  const { findOp } = await import("./find-op.ts");
  const { importUserModule } = await import("../user-module.ts");
  /** @type {Map<number, AbortController>} */
  const running = new Map();
  /** @param {WorkerReply} reply */
  const reply = (reply) => port.postMessage(reply);

  /** @param {WorkerTask} task */
  const run = async (task) => {
    const abort = new AbortController();
    running.set(task.id, abort);
    try {
      let mod;
      try {
        mod = await importUserModule(task.module);
      } catch (err) {
        const message = `could not import the module of OP "${task.op}" (${task.module}) in a worker thread: ${err instanceof Error ? err.message : String(err)}`;
        reply({ type: "log", id: task.id, text: `${message}\n` });
        return reply({ type: "done", id: task.id, result: { exitCode: 1, message } });
      }
      const op = findOp(mod, task.op);
      if (!op) {
        const message = `the module ${task.module} exports no OP named "${task.op}" (an OP run in a worker thread must be exported by the module that defines it)`;
        reply({ type: "log", id: task.id, text: `${message}\n` });
        return reply({ type: "done", id: task.id, result: { exitCode: 1, message } });
      }
      const result = await runOp(op, {
        root: task.root,
        parameters: task.parameters,
        env: task.env ?? {},
        workdir: task.workdir,
        ...(task.slices ? { slices: task.slices } : {}),
        progress: (done, total) => reply({ type: "progress", id: task.id, done, total }),
        log: (text) => reply({ type: "log", id: task.id, text }),
        signal: abort.signal,
      });
      reply({ type: "done", id: task.id, result });
    } finally {
      running.delete(task.id);
    }
  };

  port.on("message", (/** @type {WorkerRequest} */ msg) => {
    if (msg.type === "abort") running.get(msg.id)?.abort(new Error("stopped"));
    else void run(msg);
  });
}

// Not a top-level await: the module is also imported (for OP_WORKER_MARK) by code that CommonJS may `require`.
if (parentPort && workerData === OP_WORKER_MARK) void serve();
