/**
 * The state tree of a local run (DESIGN.md), compatible with dflow's debug mode:
 *
 * ```
 * <workdir>/<workflow-name>/
 *   status          Pending | Running | Succeeded | Failed | Error
 *   manifest.yaml   the manifest that ran (manifests/attempt-<n>.yaml: each engine's)
 *   engine.lock     the run lock while an engine runs it (run-lock.ts)
 *   workflow.json   the last WorkflowStatus snapshot (Argo's shape)
 *   nodes.jsonl     the node journal: one JSON line per recorded node state (the newest wins)
 *   .values/        parameter values over 64 KiB, once each, named by their SHA-256 (value-store.ts)
 *   engine.pid      the engine's pid, start time and boot id while it runs (process-identity.ts)
 *   engine.control  present while the engine takes stop/terminate requests from other processes
 *   control.request a request of another process: "stop" or "terminate" (then SIGUSR2)
 *   <step>/         type, phase, inputs/, outputs/, script, log.txt, workdir/
 * ```
 *
 * Files are written atomically (temporary file, then rename) or created whole, and the journal
 * only ever grows by whole lines (a torn last line is ignored), so a killed engine leaves a tree
 * it can resume from. The journal is the record a resumed run trusts: a node's line is appended
 * after its outputs are in place.
 */
import fs from "node:fs/promises";
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync, mkdir as mkdirCb, writeFile as writeFileCb } from "node:fs";
import path from "node:path";
import { toYaml } from "../argo/yaml.ts";
import type { NodeStatus, Workflow, WorkflowPhase, WorkflowStatus } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import { atomicWrite, atomicWriteSync, namingFile } from "../files.ts";
import { formatIdentity, processIdentity, type ProcessIdentity } from "../executors/process-identity.ts";
import { nodeDirName, safeSegment } from "./node-dir-name.ts";
import { repairJournal, removeStaleTemporaries } from "./run-repair.ts";
import { LOCK_FILE } from "./run-lock.ts";
import type { DigestRecord } from "./node-digests.ts";
import { mentionsStoredValue, ValueReader, ValueStore, VALUES_DIR } from "./value-store.ts";

export { atomicWrite, nodeDirName, safeSegment };

/** Present in a run's folder while its engine takes requests of other processes. */
export const CONTROL_FILE = "engine.control";
/** Where another process writes its request (`stop` or `terminate`). */
export const CONTROL_REQUEST = "control.request";
/** The signal that tells the engine to read the request. */
export const CONTROL_SIGNAL = "SIGUSR2";

/** The files of a run's folder (see the module's comment). */
export const RUN_FILES = {
  status: "status",
  manifest: "manifest.yaml",
  manifests: "manifests",
  values: VALUES_DIR,
  lock: LOCK_FILE,
  workflowStatus: "workflow.json",
  journal: "nodes.jsonl",
  enginePid: "engine.pid",
  control: CONTROL_FILE,
  request: CONTROL_REQUEST,
} as const;

/** The files of a node's folder (besides the contract's `inputs/`, `outputs/`). */
export const NODE_FILES = { type: "type", phase: "phase", script: "script", log: "log.txt" } as const;

/** Errors of a disk that cannot take more writes: the run ends as Error. */
const DISK_FAILURES: ReadonlySet<string> = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO"]);

/** Sub-folders of a prepared step folder (the contract's). */
const SKELETON = [path.join("inputs", "parameters"), path.join("outputs", "parameters")];
const POOL_SIZE = 8;

function isFinal(phase: string): boolean {
  return phase !== "Pending" && phase !== "Running";
}

/** Creates or replaces a small file in one call (callback fs: no FileHandle round trips). */
export function writeText(file: string, data: string): Promise<void> {
  return new Promise((resolve, reject) => writeFileCb(file, data, (err) => (err ? reject(err) : resolve())));
}

interface PendingWrite {
  timer?: NodeJS.Timeout;
  snapshot: NodeStatus;
}

