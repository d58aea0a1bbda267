/**
 * The local-process executor: runs a container or script template's command as a process on
 * this machine (the image is ignored, as in dflow's debug mode).
 *
 * - Each process gets its own process group, working directory and environment; a timeout or an
 *   abort kills the whole group (SIGTERM, then SIGKILL after a grace period).
 * - stdout and stderr go to the step's `log.txt`; stdout is also captured (Argo's
 *   `outputs.result`).
 * - **Path mapping.** Templates written for containers use absolute paths such as `/tmp/…` or
 *   `/mnt/…`. When `mounts` are given and this process may create mount namespaces (root with
 *   `unshare` available), the command runs in a private mount namespace (`unshare -m`) where each
 *   mount's host directory is bind-mounted on its target, so parallel steps writing
 *   `/tmp/out.txt` each write their own copy. Elsewhere {@link namespacesAvailable} is false
 *   and the engine falls back to rewriting the contract root through the environment
 *   (`OPFLOW_ROOT`, tags such as `{{inputs.artifacts.a.path}}`); literal absolute paths in a
 *   script are then shared by all steps.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";

/** A directory bind-mounted on `target` inside the step's private mount namespace. */
export interface Mount {
  /** Directory on this machine. */
  readonly source: string;
  /** Absolute path the process sees (`/tmp`, `/mnt`). */
  readonly target: string;
}

/** What to run. */
export interface ProcessSpec {
  /** argv; `argv[0]` is looked up on `PATH`. */
  readonly argv: readonly string[];
  /** Working directory (a path the process sees). */
  readonly cwd: string;
  /** The complete environment of the process. */
  readonly env: Readonly<Record<string, string>>;
  /** File receiving stdout and stderr (appended; created with the first output). */
  readonly logFile: string;
  /** Text written on the process's stdin. @default nothing (stdin is closed) */
  readonly stdin?: string;
  /** Kills the process group after this many milliseconds. @default no limit */
  readonly timeoutMs?: number;
  /** Kills the process group when aborted. @default never */
  readonly signal?: AbortSignal;
  /** Bind mounts of a private mount namespace. @default none: the process runs directly */
  readonly mounts?: readonly Mount[];
  /** Time between SIGTERM and SIGKILL. @default 2000 ms */
  readonly graceMs?: number;
  /** Called with the pid (also the process group id) once the process started. */
  readonly onSpawn?: (pid: number) => void;
}

/** How a process ended. */
export interface ProcessResult {
  /** Exit code; 128 + n when killed by signal n (as a container reports it). */
  readonly exitCode: number;
  /** Captured stdout. */
  readonly stdout: string;
  /** Killed because `timeoutMs` passed. */
  readonly timedOut: boolean;
  /** Killed because `signal` was aborted. */
  readonly aborted: boolean;
  /** Set when the process could not be started (e.g. command not found). */
  readonly startError?: string;
}

const MAX_CAPTURE = 16 * 1024 * 1024;
const SIGNALS = os.constants.signals as Record<string, number>;

let namespaces: boolean | undefined;

/**
 * Whether processes can run in private mount namespaces here (root, and `unshare` works).
 * Probed once per engine process.
 */
export function namespacesAvailable(): boolean {
  if (namespaces === undefined) {
    if (process.env["OPFLOW_NO_NAMESPACES"] === "1" || process.getuid?.() !== 0) {
      namespaces = false;
    } else {
      const probe = spawnSync("unshare", ["--mount", "--propagation", "private", "--", "true"], { stdio: "ignore", timeout: 5000 });
      namespaces = probe.status === 0;
    }
  }
  return namespaces;
}

// Mounts each (source, target) pair given as arguments, then execs the command after "--".
const MOUNT_SCRIPT =
  'while [ "$1" != "--" ]; do mount --bind "$1" "$2" || exit 125; shift 2; done; shift; cd "$OPFLOW_CWD" || exit 125; unset OPFLOW_CWD; exec "$@"';

/**
 * Kills the process group `pgid` if it still exists (a step left running by an engine that was
 * killed). Returns whether there was one.
 */
export function killProcessGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs one process to completion.
 *
 * @example
 * const r = await runProcess({ argv: ["sh", "-c", "echo hi"], cwd: dir, env: { PATH: process.env.PATH ?? "" }, logFile: `${dir}/log.txt` });
 * r.exitCode; // 0
 * r.stdout;   // "hi\n"
 */
export function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  return new Promise((resolve) => {
    let argv = [...spec.argv];
    let env: Record<string, string> = { ...spec.env };
    let cwd = spec.cwd;
    if (spec.mounts && spec.mounts.length > 0) {
      const ordered = [...spec.mounts].sort((a, b) => b.target.length - a.target.length);
      // Mount /tmp last: sources may live under it.
      ordered.sort((a, b) => Number(a.target === "/tmp") - Number(b.target === "/tmp"));
      const pairs = ordered.flatMap((m) => [m.source, m.target]);
      argv = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", MOUNT_SCRIPT, "sh", ...pairs, "--", ...argv];
      env = { ...env, OPFLOW_CWD: spec.cwd };
      cwd = "/";
    }
    // The log file is created with the first output (a quiet step costs no file).
    let log: number | undefined;
    const writeLog = (data: string | Buffer): void => {
      log ??= fs.openSync(spec.logFile, "a");
      if (typeof data === "string") fs.writeSync(log, data);
      else fs.writeSync(log, data);
    };
    let stdout = "";
    let stdoutBytes = 0;
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;

    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd,
      env,
      detached: true,
      stdio: [spec.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });

    if (child.pid !== undefined) spec.onSpawn?.(child.pid);
    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const terminate = (): void => {
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), spec.graceMs ?? 2000);
      killTimer.unref();
    };
    const onAbort = (): void => {
      aborted = true;
      terminate();
    };

    const finish = (result: ProcessResult): void => {
      if (settled) return;
      settled = true;
      if (deadline) clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      spec.signal?.removeEventListener("abort", onAbort);
      // Whatever the main process left behind in its group goes too (Argo kills the pod).
      if (result.timedOut || result.aborted) killGroup("SIGKILL");
      if (log === undefined) resolve(result);
      else fs.close(log, () => resolve(result));
    };

    child.stdout?.on("data", (chunk: Buffer) => {
      writeLog(chunk);
      if (stdoutBytes < MAX_CAPTURE) {
        stdout += chunk.toString("utf8");
        stdoutBytes += chunk.length;
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      writeLog(chunk);
    });
    if (spec.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => undefined);
      child.stdin.end(spec.stdin);
    }
    child.on("error", (err) => {
      const message = `could not start ${JSON.stringify(spec.argv[0])}: ${err.message}`;
      writeLog(`${message}\n`);
      finish({ exitCode: 127, stdout, timedOut, aborted, startError: message });
    });
    const onEnd = (code: number | null, signal: NodeJS.Signals | null): void => {
      const exitCode = code ?? (signal ? 128 + (SIGNALS[signal] ?? 0) : 1);
      finish({ exitCode, stdout, timedOut, aborted });
    };
    child.on("close", onEnd);
    // A background grandchild may hold stdout open: the step ends with its main process.
    child.on("exit", (code, signal) => {
      setTimeout(() => onEnd(code, signal), 200).unref();
    });

    if (spec.timeoutMs !== undefined && Number.isFinite(spec.timeoutMs)) {
      deadline = setTimeout(() => {
        timedOut = true;
        terminate();
      }, Math.max(0, spec.timeoutMs));
    }
    if (spec.signal) {
      if (spec.signal.aborted) onAbort();
      else spec.signal.addEventListener("abort", onAbort, { once: true });
    }
  });
}
