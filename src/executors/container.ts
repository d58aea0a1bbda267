/**
 * The container executor's runner: runs one pod's container with **podman**, as a Kubernetes
 * node would run it — from its image (never pulled: images come from this machine, through an
 * image map for offline names), without network, with the step's inputs and outputs mounted at
 * their declared paths, its environment, working directory, command and args, and cpu and
 * memory limits where podman can apply them. A timeout or an abort stops the container
 * (`podman kill`, SIGTERM then SIGKILL after a grace period) and removes it.
 *
 * stdout and stderr go to the step's log file; stdout is also captured (Argo's
 * `outputs.result`). Exit codes are the container's (137 when killed); podman's own failures
 * (exit 125: image missing, bad option) are reported as start errors with podman's message.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EngineError } from "../errors.ts";
import type { Executor, PodEnd, PodRoot, PodSpec } from "./executor.ts";
import type { ProcessResult } from "./local-process.ts";

/** A file or directory of this machine bind-mounted into the container. */
export interface ContainerMount {
  /** Path on this machine (must exist). */
  readonly source: string;
  /** Absolute path inside the container. */
  readonly target: string;
  /** Mount read-only. @default false */
  readonly readOnly?: boolean;
}

/** cpu and memory limits (Kubernetes quantities, as in `resources.limits`). */
export interface ContainerLimits {
  /** CPUs: `"2"`, `"500m"`, `1.5`. @default no limit */
  readonly cpu?: string | number;
  /** Memory: `"512Mi"`, `"1G"`, bytes as a number. @default no limit */
  readonly memory?: string | number;
}

/** What to run in a container. */
export interface ContainerSpec {
  /** Image as this machine knows it (after the image map); never pulled. */
  readonly image: string;
  /** Replaces the image's entrypoint (Kubernetes `command`). @default the image's */
  readonly command?: readonly string[];
  /** Replaces the image's cmd (Kubernetes `args`). @default the image's, when `command` is unset too */
  readonly args?: readonly string[];
  /** Environment added to the image's. @default none */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory inside the container. @default the image's */
  readonly workingDir?: string;
  /**
   * Folder of this machine bound at `workingDir` when the image has no such folder: Kubernetes
   * makes a missing working directory, podman refuses to start. @default none: podman's refusal
   */
  readonly workingDirSource?: string;
  /** Bind mounts. @default none */
  readonly mounts?: readonly ContainerMount[];
  /** File receiving stdout and stderr (appended; created with the first output). */
  readonly logFile: string;
  /** Text written on the container's stdin. @default nothing (stdin is closed) */
  readonly stdin?: string;
  /** Stops the container after this many milliseconds. @default no limit */
  readonly timeoutMs?: number;
  /** Stops the container when aborted. @default never */
  readonly signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL when stopping. @default 2000 ms */
  readonly graceMs?: number;
  /** cpu and memory limits. @default none */
  readonly limits?: ContainerLimits;
  /** Network mode (`podman run --network`). @default "none", as an offline pod */
  readonly network?: string;
  /** Container name. @default `opflow-<random>` */
  readonly name?: string;
  /**
   * Files and folders copied out of the container once it ended (`podman cp`), before it is
   * removed: `from` in the container to `to` on this machine (replaced). A path the container
   * does not have is skipped. @default none
   */
  readonly copyOut?: readonly { readonly from: string; readonly to: string }[];
  /** Called with the container's name once podman was started (to stop it after a crash). */
  readonly onStart?: (name: string) => void;
  /** How podman is run. @default {@link defaultPodman} */
  readonly podman?: PodmanOptions;
}

/** How podman is started. */
export interface PodmanOptions {
  /** The podman program. @default "podman" */
  readonly program?: string;
  /**
   * `CONTAINERS_CONF` for podman (runtime, cgroup manager, ulimits).
   * @default `$CONTAINERS_CONF`, else the project's `scripts/containers.conf`
   */
  readonly containersConf?: string;
}

/** The project's podman settings (runc; see `scripts/containers.conf`). */
const PROJECT_CONTAINERS_CONF = fileURLToPath(new URL("../../scripts/containers.conf", import.meta.url));

/** podman as the project uses it: `$CONTAINERS_CONF`, else `scripts/containers.conf`. */
export function defaultPodman(env: Readonly<Record<string, string | undefined>> = process.env): PodmanOptions {
  const conf = env["CONTAINERS_CONF"] ?? (existsSync(PROJECT_CONTAINERS_CONF) ? PROJECT_CONTAINERS_CONF : undefined);
  return { program: env["OPFLOW_PODMAN"] ?? "podman", ...(conf ? { containersConf: conf } : {}) };
}

