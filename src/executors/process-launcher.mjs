// @ts-check
/**
 * Starting and following the local engine's step processes.
 *
 * {@link startChild} starts one process in its own process group, sends its stdout and stderr to
 * the log file, captures stdout, and kills the whole group on a deadline or an abort.
 *
 * Run as a program (`node process-launcher.mjs opflow-process-launcher`, forked with an IPC
 * channel by `local-process.ts`) this module is the **launcher**: a small process that starts
 * the engine's step processes on request and reports their pids and ends. Node forks the whole
 * calling process to start a child; forking the engine — a large heap that keeps changing while
 * the child has not yet exec'd — costs it copy-on-write faults on every page it touches next,
 * and blocks its thread meanwhile. The launcher is small and mostly idle, so starting processes
 * there is cheap, and the engine's own thread stays free for the steps' bookkeeping.
 *
 * The launcher follows the engine: it ignores the terminal's signals (Ctrl-C reaches the whole
 * foreground process group; the engine decides what to stop and tells the launcher), and when
 * the engine goes away (its end of the channel closes, even after SIGKILL) it ends every step
 * process it started and exits.
 *
 * Plain JavaScript because it runs without the TypeScript loader; `// @ts-check` and the JSDoc
 * types keep it checked by `tsc`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { processStartTime } from "./proc-start.mjs";

/**
 * What starting one process needs (the serialisable part of a `ProcessSpec`).
 * @typedef {object} ChildSpec
 * @property {string[]} argv argv; `argv[0]` is looked up on the `PATH` of `env`.
 * @property {string} cwd Working directory.
 * @property {Record<string, string>} env The complete environment.
 * @property {string} logFile Receives stdout and stderr (appended; created with the first output).
 * @property {string} [stdin] Written on stdin; stdin is closed when absent.
 * @property {number} [timeoutMs] Kills the group after this long.
 * @property {number} [graceMs] Time between SIGTERM and SIGKILL (2000 ms when absent).
 */

/**
 * How a process ended (the shape of `ProcessResult`).
 * @typedef {object} ChildResult
 * @property {number} exitCode Exit code; 128 + n when killed by signal n.
 * @property {string} stdout Captured stdout (its last 256 KiB and one byte: see MAX_CAPTURE).
 * @property {boolean} timedOut Killed because `timeoutMs` passed.
 * @property {boolean} aborted Killed because it was aborted.
 * @property {string} [startError] Set when the process could not be started.
 */

/**
 * A started process.
 * @typedef {object} RunningChild
 * @property {Promise<ChildResult>} done Settles once the process ended and its log is closed.
 * @property {() => void} abort Ends the process group: SIGTERM, then SIGKILL after the grace period.
 */

/**
 * A request to the launcher.
 * @typedef {{ type: "start", id: number, spec: ChildSpec } | { type: "abort", id: number }} LauncherRequest
 */
/**
 * A report of the launcher.
 * @typedef {{ type: "ready" } | { type: "spawned", id: number, pid: number, start?: string } | { type: "done", id: number, result: ChildResult }} LauncherReply
 */

/**
 * How much of a step's stdout is kept: Argo keeps the last 256 kB as `outputs.result`
 * (executor.go `CaptureScriptResult`), after trimming one trailing newline, hence one byte more.
 */
const MAX_CAPTURE = 256 * 1024 + 1;
const SIGNALS = /** @type {Record<string, number>} */ (os.constants.signals);

/** The argument that makes this module serve as the launcher. */
export const LAUNCHER_MARK = "opflow-process-launcher";

/**
 * Starts one process.
 * @param {ChildSpec} spec
 * @param {(pid: number, start: string | undefined) => void} onSpawn Called with the pid (also the process
 *   group id) and its start time, read at once: a process that ends fast is not yet reaped then.
 * @returns {RunningChild}
 */