/** A record of a node as read back from a state tree. */
export interface StoredNode {
  readonly dir: string;
  readonly node: NodeStatus;
  /** What decided its result when it was recorded (see node-digest.ts); absent in older trees. */
  readonly digest?: DigestRecord;
}

/** Writes and reads one workflow's state tree. */
export class StateTree {
  /** `<workdir>/<workflow-name>`. */
  readonly dir: string;
  private readonly dirs = new Map<string, string>();
  private readonly keyed = new Set<string>();
  private readonly created = new Set<string>();
  /** Nodes whose `phase` file exists (later writes replace it atomically). */
  private readonly phaseWritten = new Set<string>();
  private readonly pending = new Map<string, PendingWrite>();
  private journal: number | undefined;
  /**
   * Write `type`/`phase` with direct calls (set while few steps run: lowest latency) rather than
   * through the thread pool (many steps: the disk work overlaps with the engine's).
   */
  direct = false;
  private readonly fileWrites = new Map<string, Promise<void>>();
  private readonly unfinished = new Map<string, ProcessIdentity>();
  private failure: EngineError | undefined;
  /**
   * Called once, with the first write that failed (a full disk, a folder made read-only): the
   * engine ends the run as Error then, since what it does next could not be resumed from.
   */
  onFailure: ((err: EngineError) => void) | undefined;

  /** The first write of the tree that failed, if any (its message names the path). */
  get failed(): EngineError | undefined {
    return this.failure;
  }

  /** Records a failed write (the first one counts) and tells {@link onFailure}. */
  private fail(err: unknown, file: string): void {
    if (this.failure) return;
    const e = namingFile(err, file);
    this.failure = new EngineError(`state tree: cannot write ${e.path ?? file}: ${e.message.replace(/ \([^()]*\)$/, "")}`, { cause: err });
    this.onFailure?.(this.failure);
  }

  /**
   * For the `type` and `phase` files (for people and tools; the journal is what a resumed run
   * trusts): a full or broken disk ends the run; a passing shortage (EMFILE with many steps at
   * once) only costs those files, as before.
   */
  private failIfDiskFull(err: unknown, file: string): void {
    if (DISK_FAILURES.has((err as NodeJS.ErrnoException)?.code ?? "")) this.fail(err, file);
  }

  /** Appends one line to the journal; after a failed append the journal takes no more lines. */
  private appendJournal(record: unknown): void {
    if (this.journal === undefined) return;
    try {
      writeSync(this.journal, `${JSON.stringify(record)}\n`);
    } catch (err) {
      // A line may be torn now: appending more would glue records together. The next engine
      // cuts the torn tail (see repairJournal).
      const fd = this.journal;
      this.journal = undefined;
      try {
        closeSync(fd);
      } catch {
        /* the close may report the same failure */
      }
      this.fail(err, path.join(this.dir, RUN_FILES.journal));
    }
  }
  private readonly digests = new Map<string, DigestRecord>();

  /**
   * @param delayMs - how long a node must stay Pending/Running before that state is written
   *   (final phases are written at once).
   */
  constructor(
    workdir: string,
    readonly workflowName: string,
    private readonly delayMs = 250,
  ) {
    this.dir = path.resolve(workdir, workflowName);
    this.values = new ValueStore(this.dir);
  }

  /** The run's large values, stored once and referred to from records (value-store.ts). */
  readonly values: ValueStore;

  private readonly pool: string[] = [];
  private refilling = false;
  private refillDone: Promise<void> = Promise.resolve();
  private poolCounter = 0;
  private closed = false;

  /** Keeps a few step folders (with the contract's sub-folders) ready for the next steps. */
  private refill(): void {
    if (this.refilling || this.closed || this.pool.length >= POOL_SIZE) return;
    this.refilling = true;
    const poolDir = path.join(this.dir, ".pool");
    this.refillDone = (async () => {
      try {
        while (!this.closed && this.pool.length < POOL_SIZE) {
          const skeleton = path.join(poolDir, String(++this.poolCounter));
          await Promise.all(SKELETON.map((sub) => fs.mkdir(path.join(skeleton, sub), { recursive: true })));
          if (this.closed) break;
          this.pool.push(skeleton);
        }
      } catch {
        /* no pool: folders are made on demand */
      } finally {
        this.refilling = false;
      }
    })();
  }