function podmanEnv(options: PodmanOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (options.containersConf) env["CONTAINERS_CONF"] = options.containersConf;
  return env;
}

/**
 * Whether podman can run containers here; when not, why (for tests that skip with a reason
 * and for the CLI's error). Probed by `podman info`.
 */
export function podmanStatus(options: PodmanOptions = defaultPodman()): { readonly ok: boolean; readonly reason?: string } {
  const probe = spawnSync(options.program ?? "podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"], { env: podmanEnv(options), encoding: "utf8", timeout: 30_000 });
  if (probe.error) return { ok: false, reason: `podman is not installed (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message}); apt-get install -y podman runc` };
  if (probe.status !== 0) return { ok: false, reason: `podman info failed: ${(probe.stderr || probe.stdout).trim().split("\n").slice(-1)[0] ?? ""}` };
  return { ok: true };
}

/** Whether `image` is present on this machine. */
export function imageExists(image: string, options: PodmanOptions = defaultPodman()): boolean {
  return spawnSync(options.program ?? "podman", ["image", "exists", image], { env: podmanEnv(options), timeout: 30_000 }).status === 0;
}

const BINARY_SUFFIX: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL_SUFFIX: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3 };

/**
 * A Kubernetes quantity as a number (`"500m"` → 0.5, `"64Mi"` → 67108864, `"1G"` → 1e9).
 * @throws EngineError naming `what` for anything else.
 */
export function parseQuantity(value: string | number, what: string): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value > 0) return value;
    throw new EngineError(`${what}: expects a positive quantity, got ${value}`);
  }
  const m = /^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?\s*$/.exec(value);
  const factor = m ? (BINARY_SUFFIX[m[2] ?? ""] ?? DECIMAL_SUFFIX[m[2] ?? ""]) : undefined;
  if (!m || factor === undefined || Number(m[1]) <= 0) {
    throw new EngineError(`${what}: expects a Kubernetes quantity such as "500m", "2", "512Mi" or "1G", got ${JSON.stringify(value)}`);
  }
  return Number(m[1]) * factor;
}

/** The `podman run` options of cpu and memory limits. */
export function limitOptions(limits: ContainerLimits | undefined, where = "container"): string[] {
  const out: string[] = [];
  if (limits?.cpu !== undefined) out.push(`--cpus=${Number(parseQuantity(limits.cpu, `${where}: limits.cpu`).toFixed(3))}`);
  if (limits?.memory !== undefined) {
    const bytes = Math.ceil(parseQuantity(limits.memory, `${where}: limits.memory`));
    // podman refuses less than 6 MB; a Kubernetes pod that small would be OOM-killed at once anyway.
    out.push(`--memory=${Math.max(bytes, 6 * 2 ** 20)}b`);
  }
  return out;
}

/** A field of podman's `--mount` option, quoted as CSV when it holds a comma or a quote. */
function mountField(text: string): string {
  return /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** podman's `--mount` value of a bind mount. */
export function mountOption(m: ContainerMount): string {
  return ["type=bind", mountField(`source=${m.source}`), mountField(`destination=${m.target}`), ...(m.readOnly ? ["readonly=true"] : [])].join(",");
}

/** The `podman run` command line of `spec` (without the program). */
export function podmanRunArgs(spec: ContainerSpec, name: string): string[] {
  // A container whose files are copied out afterwards is removed after that.
  const argv = ["run", ...((spec.copyOut?.length ?? 0) > 0 ? [] : ["--rm"]), "--name", name, "--pull=never", `--network=${spec.network ?? "none"}`, "--log-driver=none"];
  if (spec.stdin !== undefined) argv.push("--interactive");
  for (const m of spec.mounts ?? []) {
    if (!path.posix.isAbsolute(m.target)) throw new EngineError(`container: mount target ${JSON.stringify(m.target)} must be an absolute path`);
    // --mount, not --volume: step folders have ":" in their names ("sleep(0:20)").
    argv.push("--mount", mountOption(m));
  }
  for (const [k, v] of Object.entries(spec.env ?? {})) {
    if (!k || k.includes("=")) throw new EngineError(`container: environment variable name ${JSON.stringify(k)} is invalid`);
    argv.push("--env", `${k}=${v}`);
  }
  if (spec.workingDir) argv.push("--workdir", spec.workingDir);
  argv.push(...limitOptions(spec.limits));
  if (spec.command && spec.command.length > 0) argv.push("--entrypoint", JSON.stringify(spec.command));
  argv.push("--", spec.image, ...(spec.args ?? []));
  return argv;
}

/** A container name unique enough for concurrent steps. */
export function containerName(hint = ""): string {
  const clean = hint.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^[^a-z0-9]+/, "").slice(0, 40);
  return `opflow-${clean ? `${clean}-` : ""}${randomBytes(4).toString("hex")}`;
}