export function startChild(spec, onSpawn) {
  /** @type {(r: ChildResult) => void} */
  let resolve = () => undefined;
  /** @type {Promise<ChildResult>} */
  const done = new Promise((r) => (resolve = r));

  /** @type {number | undefined} */
  let log;
  /** Why the log could not be written (a full disk …): the step then ends in error, naming the file. */
  /** @type {string | undefined} */
  let logError;
  /** @param {string | Buffer} data */
  const writeLog = (data) => {
    if (logError !== undefined) return;
    try {
      log ??= fs.openSync(spec.logFile, "a");
      // Two calls for fs.writeSync's two overloads (text, bytes).
      if (typeof data === "string") fs.writeSync(log, data);
      else fs.writeSync(log, data);
    } catch (err) {
      const e = /** @type {NodeJS.ErrnoException} */ (err);
      logError = `cannot write the step's log ${spec.logFile}: ${e.code ?? ""}${e.code ? " " : ""}(${e.message.replace(/^[A-Z]+: /, "")})`;
      terminate();
    }
  };
  /** The tail of stdout, in chunks, at least MAX_CAPTURE bytes once that much came. */
  /** @type {Buffer[]} */
  const captured = [];
  let capturedBytes = 0;
  /** The captured tail as text: its last MAX_CAPTURE bytes, never starting inside a character. */
  const capturedText = () => {
    let bytes = Buffer.concat(captured);
    if (bytes.length > MAX_CAPTURE) {
      bytes = bytes.subarray(bytes.length - MAX_CAPTURE);
      let start = 0;
      while (start < bytes.length && start < 4 && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
      bytes = bytes.subarray(start);
    }
    return bytes.toString("utf8");
  };
  let timedOut = false;
  let aborted = false;
  let settled = false;
  /** @type {NodeJS.Timeout | undefined} */
  let killTimer;
  /** @type {{ clear(): void } | undefined} */
  let deadline;

  const [command = "", ...args] = spec.argv;
  /** @type {import("node:child_process").ChildProcess} */
  let child;
  try {
    child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: [spec.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
  } catch (err) {
    // spawn throws for what the kernel refuses at once (E2BIG: arguments and environment too
    // large): the step ends in error with the reason; the launcher and the engine carry on.
    const e = /** @type {NodeJS.ErrnoException} */ (err);
    const message = e.code === "E2BIG" ? tooBig(command, spec) : `could not start ${JSON.stringify(command.slice(0, 200))}: ${e.message}`;
    writeLog(`${message}\n`);
    if (log !== undefined) {
      try {
        fs.closeSync(log);
      } catch {
        /* the log is best effort here */
      }
    }
    resolve({ exitCode: 127, stdout: "", timedOut: false, aborted: false, startError: message });
    return { done, abort: () => undefined };
  }
  if (child.pid !== undefined) onSpawn(child.pid, processStartTime(child.pid));

  /** @param {NodeJS.Signals} sig */
  const killGroup = (sig) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const terminate = () => {
    if (killTimer) return;
    killGroup("SIGTERM");
    killTimer = setTimeout(() => killGroup("SIGKILL"), spec.graceMs ?? 2000);
    killTimer.unref();
  };

  /** @param {ChildResult} result */
  const finish = (result) => {
    if (settled) return;
    settled = true;
    deadline?.clear();
    if (killTimer) clearTimeout(killTimer);
    // Whatever the main process left behind in its group goes too (Argo kills the pod).
    if (result.timedOut || result.aborted) killGroup("SIGKILL");
    if (log !== undefined) {
      try {
        fs.closeSync(log);
      } catch {
        /* closing can report a failed write-back (full disk): logError says it */
      }
    }
    resolve(logError !== undefined && result.startError === undefined ? { ...result, startError: logError } : result);
  };

  child.stdout?.on("data", (/** @type {Buffer} */ chunk) => {
    writeLog(chunk);
    captured.push(chunk);
    capturedBytes += chunk.length;
    while (captured.length > 1 && capturedBytes - (captured[0]?.length ?? 0) >= MAX_CAPTURE) capturedBytes -= captured.shift()?.length ?? 0;
  });
  child.stderr?.on("data", (/** @type {Buffer} */ chunk) => writeLog(chunk));
  if (spec.stdin !== undefined && child.stdin) {
    child.stdin.on("error", () => undefined);
    child.stdin.end(spec.stdin);
  }
  child.on("error", (err) => {
    const message = `could not start ${JSON.stringify(command)}: ${err.message}`;
    writeLog(`${message}\n`);
    finish({ exitCode: 127, stdout: capturedText(), timedOut, aborted, startError: message });
  });
  /**
   * @param {number | null} code
   * @param {NodeJS.Signals | null} signal
   */
  const onEnd = (code, signal) => {
    const exitCode = code ?? (signal ? 128 + (SIGNALS[signal] ?? 0) : 1);
    finish({ exitCode, stdout: capturedText(), timedOut, aborted });
  };
  child.on("close", onEnd);
  // A background grandchild may hold stdout open: the step ends with its main process.
  child.on("exit", (code, signal) => {
    setTimeout(() => onEnd(code, signal), 200).unref();
  });

  if (spec.timeoutMs !== undefined && Number.isFinite(spec.timeoutMs)) {
    deadline = longTimeout(() => {
      timedOut = true;
      terminate();
    }, Math.max(0, spec.timeoutMs));
  }

  return {
    done,
    abort: () => {
      if (settled) return;
      aborted = true;
      terminate();
    },
  };
}

/** The launcher's main loop (see the module's description). */
function serve() {
  /** @type {Map<number, RunningChild>} */
  const running = new Map();
  /** @param {LauncherReply} reply */
  const report = (reply) => {
    if (process.connected) process.send?.(reply);
  };
  for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"])) process.on(sig, () => undefined);
  process.on("message", (/** @type {LauncherRequest} */ msg) => {
    if (msg.type === "abort") {
      running.get(msg.id)?.abort();
      return;
    }
    const id = msg.id;
    const run = startChild(msg.spec, (pid, start) => report({ type: "spawned", id, pid, ...(start !== undefined ? { start } : {}) }));
    running.set(id, run);
    void run.done.then((result) => {
      running.delete(id);
      report({ type: "done", id, result });
    });
  });
  process.on("disconnect", () => {
    const ends = [...running.values()].map((run) => {
      run.abort();
      return run.done;
    });
    void Promise.all(ends).then(() => process.exit(0));
  });
  report({ type: "ready" });
}

if (process.send && process.argv[2] === LAUNCHER_MARK) serve();

/**
 * `setTimeout` for any delay: Node fires delays over 2^31-1 ms (24.8 days) at once, so long
 * deadlines chain shorter timers (the engine's src/long-timer.ts does the same in TypeScript).
 * @param {() => void} fn
 * @param {number} ms
 * @returns {{ clear(): void }}
 */
function longTimeout(fn, ms) {
  const MAX = 2 ** 31 - 1;
  const due = Date.now() + ms;
  /** @type {NodeJS.Timeout | undefined} */
  let handle;
  const arm = () => {
    const left = due - Date.now();
    handle = left > MAX ? setTimeout(arm, MAX) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}

/** Linux's limit on one argument or environment string (MAX_ARG_STRLEN); Argo's MaxEnvVarLen is the same. */
const MAX_ARG_BYTES = 131072;

/**
 * Why the kernel refused to start `command` with E2BIG: the first argument or environment
 * variable over {@link MAX_ARG_BYTES}, else the total size.
 * @param {string} command
 * @param {ChildSpec} spec
 */
function tooBig(command, spec) {
  const name = JSON.stringify(command.length > 200 ? `${command.slice(0, 200)}…` : command);
  const why = (/** @type {string} */ what) => `could not start ${name}: ${what} (E2BIG: the system takes at most ${MAX_ARG_BYTES} bytes per argument or variable, and about 2 MB in all)`;
  for (const [i, a] of spec.argv.entries()) {
    const n = Buffer.byteLength(a);
    if (n > MAX_ARG_BYTES) return why(i === 0 ? `the command is ${n} bytes` : `argument ${i} is ${n} bytes`);
  }
  for (const [k, v] of Object.entries(spec.env ?? {})) {
    const n = Buffer.byteLength(k) + 1 + Buffer.byteLength(v ?? "");
    if (n > MAX_ARG_BYTES) return why(`environment variable ${JSON.stringify(k.slice(0, 100))} is ${n} bytes`);
  }
  const total = spec.argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0) + Object.entries(spec.env ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v ?? "") + 2, 0);
  return why(`its arguments and environment are ${total} bytes`);
}
