/**
 * Worker threads for CPU-bound OPs run by the local engine (`OPTemplate.fromOp(op, { thread:
 * "worker" })`). An in-process OP shares the engine's thread: one that computes for seconds
 * freezes the engine (its progress display, its timers, every other step) and runs alone on one
 * core. In a worker thread it runs beside the engine, as many at once as there are cores, and a
 * deadline or a stop can end it even when it never looks at its abort signal.
 *
 * The pool is shared by every engine of the process (like a thread pool, it holds no workflow's
 * state); its threads start on demand, and hold the process open only while they run a task.
 */
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { type InProcessResult, type InProcessTask, type LocalBinding, opflowEnvOf } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import type { OPDefinition } from "./op.ts";
import { OP_WORKER_MARK, type WorkerReply, type WorkerRequest, type WorkerTask } from "./op-worker.mjs";
import type { SliceSpec } from "./slices.ts";

/** Time an aborted OP gets to return before its thread is ended. */
const ABORT_GRACE_MS = 2000;

interface Job {
  readonly task: Omit<WorkerTask, "id">;
  readonly from: InProcessTask;
  readonly resolve: (r: InProcessResult) => void;
}

/** One worker thread and the job it runs. */
class OpThread {
  private readonly worker: Worker;
  private job: (Job & { id: number; onAbort: () => void; killTimer?: NodeJS.Timeout }) | undefined;
  private dead = false;

  constructor(
    private readonly pool: OpWorkerPool,
    program: URL,
  ) {
    this.worker = new Worker(program, { workerData: OP_WORKER_MARK });
    this.worker.unref();
    this.worker.on("message", (msg: WorkerReply) => this.receive(msg));
    this.worker.on("error", (err) => this.end(`its worker thread failed: ${err.message}`));
    this.worker.on("exit", (code) => this.end(`its worker thread exited (code ${code})`));
  }

  start(id: number, job: Job): void {
    const onAbort = (): void => {
      const current = this.job;
      if (!current || current.id !== id || current.killTimer) return;
      this.post({ type: "abort", id });
      // An OP that ignores its signal loses its thread.
      current.killTimer = setTimeout(() => {
        this.end(`the OP did not return within ${ABORT_GRACE_MS} ms of being stopped, so its worker thread was ended`, 143);
        void this.worker.terminate();
      }, ABORT_GRACE_MS);
      current.killTimer.unref();
    };
    this.job = { ...job, id, onAbort };
    this.worker.ref();
    this.post({ type: "run", id, ...job.task });
    if (job.from.signal.aborted) onAbort();
    else job.from.signal.addEventListener("abort", onAbort, { once: true });
  }

  private post(msg: WorkerRequest): void {
    if (!this.dead) this.worker.postMessage(msg);
  }

  private receive(msg: WorkerReply): void {
    const job = this.job;
    if (!job || msg.id !== job.id) return;
    if (msg.type === "progress") job.from.progress(msg.done, msg.total);
    else if (msg.type === "log") job.from.log(msg.text);
    else {
      this.settle(msg.result);
      if (!this.dead) this.pool.idle(this);
    }
  }

  /** Settles the current job, if any. */
  private settle(result: InProcessResult): void {
    const job = this.job;
    if (!job) return;
    this.job = undefined;
    if (job.killTimer) clearTimeout(job.killTimer);
    job.from.signal.removeEventListener("abort", job.onAbort);
    this.worker.unref();
    job.resolve(result);
  }

  /** The thread is gone (or being ended): its job fails with `why`, the pool forgets it. */
  private end(why: string, exitCode = 1): void {
    if (this.dead) return;
    this.dead = true;
    this.settle({ exitCode, message: why });
    this.pool.gone(this);
  }
}

/** The worker threads of this process. */
class OpWorkerPool {
  private readonly threads = new Set<OpThread>();
  private readonly free: OpThread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;

  constructor(
    private readonly size: number,
    private readonly program: URL,
  ) {}

  run(job: Job): void {
    const thread = this.free.pop() ?? (this.threads.size < this.size ? this.spawn() : undefined);
    if (thread) thread.start(this.nextId++, job);
    else this.queue.push(job);
  }

  private spawn(): OpThread {
    const t = new OpThread(this, this.program);
    this.threads.add(t);
    return t;
  }

  /** `thread` finished its job: it takes the next one, or waits. */
  idle(thread: OpThread): void {
    const next = this.queue.shift();
    if (next) thread.start(this.nextId++, next);
    else this.free.push(thread);
  }

  /** `thread` ended: a queued job gets a new thread. */
  gone(thread: OpThread): void {
    this.threads.delete(thread);
    const i = this.free.indexOf(thread);
    if (i >= 0) this.free.splice(i, 1);
    const next = this.queue.shift();
    if (next) this.run(next);
  }
}

let pool: OpWorkerPool | undefined;

/**
 * How many worker threads run OPs at once: `OPFLOW_WORKER_THREADS`, else one per core the
 * process may use.
 */
export function workerThreadCount(): number {
  const n = Number(process.env["OPFLOW_WORKER_THREADS"]);
  return Number.isInteger(n) && n > 0 ? n : os.availableParallelism();
}

/** The module a worker thread imports to find `op` (refused when it cannot be told). */
export function workerModule(op: OPDefinition): string {
  if (!op.modulePath) {
    throw new ValidationError(`OP "${op.name}": thread "worker" needs to know which module defines the OP, and it cannot be told here; define the OP in a module of its own`);
  }
  return op.modulePath;
}

/**
 * The local binding of an OP that runs in a worker thread: the thread imports the OP's module
 * (`op.modulePath`) again, so the module must export the OP and be importable without side
 * effects (no workflow run at its top level).
 */
export function workerBinding(op: OPDefinition, slices?: SliceSpec): LocalBinding {
  const module = workerModule(op);
  return (from) =>
    new Promise<InProcessResult>((resolve) => {
      pool ??= new OpWorkerPool(workerThreadCount(), new URL("./op-worker.mjs", import.meta.url));
      const task: Omit<WorkerTask, "id"> = {
        module,
        op: op.name,
        root: from.root,
        parameters: { ...from.parameters },
        env: opflowEnvOf(from.env),
        workdir: path.join(from.root, "workdir"),
        ...(slices ? { slices } : {}),
      };
      pool.run({ task, from, resolve });
    });
}