/**
 * Stops the container `name` if it still runs (SIGTERM, then SIGKILL after `graceMs`) and
 * removes it. Returns once it is gone.
 */
export async function stopContainer(name: string, graceMs = 2000, options: PodmanOptions = defaultPodman()): Promise<void> {
  const program = options.program ?? "podman";
  const env = podmanEnv(options);
  const run = (args: string[]): Promise<number | null> =>
    new Promise((resolve) => {
      const child = spawn(program, args, { env, stdio: "ignore" });
      child.on("error", () => resolve(null));
      child.on("close", (code) => resolve(code));
    });
  await run(["stop", "--ignore", "--time", String(Math.max(0, Math.ceil(graceMs / 1000))), name]);
  await run(["rm", "--force", "--ignore", name]);
}

/**
 * Runs one container to its end. Never throws for the container's own failure: the result
 * carries its exit code, or `startError` when podman could not start it.
 *
 * @example
 * const r = await runContainer({ image: "localhost/local/busybox", command: ["sh", "-c", "echo hi"], logFile: `${dir}/log.txt` });
 * r.exitCode; // 0
 * r.stdout;   // "hi\n"
 */
export function runContainer(spec: ContainerSpec): Promise<ProcessResult> {
  const options = spec.podman ?? defaultPodman();
  const name = spec.name ?? containerName();
  let argv: string[];
  try {
    argv = podmanRunArgs(spec, name);
  } catch (err) {
    return Promise.resolve({ exitCode: 1, stdout: "", timedOut: false, aborted: false, startError: (err as Error).message });
  }
  return new Promise((resolve) => {
    const child = spawn(options.program ?? "podman", argv, { env: podmanEnv(options), stdio: [spec.stdin !== undefined ? "pipe" : "ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    let stderrTail = "";
    let timedOut = false;
    let aborted = false;
    let stopping: Promise<void> | undefined;
    const log = (chunk: Buffer): void => {
      try {
        appendFileSync(spec.logFile, chunk);
      } catch {
        /* the step's folder is gone: nothing to log into */
      }
    };
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      log(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-4000);
      log(chunk);
    });
    if (spec.stdin !== undefined) child.stdin?.end(spec.stdin);
    spec.onStart?.(name);
    let closed = false;
    let retry: NodeJS.Timeout | undefined;
    // A stop may come before podman created the container: it is then repeated until podman ends.
    const stop = (): void => {
      if (stopping) return;
      stopping = stopContainer(name, spec.graceMs ?? 2000, options);
      retry = setInterval(() => {
        if (!closed) void stopContainer(name, 0, options);
      }, (spec.graceMs ?? 2000) + 1000);
    };
    const timer =
      spec.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, spec.timeoutMs)
        : undefined;
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (spec.signal?.aborted) onAbort();
    else spec.signal?.addEventListener("abort", onAbort, { once: true });
    let startError: string | undefined;
    child.on("error", (err) => {
      startError = `podman could not be started (${(err as NodeJS.ErrnoException).code ?? err.message}): install podman and runc (apt-get install -y podman runc)`;
    });
    child.on("close", (code, signal) => {
      closed = true;
      if (timer) clearTimeout(timer);
      if (retry) clearInterval(retry);
      spec.signal?.removeEventListener("abort", onAbort);
      const exitCode = code ?? (signal ? 128 + (signalNumber(signal) ?? 9) : 1);
      if (!startError && exitCode === 125 && !timedOut && !aborted) startError = podmanError(stderrTail, spec.image);
      if (exitCode === 126 && spec.workingDir && spec.workingDirSource !== undefined && !timedOut && !aborted && /workdir ".*" does not exist on container/.test(stderrTail)) {
        // Again, with the working directory made as Kubernetes makes it (from the step's folder).
        const again = { ...spec, name: containerName(spec.name?.replace(/^opflow-/, "").replace(/-[0-9a-f]{8}$/, "")), mounts: [...(spec.mounts ?? []), { source: spec.workingDirSource, target: spec.workingDir }] };
        delete (again as { workingDirSource?: string }).workingDirSource;
        log(Buffer.from(`opflow: the image has no ${spec.workingDir}: made for the pod, as Kubernetes makes a missing working directory\n`));
        void mkdir(spec.workingDirSource, { recursive: true })
          .then(() => podman(["rm", "--force", "--ignore", name], options))
          .then(() => runContainer(again))
          .then(resolve);
        return;
      }
      const finish = (): void =>
        resolve({
          exitCode,
          stdout: Buffer.concat(stdout).toString("utf8"),
          timedOut,
          aborted: aborted && !timedOut,
          ...(startError ? { startError } : {}),
        });
      const copied = (spec.copyOut?.length ?? 0) > 0 ? (stopping ?? Promise.resolve()).then(() => copyOutAndRemove(name, spec.copyOut ?? [], !startError && !timedOut && !aborted, options)) : stopping;
      if (copied) void copied.then(finish);
      else finish();
    });
  });
}