  /**
   * Creates the folder, writes the manifest, `status` and `engine.pid`; on a resumed run first
   * cuts a torn journal tail and removes the temporary files a killed engine left. Every engine
   * that runs the run keeps its manifest as `manifests/attempt-<n>.yaml` (1, 2, …);
   * `manifest.yaml` is the latest (nodes of earlier attempts are only taken over when their
   * digests still match it).
   */
  async init(manifest: Workflow): Promise<void> {
    await fs.mkdir(path.join(this.dir, RUN_FILES.manifests), { recursive: true });
    await repairJournal(path.join(this.dir, RUN_FILES.journal));
    await removeStaleTemporaries(this.dir);
    // opflow's writer: quotes what Go's YAML 1.1 reader would take for another type (`n`, `on`,
    // `0755`), so the file reads back the same with `kubectl`/`argo submit` as here.
    const text = toYaml(manifest);
    const attempts = (await fs.readdir(path.join(this.dir, RUN_FILES.manifests))).filter((f) => /^attempt-\d+\.yaml$/.test(f)).length;
    await atomicWrite(path.join(this.dir, RUN_FILES.manifests, `attempt-${attempts + 1}.yaml`), text);
    await atomicWrite(path.join(this.dir, RUN_FILES.manifest), text);
    await atomicWrite(path.join(this.dir, RUN_FILES.enginePid), `${formatIdentity(processIdentity())}\n`);
    await this.writeStatus("Running");
    this.journal = openSync(path.join(this.dir, RUN_FILES.journal), "a");
    this.refill();
  }

  /** Removes everything an earlier engine recorded in the run's folder (but its lock): a restart. */
  async clear(): Promise<void> {
    let entries: string[];
    try {
      entries = await fs.readdir(this.dir);
    } catch {
      return;
    }
    await Promise.all(entries.filter((e) => !e.startsWith(RUN_FILES.lock)).map((e) => fs.rm(path.join(this.dir, e), { recursive: true, force: true })));
  }

  /** Writes the workflow's `status` file. */
  async writeStatus(phase: WorkflowPhase): Promise<void> {
    const file = path.join(this.dir, RUN_FILES.status);
    try {
      await atomicWrite(file, phase || "Pending");
    } catch (err) {
      // A full disk has no room for a temporary file; the file itself has its block already.
      try {
        writeFileSync(file, phase || "Pending");
      } catch {
        throw namingFile(err, file);
      }
    }
  }

  /** Writes `workflow.json` (the Argo `WorkflowStatus`). */
  async writeWorkflowStatus(status: WorkflowStatus): Promise<void> {
    await atomicWrite(path.join(this.dir, RUN_FILES.workflowStatus), JSON.stringify(this.values.referStatus(status)));
  }

  /**
   * Records that this engine takes requests from other processes: write `stop` or `terminate`
   * to {@link CONTROL_REQUEST}, then send the engine {@link CONTROL_SIGNAL}.
   */
  async acceptControl(): Promise<void> {
    await fs.rm(path.join(this.dir, CONTROL_REQUEST), { force: true });
    await atomicWrite(path.join(this.dir, CONTROL_FILE), CONTROL_SIGNAL);
  }

  /** Removes `engine.pid`: no engine runs the run any more. */
  async releaseEngine(): Promise<void> {
    await fs.rm(path.join(this.dir, RUN_FILES.enginePid), { force: true });
  }

