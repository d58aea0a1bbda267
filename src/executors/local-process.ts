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
 *   `/tmp/out.txt` each write their own copy; a pod with paths of its own outside `/tmp` and
 *   `/mnt` (`/output`) gets its own root file system there (see `pod-root.ts`). Elsewhere {@link namespacesAvailable} is false
 *   and the engine falls back to rewriting the contract root through the environment
 *   (`OPFLOW_ROOT`, tags such as `{{inputs.artifacts.a.path}}`); literal absolute paths in a
 *   script are then shared by all steps.
 * - **As an {@link Executor}**: {@link LocalProcessExecutor} runs a pod spec's command this way.
 * - **The launcher.** Processes are started by a small helper process (`process-launcher.mjs`)
 *   rather than by forking the engine; see {@link runProcess}.
 */
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Executor, Mount, PodEnd, PodSpec } from "./executor.ts";
import { POD_ROOT_SCRATCH, bindPlan, chrootProgram, podRootPlan, type NamespacePlan } from "./pod-root.ts";
import { LAUNCHER_MARK, startChild, type ChildSpec, type LauncherReply, type LauncherRequest } from "./process-launcher.mjs";


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
  /**
   * A private mount namespace set up step by step (see pod-root.ts), replacing `mounts`: the
   * pod's own root file system. @default none
   */
  readonly namespace?: NamespacePlan;
  /** Time between SIGTERM and SIGKILL. @default 2000 ms */
  readonly graceMs?: number;
  /** Called with the pid (also the process group id) and its start time once the process started. */
  readonly onSpawn?: (pid: number, startTime?: string) => void;
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

// Runs the steps of a NamespacePlan given as arguments up to "--" (b: bind, o: overlay, u:
// detach), then the command after the root ("-": none; else chrooted into it) in $OPFLOW_CWD.
const NAMESPACE_SCRIPT = [
  'while [ "$1" != "--" ]; do case "$1" in',
  '  b) mount --rbind "$2" "$3" || exit 125; shift 3 ;;',
  '  o) (cd "$2" && mount -t overlay overlay -o "lowerdir=$3,upperdir=$4,workdir=$5" "$6") || exit 125; shift 6 ;;',
  '  u) umount -l "$2" || exit 125; shift 2 ;;',
  '  *) echo "opflow: unknown namespace step $1" >&2; exit 125 ;;',
  "esac; done; shift",
  'root=$1; chroot=$2; shift 2',
  'if [ "$root" != - ]; then exec "$chroot" "$root" /bin/sh -c \'cd "$OPFLOW_CWD" || exit 125; unset OPFLOW_CWD; exec "$@"\' sh "$@"; fi',
  'cd "$OPFLOW_CWD" || exit 125; unset OPFLOW_CWD; exec "$@"',
].join("\n");

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
 * Runs one process to its end. Processes are started by the launcher (a small helper process
 * shared by every engine of this process, see `process-launcher.mjs`), so that the engine
 * neither pays for forking its own large heap nor blocks while each child starts; where the
 * launcher cannot run, or with `OPFLOW_LAUNCHER=inline`, from this process.
 *
 * @example
 * const r = await runProcess({ argv: ["sh", "-c", "echo hi"], cwd: dir, env: { PATH: process.env.PATH ?? "" }, logFile: `${dir}/log.txt` });
 * r.exitCode; // 0
 * r.stdout;   // "hi\n"
 */
export function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  const launch = launcher();
  return launch ? launch.run(spec) : runProcessHere(spec);
}

/**
 * The local-process {@link Executor}: runs a pod's command as a process on this machine (the
 * image and resources are ignored), in a private mount namespace when the spec has mounts.
 */
export class LocalProcessExecutor implements Executor {
  readonly name = "local-process";
  readonly mounts: Executor["mounts"];

  /** @param namespaces whether processes may run in private mount namespaces ({@link namespacesAvailable}) */
  constructor(namespaces: boolean) {
    this.mounts = namespaces ? "when-needed" : "never";
  }