/** Runs podman with `args`; resolves with its exit code (null when it could not start). */
function podman(args: readonly string[], options: PodmanOptions): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(options.program ?? "podman", args, { env: podmanEnv(options), stdio: "ignore" });
    child.on("error", () => resolve(null));
    child.on("close", (code) => resolve(code));
  });
}

/** Copies `copies` out of the ended container `name` (when `copy`), then removes it. */
async function copyOutAndRemove(name: string, copies: readonly { readonly from: string; readonly to: string }[], copy: boolean, options: PodmanOptions): Promise<void> {
  if (copy) {
    for (const c of copies) {
      await rm(c.to, { recursive: true, force: true });
      await mkdir(path.dirname(c.to), { recursive: true });
      // A path the container does not have fails here: the engine then reports the output missing.
      await podman(["cp", `${name}:${c.from}`, c.to], options);
    }
  }
  await podman(["rm", "--force", "--ignore", name], options);
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}

/** podman's own failure (exit 125), said the way a step's message should say it. */
function podmanError(stderr: string, image: string): string {
  const line = stderr.trim().split("\n").filter((l) => l.startsWith("Error")).pop() ?? stderr.trim().split("\n").pop() ?? "";
  if (/image not known|no such image|unable to find image/i.test(line)) {
    return `image ${JSON.stringify(image)} is not on this machine (containers never pull images here): map it to a local image, e.g. --image ${image}=localhost/opflow-node:20 (scripts/make-node-image.sh builds that one)`;
  }
  return `podman could not run the container: ${line.replace(/^Error:\s*/, "")}`;
}

/** A map from the image names of manifests to images of this machine (`--image a=b`). */
export type ImageMap = ReadonlyMap<string, string>;

/** The short forms of an image name: `docker.io/library/node:20` is also `node:20`. */
function imageAliases(image: string): string[] {
  const out = [image];
  const short = image.replace(/^(docker\.io\/)?(library\/)?/, "");
  if (short !== image) out.push(short);
  if (!/:[^/]+$/.test(short) && !short.includes("@")) out.push(`${short}:latest`);
  return out;
}

/**
 * Parses `NAME=LOCAL` entries (`--image node:20-slim=localhost/opflow-node:20`).
 * @throws EngineError naming the entry that has no `=` or an empty side.
 */
export function parseImageMap(entries: readonly string[], where = "--image"): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of entries) {
    const i = entry.indexOf("=");
    const from = i > 0 ? entry.slice(0, i).trim() : "";
    const to = i > 0 ? entry.slice(i + 1).trim() : "";
    if (!from || !to) throw new EngineError(`${where}: expects NAME=LOCAL_IMAGE (e.g. node:20-slim=localhost/opflow-node:20), got ${JSON.stringify(entry)}`);
    map.set(from, to);
  }
  return map;
}

/** Environment variable holding an image map: `NAME=LOCAL` entries separated by spaces or commas. */
export const IMAGES_ENV = "OPFLOW_IMAGES";

/**
 * The image map of `$OPFLOW_IMAGES` (read where the caller says: once, at the edge), with the
 * `entries` given on the command line (`--image`) taking precedence.
 * @throws EngineError naming the malformed entry and where it came from.
 */
