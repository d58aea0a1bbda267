/**
 * The Executor seam: how one pod of the local engine runs. The engine resolves a container or
 * script template into a {@link PodSpec} — command, environment, working directory, the step's
 * folder with its inputs laid out, mounts, image and resources, deadline — and hands it to an
 * {@link Executor}, which runs it, honours the abort signal and the deadline, and reports how it
 * ended ({@link PodEnd}). The engine then collects the outputs from the step's folder, whatever
 * ran the pod.
 *
 * Implementations:
 * - {@link LocalProcessExecutor} (`local-process.ts`): a process on this machine, optionally in
 *   a private mount namespace (the default for container and script templates);
 * - {@link BindingExecutor} (`in-process.ts`): a template's local binding — the OP called in the
 *   engine's process, or in a worker thread for OPs with `thread: "worker"` (both are
 *   `LocalBinding`s).
 *
 * **Adding an executor** (a container runtime such as podman, a batch system): write a class
 * implementing {@link Executor} in its own file here, importing nothing of the engine
 * (`debug/`): run `spec.command` in `spec.image` with `spec.env`, `spec.workingDir` and every
 * `spec.mounts` entry (host `source` seen at `target`; the step's folder is mounted on `/tmp`, the
 * contract root), apply `spec.resources`, send stdout and stderr to `spec.logFile`, return the
 * captured stdout, kill the pod when `spec.signal` aborts (`aborted: true`) or
 * `spec.timeoutMs` passes (`timedOut: true`), report a pod that could not start as `startError`.
 * Say with {@link Executor.mounts} `"always"` that the pod always sees its folder at `/tmp`, and
 * show the pod its declared paths outside `/tmp` and `/mnt` at their places ({@link PodRoot}).
 * Then let the engine choose it (`EngineConfig.executor` in `debug/engine.ts`, set by
 * `runWorkflow`'s options) and run the engine's tests with it.
 */

/** A host folder the pod sees at another path. */
export interface Mount {
  /** Folder on this machine. */
  readonly source: string;
  /** Absolute path the pod sees (`/tmp`, `/mnt`, a volume's mount path). */
  readonly target: string;
}

/**
 * The pod's own file system: the absolute paths a template declares outside `/tmp` and `/mnt`
 * (`/output`, `/data/in.csv`, a working directory `/app`, a volume at `/workspace`), which in
 * a container are the container's and never this machine's. The engine keeps them in the
 * step's folder, `<source>/<path>` (`<step>/fs/output`): it lays inputs out there before the
 * pod runs and reads outputs from there after it ended. An executor that honours this shows
 * the pod each of these paths at its declared place, backed by `source`, and never creates or
 * changes anything of this machine at those paths.
 */
export interface PodRoot {
  /** Folder of this machine holding the pod's own file system (`<step>/fs`): `/output` is `<source>/output`. */
  readonly source: string;
  /** Input artifact paths: laid out at `<source>/<path>` before the pod runs. */
  readonly inputs: readonly string[];
  /** Output parameter and artifact paths: read from `<source>/<path>` after the pod ended. */
  readonly outputs: readonly string[];
  /** Other declared places of the pod: its working directory and the mount points of its volumes. */
  readonly others: readonly string[];
  /**
   * Whether the engine reads `outputs` from this container (the main one, not an init
   * container or a sidecar): an executor whose containers keep their files to themselves
   * copies them to `<source>/<path>` when it ends. @default true
   */
  readonly collect?: boolean;
}

/** Resource requests and limits of a container (Kubernetes quantities: `"500m"`, `"1Gi"`). */
export interface PodResources {
  readonly requests?: Readonly<Record<string, string>>;
  readonly limits?: Readonly<Record<string, string>>;
}

/** One pod to run: a container or script template with every tag resolved. */
export interface PodSpec {
  /** The pod's name (the node id): for messages and labels. */
  readonly name: string;
  /** The template's name. */
  readonly template: string;
  /** The container image; executors that run on this machine ignore it. */
  readonly image?: string;
  /**
   * What to run: the container's command and args, or the script's command and its file.
   * Empty for a local binding (the template's function is the program).
   */
  readonly command: readonly string[];
  /** The complete environment (the contract's variables included). */
  readonly env: Readonly<Record<string, string>>;
  /** Working directory, as the pod sees it. */
  readonly workingDir: string;
  /**
   * The step's folder on this machine (the contract root: `inputs/`, `outputs/`, `workdir/`),
   * inputs laid out; outputs are collected from it after the run.
   */
  readonly dir: string;
  /** Input parameter values by name (bindings read them here, processes from files or tags). */
  readonly parameters: Readonly<Record<string, string>>;
  /** Host folders the pod sees elsewhere; empty when the pod sees host paths as they are. */
  readonly mounts: readonly Mount[];
  /**
   * The pod's own file system, when the template declares absolute paths outside `/tmp` and
   * `/mnt` and the pod sees mounts ({@link Executor.mounts}). @default none
   */
  readonly podRoot?: PodRoot;
  /** The container's resource requests and limits. */
  readonly resources?: PodResources;
  /** Receives stdout and stderr (appended; created with the first output). */
  readonly logFile: string;
  /** Kill the pod after this many milliseconds. @default no limit */
  readonly timeoutMs?: number;
  /** Kill the pod when aborted (the engine stops). */
  readonly signal: AbortSignal;
  /**
   * Called with the process group id once a process started (a resumed run kills what a dead
   * engine left), and its start time where it was read at once (Linux).
   */
  onSpawn?(pid: number, startTime?: string): void;
  /** Called with `N/M` progress reported other than through the progress file (bindings). */
  onProgress?(progress: string): void;
}

/** How a pod ended. */
export interface PodEnd {
  /** Exit code; 128 + n when killed by signal n (as a container reports it). */
  readonly exitCode: number;
  /** Captured stdout (Argo's `outputs.result`). */
  readonly stdout: string;
  /** Killed because `timeoutMs` passed. */
  readonly timedOut: boolean;
  /** Killed because `signal` was aborted. */
  readonly aborted: boolean;
  /** Set when the pod could not be started (e.g. command not found): the step ends Error. */
  readonly startError?: string;
  /** Why a failed pod failed, when it says more than its exit code. */
  readonly message?: string;
}

/** Runs pods. */
export interface Executor {
  /** A short name for messages (`local-process`, `in-process`, `podman`). */
  readonly name: string;
  /**
   * Whether the pod sees `spec.mounts` (the step's folder at `/tmp`): `"never"` (it sees host
   * paths; the engine maps declared paths into the step's folder itself), `"when-needed"`
   * (only for templates that use `/tmp` or `/mnt` paths: mounting costs), `"always"`.
   */
  readonly mounts: "never" | "when-needed" | "always";
  /**
   * What a pod's environment starts from, before its template's `env` and the contract's
   * variables: this machine's (`"host"`, a local process) or nothing but what its image sets
   * (`"image"`, a container).
   * @default "host"
   */
  readonly baseEnvironment?: "host" | "image";
  /**
   * How OP templates run with this executor: through their in-process bindings
   * (`"in-process"`), or from their bundles in the pod's image, as on a cluster (`"bundle"`:
   * the workflow is then compiled with bundles, and they are put in the run's storage first).
   * @default "in-process"
   */
  readonly opTemplates?: "in-process" | "bundle";
  /** Runs one pod to its end; never rejects for the pod's own failure. */
  run(spec: PodSpec): Promise<PodEnd>;
}