  run(spec: PodSpec): Promise<PodEnd> {
    let namespace: NamespacePlan | undefined;
    let scratch: string | undefined;
    if (spec.podRoot && spec.mounts.length > 0) {
      try {
        // The main container's root is backed by the step's fs/; another container of the pod
        // (init, sidecar, containerSet) gets a root of its own beside it, as in a pod.
        const other = spec.podRoot.collect === false ? `${POD_ROOT_SCRATCH}-${path.basename(spec.logFile).replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_.-]/g, "_")}` : undefined;
        const root = other ? { ...spec.podRoot, source: path.join(spec.dir, other, "upper") } : spec.podRoot;
        scratch = path.join(spec.dir, other ?? POD_ROOT_SCRATCH);
        namespace = podRootPlan(spec.dir, root, spec.mounts, `template "${spec.template}"`, other);
      } catch (err) {
        return Promise.resolve({ exitCode: 1, stdout: "", timedOut: false, aborted: false, startError: (err as Error).message });
      }
    }
    const ran = runProcess({
      argv: spec.command,
      cwd: spec.workingDir,
      env: spec.env,
      logFile: spec.logFile,
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      signal: spec.signal,
      ...(namespace ? { namespace } : spec.mounts.length > 0 ? { mounts: spec.mounts } : {}),
      // Recorded so that a resumed run can end what a killed engine left running.
      onSpawn: (pid, start) => spec.onSpawn?.(pid, start),
    });
    if (!scratch) return ran;
    // The overlay's skeleton and work folder (and another container's own root) end with the
    // process; the step's fs/ stays. Here they are plain folders: the mounts were the namespace's.
    const done = scratch;
    return ran.then((end) => rm(done, { recursive: true, force: true }).then(() => end, () => end));
  }
}

/** {@link runProcess} started from this process (no launcher). */
export function runProcessHere(spec: ProcessSpec): Promise<ProcessResult> {
  const run = startChild(childSpec(spec), (pid, start) => spec.onSpawn?.(pid, start));
  const onAbort = (): void => run.abort();
  if (spec.signal?.aborted) onAbort();
  else spec.signal?.addEventListener("abort", onAbort, { once: true });
  return run.done.then((result) => {
    spec.signal?.removeEventListener("abort", onAbort);
    return result;
  });
}

/**
 * Starts the launcher now rather than with the first process (an engine about to run process
 * steps overlaps its start with its own preparations). Resolves true once the launcher takes
 * processes, false when there is none (processes then start from this process).
 */
export function warmUpLauncher(): Promise<boolean> {
  return launcher()?.up ?? Promise.resolve(false);
}

/** The command line, directory and environment the process starts with (mounts applied). */
function childSpec(spec: ProcessSpec): ChildSpec {
  let argv = [...spec.argv];
  let env: Record<string, string> = { ...spec.env };
  let cwd = spec.cwd;
  const plan = spec.namespace ?? (spec.mounts && spec.mounts.length > 0 ? bindPlan(spec.mounts) : undefined);
  if (plan) {
    argv = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", NAMESPACE_SCRIPT, "sh", ...plan.steps, "--", plan.root, chrootProgram(), ...argv];
    env = { ...env, OPFLOW_CWD: spec.cwd };
    cwd = "/";
  }
  return {
    argv,
    cwd,
    env,
    logFile: spec.logFile,
    ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
    ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
    ...(spec.graceMs !== undefined ? { graceMs: spec.graceMs } : {}),
  };
}

/** A process the launcher was asked to run. */
interface Request {
  readonly spec: ProcessSpec;
  readonly resolve: (r: ProcessResult) => void;
  readonly onAbort: () => void;
  /** The process group the launcher reported (once started). */
  pid?: number;
}