export function imageMapFrom(entries: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Map<string, string> {
  const fromEnv = (env[IMAGES_ENV] ?? "").split(/[\s,]+/).filter(Boolean);
  return new Map([...parseImageMap(fromEnv, `$${IMAGES_ENV}`), ...parseImageMap(entries)]);
}

/** The local image for a manifest's `image` (itself when the map has no entry for it). */
export function mapImage(image: string, map: ImageMap): string {
  for (const alias of imageAliases(image)) {
    const local = map.get(alias);
    if (local !== undefined) return local;
  }
  return image;
}
function under(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/**
 * How a container gets its own file system's declared paths (see {@link PodRoot}) as an Argo
 * pod does: input artifacts bound at their paths from the step's folder (Argo mounts them from
 * a volume); outputs copied out of the container once it ended (Argo's executor reads them
 * from the main container), unless a mount already puts them in a folder of this machine. The
 * image's own files beside them stay visible, and this machine's paths are never involved.
 */
export function ownFileSystem(root: PodRoot, mounts: readonly ContainerMount[]): { mounts: ContainerMount[]; copyOut: { from: string; to: string }[] } {
  const at = (p: string): string => path.join(root.source, path.posix.normalize(p).slice(1));
  const inputs = [...new Set(root.inputs.map((p) => path.posix.normalize(p)))].sort();
  const bound = inputs.filter((p, i) => !inputs.slice(0, i).some((q) => under(p, q)) && existsSync(at(p)));
  const targets = [...mounts.map((m) => path.posix.normalize(m.target)), ...bound];
  const outputs = root.collect === false ? [] : [...new Set(root.outputs.map((p) => path.posix.normalize(p)))];
  return {
    mounts: bound.map((p) => ({ source: at(p), target: p })),
    copyOut: outputs.filter((p) => !targets.some((t) => under(p, t))).map((p) => ({ from: p, to: at(p) })),
  };
}

/** Options of {@link ContainerExecutor}. */
export interface ContainerExecutorOptions {
  /**
   * Images of the manifest → images of this machine (`node:20-slim` → `localhost/opflow-node:20`):
   * containers never pull, so every image a workflow names must be here or mapped.
   * @default no mapping: images are used by their own names
   */
  readonly images?: ImageMap;
  /** How podman is run. @default {@link defaultPodman} */
  readonly podman?: PodmanOptions;
  /** Time between SIGTERM and SIGKILL when a pod is stopped. @default 2000 ms */
  readonly graceMs?: number;
}

/**
 * The container executor (`opflow run --executor container`): every container and script
 * template runs in a real container from its image with podman, as an Argo pod would — the
 * step's folder mounted on `/tmp` (inputs at their declared paths, outputs read from theirs),
 * paths declared elsewhere kept in the step's `fs/` as the container's own (inputs bound at
 * their paths, outputs copied out once it ended: {@link ownFileSystem}), `/mnt` and volumes mounted, the template's environment only, its working directory,
 * command and args, no network, cpu and memory limits; a deadline or a stop ends the
 * container. OP templates go through their bundles (`node /tmp/opflow/<hash>.mjs`).
 *
 * @example
 * await runWorkflow(manifest, { executor: new ContainerExecutor({ images: parseImageMap(["node:20-slim=localhost/opflow-node:20"]) }) });
 */
export class ContainerExecutor implements Executor {
  readonly name = "podman";
  readonly mounts = "always" as const;
  readonly baseEnvironment = "image" as const;
  readonly opTemplates = "bundle" as const;
  private readonly images: ImageMap;

  constructor(private readonly options: ContainerExecutorOptions = {}) {
    this.images = options.images ?? new Map();
  }

  async run(spec: PodSpec): Promise<PodEnd> {
    if (!spec.image) {
      return { exitCode: 1, stdout: "", timedOut: false, aborted: false, startError: `template "${spec.template}": the container executor runs each pod from its image, and this template names none` };
    }
    const limits = spec.resources?.limits;
    const own = spec.podRoot ? ownFileSystem(spec.podRoot, spec.mounts) : { mounts: [], copyOut: [] };
    return runContainer({
      image: mapImage(spec.image, this.images),
      command: spec.command,
      env: spec.env,
      workingDir: spec.workingDir,
      ...(spec.podRoot && path.posix.isAbsolute(spec.workingDir) && !/^\/(tmp|mnt)(\/|$)/.test(path.posix.normalize(spec.workingDir)) ? { workingDirSource: path.join(spec.podRoot.source, path.posix.normalize(spec.workingDir).slice(1)) } : {}),
      mounts: [...spec.mounts, ...own.mounts],
      ...(own.copyOut.length > 0 ? { copyOut: own.copyOut } : {}),
      logFile: spec.logFile,
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      signal: spec.signal,
      ...(this.options.graceMs !== undefined ? { graceMs: this.options.graceMs } : {}),
      ...(limits && (limits["cpu"] !== undefined || limits["memory"] !== undefined) ? { limits: { ...(limits["cpu"] !== undefined ? { cpu: limits["cpu"] } : {}), ...(limits["memory"] !== undefined ? { memory: limits["memory"] } : {}) } } : {}),
      name: containerName(spec.name),
      ...(this.options.podman ? { podman: this.options.podman } : {}),
    });
  }
}