  /** Closes the journal and removes `engine.pid` (and the control files) at the end of a run. */
  async finish(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.refillDone;
    this.pool.length = 0;
    await fs.rm(path.join(this.dir, ".pool"), { recursive: true, force: true }).catch(() => undefined);
    if (this.journal !== undefined) closeSync(this.journal);
    this.journal = undefined;
    await fs.rm(path.join(this.dir, CONTROL_FILE), { force: true });
    await fs.rm(path.join(this.dir, CONTROL_REQUEST), { force: true });
    await this.releaseEngine();
  }

  /** Assigns (once) and returns the absolute directory of a node. */
  nodeDir(node: Pick<NodeStatus, "id" | "name">, key?: string): string {
    let dir = this.dirs.get(node.id);
    if (!dir) {
      dir = path.join(this.dir, nodeDirName(this.workflowName, node.name, key));
      // Two steps with one key: the second gets its node name, so neither overwrites the other.
      if (key && this.keyed.has(dir)) dir = path.join(this.dir, nodeDirName(this.workflowName, node.name));
      if (key) this.keyed.add(dir);
      this.dirs.set(node.id, dir);
    }
    return dir;
  }

  /** Creates a node's directory (once), and `subdirs` inside it. */
  ensureNodeDir(node: Pick<NodeStatus, "id" | "name">, ...subdirs: string[]): string {
    const dir = this.nodeDir(node);
    if (!this.created.has(dir) && this.pool.length > 0) {
      // A folder prepared in the background: one rename on the critical path instead of a mkdir
      // per level.
      const skeleton = this.pool.pop() as string;
      try {
        renameSync(skeleton, dir);
        this.created.add(dir);
        subdirs = subdirs.filter((sub) => !SKELETON.includes(sub));
      } catch {
        rmSync(skeleton, { recursive: true, force: true });
      }
      this.refill();
    }
    if (subdirs.length > 0 || !this.created.has(dir)) {
      // One mkdir per level (a recursive mkdir first fails on each missing level).
      const made = new Set<string>();
      const mk = (p: string): void => {
        if (made.has(p)) return;
        try {
          mkdirSync(p);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") mkdirSync(p, { recursive: true });
          else if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        }
        made.add(p);
      };
      if (this.created.has(dir)) made.add(dir);
      else mk(dir);
      for (const sub of subdirs) {
        let p = dir;
        for (const part of sub.split(path.sep)) mk((p = path.join(p, part)));
      }
      this.created.add(dir);
    }
    return dir;
  }

  /**
   * Writes a Steps or DAG node's output parameters to `outputs/parameters/<name>` (a pod's are
   * written by the pod): the root node's are the workflow's outputs (`_root/outputs/parameters`).
   */
  async writeOutputParameters(node: NodeStatus): Promise<void> {
    const params = (node.outputs?.parameters ?? []).filter((p) => p.value !== undefined);
    if (params.length === 0) return;
    const dir = path.join(this.ensureNodeDir(node, path.join("outputs", "parameters")), "outputs", "parameters");
    await Promise.all(params.map((p) => atomicWrite(path.join(dir, safeSegment(p.name)), p.value as string)));
  }

  /**
   * Persists a node: its `type` and `phase` files and a journal line. A final phase is written at once; a
   * Running state only if the node is still running a moment later, and Pending never (short
   * steps cost one write; a resumed run re-runs unfinished steps either way). Writes of one node never reorder:
   * the newest state wins.
   */
  persistNode(node: NodeStatus): void {
    const final = isFinal(node.phase);
    const entry = this.pending.get(node.id);
    if (final) {
      if (entry?.timer) clearTimeout(entry.timer);
      this.pending.delete(node.id);
      this.writeNode(node);
      return;
    }
    if (entry) {
      entry.snapshot = node;
      return;
    }
    // A Pending node (waiting for a slot) has nothing on disk yet: it runs either way.
    if (node.phase === "Pending") return;
    const e: PendingWrite = { snapshot: node };
    e.timer = setTimeout(() => {
      this.pending.delete(node.id);
      if (e.snapshot) this.writeNode(e.snapshot);
    }, this.delayMs);
    this.pending.set(node.id, e);
  }

