/**
 * The state tree of a local run (DESIGN.md), compatible with dflow's debug mode:
 *
 * ```
 * <workdir>/<workflow-name>/
 *   status          Pending | Running | Succeeded | Failed | Error
 *   manifest.yaml   the manifest that ran
 *   workflow.json   the last WorkflowStatus snapshot (Argo's shape)
 *   engine.pid      pid of the engine while it runs
 *   <step>/         type, phase, node.json, inputs/, outputs/, script, log.txt, workdir/
 * ```
 *
 * Every file is written atomically (temporary file, then rename), so a killed engine leaves a
 * tree it can resume from. `node.json` is the record a resumed run trusts: it is written after a
 * node's outputs, and `phase` after it.
 */
import fs from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import type { NodeStatus, Workflow, WorkflowPhase, WorkflowStatus } from "../argo/model.ts";
import { fnv32a } from "./node-id.ts";

let tmpCounter = 0;

/**
 * Writes `data` to `file` atomically: a temporary file in the same folder, then a rename.
 * Creates the parent folder when `mkdir` is true.
 *
 * @example
 * await atomicWrite("/runs/wf/status", "Succeeded");
 */
export async function atomicWrite(file: string, data: string | Uint8Array, mkdir = false): Promise<void> {
  if (mkdir) await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${++tmpCounter}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Sanitises `text` into one path segment; long or altered names get a hash suffix to stay unique. */
export function safeSegment(text: string): string {
  // eslint-disable-next-line no-control-regex
  let out = text.replace(/[/\\\u0000-\u001f\u007f]/g, "_");
  if (out === "." || out === "..") out = `_${out}`;
  if (out !== text || out.length > 150) out = `${out.slice(0, 120)}-${fnv32a(text).toString(36)}`;
  return out;
}

/**
 * The directory name of a node inside the workflow's folder: the step's key when it has one,
 * else its Argo node name without the workflow-name prefix (`[1].hello2a`, `A`,
 * `fan(3:c)`, `onExit`), `_root` for the root node.
 */
export function nodeDirName(workflowName: string, nodeName: string, key?: string): string {
  if (key) return safeSegment(key);
  let rel = nodeName.startsWith(workflowName) ? nodeName.slice(workflowName.length) : nodeName;
  if (rel.startsWith(".")) rel = rel.slice(1);
  if (rel === "") return "_root";
  return safeSegment(rel);
}

interface PendingWrite {
  snapshot: NodeStatus | undefined;
  running: Promise<void> | undefined;
  waiters: (() => void)[];
  failures: ((err: unknown) => void)[];
}

/** A record of a node as read back from a state tree. */
export interface StoredNode {
  readonly dir: string;
  readonly node: NodeStatus;
}

/** Writes and reads one workflow's state tree. */
export class StateTree {
  /** `<workdir>/<workflow-name>`. */
  readonly dir: string;
  private readonly dirs = new Map<string, string>();
  private readonly created = new Set<string>();
  private readonly pending = new Map<string, PendingWrite>();

  constructor(
    workdir: string,
    readonly workflowName: string,
  ) {
    this.dir = path.resolve(workdir, workflowName);
  }

  /** Creates the folder, writes the manifest, `status` and `engine.pid`. */
  async init(manifest: Workflow): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await atomicWrite(path.join(this.dir, "manifest.yaml"), YAML.stringify(manifest, { aliasDuplicateObjects: false }));
    await atomicWrite(path.join(this.dir, "engine.pid"), String(process.pid));
    await this.writeStatus("Running");
  }

  /** Writes the workflow's `status` file. */
  async writeStatus(phase: WorkflowPhase): Promise<void> {
    await atomicWrite(path.join(this.dir, "status"), phase || "Pending");
  }

  /** Writes `workflow.json` (the Argo `WorkflowStatus`). */
  async writeWorkflowStatus(status: WorkflowStatus): Promise<void> {
    await atomicWrite(path.join(this.dir, "workflow.json"), JSON.stringify(status, null, 1));
  }

  /** Removes `engine.pid` at the end of a run. */
  async finish(): Promise<void> {
    await fs.rm(path.join(this.dir, "engine.pid"), { force: true });
  }

  /** Assigns (once) and returns the absolute directory of a node. */
  nodeDir(node: Pick<NodeStatus, "id" | "name">, key?: string): string {
    let dir = this.dirs.get(node.id);
    if (!dir) {
      dir = path.join(this.dir, nodeDirName(this.workflowName, node.name, key));
      this.dirs.set(node.id, dir);
    }
    return dir;
  }

  /** Creates a node's directory (once). */
  async ensureNodeDir(node: Pick<NodeStatus, "id" | "name">): Promise<string> {
    const dir = this.nodeDir(node);
    if (!this.created.has(dir)) {
      await fs.mkdir(dir, { recursive: true });
      this.created.add(dir);
    }
    return dir;
  }

  /**
   * Persists a node's `type`, `phase` and `node.json`. Writes for one node are ordered and
   * coalesced: when several updates queue up, only the newest is written. The promise resolves
   * once a snapshot at least as new as this one is on disk.
   */
  persistNode(node: NodeStatus): Promise<void> {
    const snapshot: NodeStatus = { ...node };
    let entry = this.pending.get(node.id);
    if (!entry) {
      entry = { snapshot: undefined, running: undefined, waiters: [], failures: [] };
      this.pending.set(node.id, entry);
    }
    entry.snapshot = snapshot;
    const e = entry;
    const done = new Promise<void>((resolve, reject) => {
      e.waiters.push(resolve);
      e.failures.push(reject);
    });
    if (!e.running) e.running = this.drain(node.id, e);
    return done;
  }

  private async drain(id: string, entry: PendingWrite): Promise<void> {
    while (entry.snapshot) {
      const snap = entry.snapshot;
      const waiters = entry.waiters.splice(0);
      const failures = entry.failures.splice(0);
      entry.snapshot = undefined;
      try {
        const dir = await this.ensureNodeDir(snap);
        const typeFile = path.join(dir, "type");
        if (!this.created.has(typeFile)) {
          await atomicWrite(typeFile, snap.type);
          this.created.add(typeFile);
        }
        await atomicWrite(path.join(dir, "node.json"), JSON.stringify(snap));
        await atomicWrite(path.join(dir, "phase"), snap.phase);
        for (const w of waiters) w();
      } catch (err) {
        for (const f of failures) f(err);
      }
    }
    entry.running = undefined;
    this.pending.delete(id);
  }

  /** Waits until every queued node write is on disk. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) {
      await Promise.all([...this.pending.values()].map((e) => e.running));
    }
  }

  /**
   * Reads the nodes a previous engine recorded under this workflow's folder (for resume).
   * Unreadable or half-written records are ignored: those steps simply run again.
   */
  async load(): Promise<Map<string, StoredNode>> {
    const out = new Map<string, StoredNode>();
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(this.dir, { withFileTypes: true });
    } catch {
      return out;
    }
    await Promise.all(
      entries
        .filter((e) => e.isDirectory())
        .map(async (e) => {
          const dir = path.join(this.dir, e.name);
          try {
            const node = JSON.parse(await fs.readFile(path.join(dir, "node.json"), "utf8")) as NodeStatus;
            if (typeof node.id === "string" && typeof node.name === "string") {
              out.set(node.id, { dir, node });
              this.dirs.set(node.id, dir);
              this.created.add(dir);
            }
          } catch {
            /* no record: the step never got far enough; it runs again */
          }
        }),
    );
    return out;
  }

  /** Reads back a whole tree as an Argo `WorkflowStatus` (for `opflow status`). */
  static async read(dir: string): Promise<{ status: WorkflowStatus; engineAlive: boolean | undefined }> {
    const abs = path.resolve(dir);
    let status: WorkflowStatus = {};
    try {
      status = JSON.parse(await fs.readFile(path.join(abs, "workflow.json"), "utf8")) as WorkflowStatus;
    } catch {
      /* a run killed before its first snapshot */
    }
    try {
      status.phase = (await fs.readFile(path.join(abs, "status"), "utf8")).trim() as WorkflowPhase;
    } catch {
      /* keep the snapshot's phase */
    }
    const tree = new StateTree(path.dirname(abs), path.basename(abs));
    const stored = await tree.load();
    const nodes: Record<string, NodeStatus> = { ...(status.nodes ?? {}) };
    for (const [id, s] of stored) {
      const prev = nodes[id];
      // A node's own record is newer than the snapshot unless the snapshot saw it fulfilled.
      if (!prev || prev.phase === "Running" || prev.phase === "Pending") nodes[id] = { ...prev, ...s.node };
    }
    status.nodes = nodes;
    let engineAlive: boolean | undefined;
    try {
      const pid = Number((await fs.readFile(path.join(abs, "engine.pid"), "utf8")).trim());
      try {
        process.kill(pid, 0);
        engineAlive = true;
      } catch {
        engineAlive = false;
      }
    } catch {
      engineAlive = undefined;
    }
    return { status, engineAlive };
  }
}