/** The engine's side of the launcher. It holds this process open only while a step runs. */
class Launcher {
  private readonly requests = new Map<number, Request>();
  private nextId = 0;
  private ready = false;
  private dead = false;
  private markUp: (up: boolean) => void = () => undefined;
  /** Settles true when the launcher takes processes, false when it died first. */
  readonly up = new Promise<boolean>((resolve) => (this.markUp = resolve));

  constructor(private readonly helper: ChildProcess) {
    // Held open while it starts (a moment), so that whoever waits for it is not left hanging.
    helper.on("message", (msg: LauncherReply) => this.receive(msg));
    helper.on("error", (err) => this.died(err.message));
    helper.on("exit", (code, signal) => this.died(signal ? `killed by ${signal}` : `exit code ${code}`));
  }

  run(spec: ProcessSpec): Promise<ProcessResult> {
    // Until the launcher is up (a node process takes a moment to start), steps start from here.
    if (this.dead || !this.ready) return runProcessHere(spec);
    return new Promise((resolve) => {
      const id = this.nextId++;
      const onAbort = (): void => this.post({ type: "abort", id });
      if (this.requests.size === 0) this.busy();
      this.requests.set(id, { spec, resolve, onAbort });
      this.post({ type: "start", id, spec: childSpec(spec) });
      if (spec.signal?.aborted) onAbort();
      else spec.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * The launcher is gone (it could not start, or something killed it): later processes start
   * from this process; one it had not started yet starts here; one it was following is killed
   * with its group and reported as an error of its step, since nobody can tell any more how it
   * would have ended.
   */
  private died(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.markUp(false);
    if (current === this) current = null;
    for (const [id, r] of this.requests) {
      if (r.pid !== undefined) {
        killProcessGroup(r.pid);
        const message = `the process launcher stopped (${why}) while this step's process ran; the process was killed`;
        this.settle(id, r, { exitCode: 1, stdout: "", timedOut: false, aborted: false, startError: message });
      } else {
        this.requests.delete(id);
        r.spec.signal?.removeEventListener("abort", r.onAbort);
        void runProcessHere(r.spec).then(r.resolve);
      }
    }
    this.idle();
  }

  private post(msg: LauncherRequest): void {
    if (this.dead || !this.helper.connected) return;
    this.helper.send(msg, (err) => {
      if (err) this.died(err.message);
    });
  }

  private receive(msg: LauncherReply): void {
    if (msg.type === "ready") {
      this.ready = true;
      if (this.requests.size === 0) this.idle();
      this.markUp(true);
      return;
    }
    const r = this.requests.get(msg.id);
    if (!r) return;
    if (msg.type === "spawned") {
      r.pid = msg.pid;
      r.spec.onSpawn?.(msg.pid, msg.start);
    } else {
      this.settle(msg.id, r, msg.result);
    }
  }

  private settle(id: number, r: Request, result: ProcessResult): void {
    this.requests.delete(id);
    r.spec.signal?.removeEventListener("abort", r.onAbort);
    if (this.requests.size === 0) this.idle();
    r.resolve(result);
  }

  private idle(): void {
    this.helper.unref();
    this.helper.channel?.unref();
  }

  private busy(): void {
    this.helper.ref();
    this.helper.channel?.ref();
  }
}

/**
 * The launcher of this process, shared by every engine in it like a thread pool (it holds no
 * workflow's state). undefined: not started yet; null: none (disabled, or it died).
 */
let current: Launcher | null | undefined;

function launcher(): Launcher | null {
  if (current === undefined) {
    if (process.env["OPFLOW_LAUNCHER"] === "inline") {
      current = null;
    } else {
      try {
        const program = fileURLToPath(new URL("./process-launcher.mjs", import.meta.url));
        // No inherited exec arguments: the launcher is plain JavaScript and needs no loader.
        current = new Launcher(fork(program, [LAUNCHER_MARK], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] }));
      } catch {
        current = null;
      }
    }
  }
  return current;
}