  private writeNode(node: NodeStatus): void {
    const isGroup = node.type === "StepGroup" || node.type === "TaskGroup";
    const dir = this.nodeDir(node);
    // The journal first, synchronously: it is what a resumed run trusts (one append, no file
    // creation). StepGroup/TaskGroup nodes are structure, not steps: journal only, no folder.
    const digest = this.digests.get(node.id);
    let recorded: NodeStatus;
    try {
      recorded = this.values.refer(node);
    } catch (err) {
      this.fail(err, path.join(this.dir, VALUES_DIR));
      return;
    }
    this.appendJournal(digest ? { dir: path.basename(dir), node: recorded, digest } : { dir: path.basename(dir), node: recorded });
    if (isGroup) return;
    const id = node.id;
    if (this.direct && !this.fileWrites.has(id)) {
      // Few steps in flight: direct calls have the lowest latency.
      try {
        this.ensureNodeDir(node);
        const typeFile = path.join(dir, NODE_FILES.type);
        if (!this.created.has(typeFile)) {
          writeFileSync(typeFile, node.type);
          this.created.add(typeFile);
        }
        if (this.phaseWritten.has(id)) atomicWriteSync(path.join(dir, NODE_FILES.phase), node.phase);
        else {
          writeFileSync(path.join(dir, NODE_FILES.phase), node.phase);
          this.phaseWritten.add(id);
        }
      } catch (err) {
        this.failIfDiskFull(err, dir);
      }
      return;
    }
    // `type` and `phase` for people and tools, in the background, in order per node.
    const phase = node.phase;
    const type = node.type;
    const prev = this.fileWrites.get(id) ?? this.ensureNodeDirAsync(node).then(() => undefined);
    const next = prev
      .then(async () => {
        if (!this.created.has(path.join(dir, NODE_FILES.type))) {
          this.created.add(path.join(dir, NODE_FILES.type));
          await writeText(path.join(dir, NODE_FILES.type), type);
        }
        if (this.phaseWritten.has(id)) await atomicWrite(path.join(dir, NODE_FILES.phase), phase);
        else {
          this.phaseWritten.add(id);
          await writeText(path.join(dir, NODE_FILES.phase), phase);
        }
      })
      .catch((err: unknown) => this.failIfDiskFull(err, dir))
      .finally(() => {
        if (this.fileWrites.get(id) === next) this.fileWrites.delete(id);
      });
    this.fileWrites.set(id, next);
  }

  /** {@link ensureNodeDir} through the thread pool (the caller's thread keeps working). */
  async ensureNodeDirAsync(node: Pick<NodeStatus, "id" | "name">, ...subdirs: string[]): Promise<string> {
    const dir = this.nodeDir(node);
    if (this.created.has(dir) && subdirs.length === 0) return dir;
    const mk = (p: string): Promise<void> =>
      new Promise((resolve, reject) =>
        mkdirCb(p, (err) => {
          if (!err || err.code === "EEXIST") return resolve();
          if (err.code === "ENOENT") return mkdirCb(p, { recursive: true }, (e2) => (e2 ? reject(e2) : resolve()));
          reject(err);
        }),
      );
    if (!this.created.has(dir)) {
      await mk(dir);
      this.created.add(dir);
    }
    await Promise.all(
      subdirs.map(async (sub) => {
        let p = dir;
        for (const part of sub.split(path.sep)) await mk((p = path.join(p, part)));
      }),
    );
    return dir;
  }

  /**
   * After {@link load}: process groups of steps that were running when the previous engine
   * stopped (their node never reached a final phase), by node id.
   */
  unfinishedProcesses(): ReadonlyMap<string, ProcessIdentity> {
    return this.unfinished;
  }

  /** The digest of a node: written with each of its journal lines from now on. */
  recordDigest(id: string, digest: DigestRecord): void {
    this.digests.set(id, digest);
  }

  /**
   * Records the process group a step runs in (journal only) with the leader's start time and
   * the boot id, so that a resumed run can end it and only it.
   */
  recordPid(node: Pick<NodeStatus, "id" | "name">, pid: number, knownStart?: string): void {
    if (this.journal === undefined) return;
    const { startTime, bootId } = processIdentity(pid, knownStart);
    this.appendJournal({ pid, start: startTime, boot: bootId, id: node.id });
  }

  /** Writes every delayed node state now and waits for the background file writes. */
  async flush(): Promise<void> {
    for (const [id, e] of this.pending) {
      if (e.timer) clearTimeout(e.timer);
      this.pending.delete(id);
      if (e.snapshot) this.writeNode(e.snapshot);
    }
    while (this.fileWrites.size > 0) await Promise.all([...this.fileWrites.values()]);
  }

  /**
   * Records changed nodes while no engine runs the run (the caller holds its lock): journal
   * lines after whatever the last engine left (a torn tail cut first), their `phase` files, and
   * the output parameters of those that Succeeded. Each keeps the folder and digest it had.
   */
  async recordWithoutEngine(records: readonly StoredNode[]): Promise<void> {
    const journal = path.join(this.dir, RUN_FILES.journal);
    await repairJournal(journal);
    const lines = records.map((r) => JSON.stringify(r.digest ? { dir: path.basename(r.dir), node: r.node, digest: r.digest } : { dir: path.basename(r.dir), node: r.node }));
    await fs.appendFile(journal, lines.map((l) => `${l}\n`).join(""));
    for (const r of records) {
      await atomicWrite(path.join(r.dir, NODE_FILES.phase), r.node.phase, true);
      if (r.node.phase !== "Succeeded") continue;
      const params = (r.node.outputs?.parameters ?? []).filter((p) => p.value !== undefined);
      for (const p of params) await atomicWrite(path.join(r.dir, "outputs", "parameters", safeSegment(p.name)), p.value as string, true);
    }
  }

  /**
   * Reads the nodes a previous engine recorded under this workflow's folder (for resume).
   * Unreadable or half-written records are ignored: those steps simply run again.
   */
  async load(): Promise<Map<string, StoredNode>> {
    const out = new Map<string, StoredNode>();
    let text: string;
    try {
      text = await fs.readFile(path.join(this.dir, RUN_FILES.journal), "utf8");
    } catch {
      return out;
    }
    const pids = this.unfinished;
    pids.clear();
    const values = new ValueReader(this.dir);
    for (const line of text.split("\n")) {
      if (!line) continue;
      let rec: { dir?: unknown; node?: Partial<NodeStatus>; pid?: unknown; start?: unknown; boot?: unknown; id?: unknown; digest?: DigestRecord };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        continue; // a line torn by a crash: that state is simply not recorded
      }
      if (typeof rec.pid === "number" && typeof rec.id === "string") {
        pids.set(rec.id, {
          pid: rec.pid,
          ...(typeof rec.start === "string" ? { startTime: rec.start } : {}),
          ...(typeof rec.boot === "string" ? { bootId: rec.boot } : {}),
        });
        continue;
      }
      // Large values are stored once (value-store.ts); a record whose value is gone is left out.
      const node = rec.node && mentionsStoredValue(line) ? values.resolve(rec.node as NodeStatus) : rec.node;
      if (typeof rec.dir !== "string" || !node || typeof node.id !== "string" || typeof node.name !== "string") continue;
      const dir = path.join(this.dir, rec.dir);
      if (isFinal(node.phase ?? "Running")) pids.delete(node.id);
      const digest = rec.digest && typeof rec.digest.digest === "string" && typeof rec.digest.template === "string" ? rec.digest : undefined;
      out.set(node.id, { dir, node: node as NodeStatus, ...(digest ? { digest } : {}) });
      this.dirs.set(node.id, dir);
      this.created.add(dir);
      this.created.add(path.join(dir, NODE_FILES.type));
      this.phaseWritten.add(node.id);
    }
    return out;
  }
}
