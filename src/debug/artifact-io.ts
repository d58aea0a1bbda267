/**
 * Artifacts between steps of a local run: outputs are packed (tar.gz, Argo's default, or as
 * they are with `archive: {none: {}}`) and stored through a {@link StorageClient} under Argo's
 * key layout `<workflow-name>/<node-id>/<artifact>.tgz`; inputs are fetched back from there.
 * When the producer's output is still on this machine (same run, or the state tree of a resumed
 * one), an input is a reflink-or-copy of it (`COPYFILE_FICLONE`) instead of a download and
 * unpack: it never shares bytes that one step could change under another.
 */
import fs from "node:fs/promises";
import { constants as fsc } from "node:fs";
import path from "node:path";
import type { Artifact } from "../argo/model.ts";
import { packArtifact, unpackArtifact } from "../artifacts/archive.ts";
import { downloadArtifact, uploadArtifact } from "../artifacts/transfer.ts";
import { MISSING_PART_PREFIX } from "../contract.ts";
import { EngineError } from "../errors.ts";
import type { StorageClient } from "../storage/client.ts";
import { pathExists } from "../files.ts";

/** An artifact as a scope holds it: Argo's artifact object plus where its bytes live locally. */
export interface ArtifactRef {
  /** Argo's artifact (with `s3.key`, or `raw`). */
  readonly artifact: Artifact;
  /** The producer's output on this machine, when known. */
  readonly localPath?: string;
}


/**
 * Copies a file or directory. Symbolic links inside are copied as links, never followed: a dangling
 * link, or one pointing out of the directory, arrives as it was (as tar archives them, and as
 * Argo's executor saves and restores them).
 */
async function cloneTree(src: string, dest: string, top = true): Promise<void> {
  // The artifact's own path is read through (it names what to save); what is inside is not.
  const info = top ? await fs.stat(src) : await fs.lstat(src);
  if (info.isSymbolicLink()) {
    await fs.symlink(await fs.readlink(src), dest);
  } else if (info.isDirectory()) {
    await fs.mkdir(dest, { recursive: true });
    for (const entry of await fs.readdir(src)) await cloneTree(path.join(src, entry), path.join(dest, entry), false);
  } else {
    await fs.copyFile(src, dest, fsc.COPYFILE_FICLONE);
    await fs.chmod(dest, info.mode & 0o7777);
  }
}

/** Stores and fetches the artifacts of one workflow. */
export class ArtifactIO {
  constructor(
    private readonly storage: StorageClient,
    private readonly workflowName: string,
    private readonly scratch: string,
  ) {}

  /** Where the artifacts are stored (for messages). */
  get location(): string {
    return this.storage.location;
  }

  /** Keys of the store under `prefix`, recursively, sorted (what a data template lists). */
  list(prefix: string): Promise<string[]> {
    return this.storage.list(prefix);
  }

  /**
   * Stores the output artifact `art` of node `nodeId` found at `hostPath`. Returns the artifact
   * as Argo records it in `status.nodes[id].outputs.artifacts`, or undefined for a missing
   * optional artifact.
   */
  async saveOutput(nodeName: string, nodeId: string, art: Artifact, hostPath: string): Promise<ArtifactRef | undefined> {
    if (!(await pathExists(hostPath))) {
      if (art.optional) return undefined;
      throw new EngineError(`node "${nodeName}": output artifact "${art.name}": path ${art.path ?? hostPath} does not exist`);
    }
    const archive = art.archive?.none ? "none" : "tar";
    // A key the template names (Argo's `s3.key`, tags substituted) wins over the default layout.
    const key = art.s3?.key ?? `${this.workflowName}/${nodeId}/${art.name}${archive === "tar" ? ".tgz" : ""}`;
    if (archive === "none" && (await fs.stat(hostPath)).isDirectory()) {
      // A directory stored as it is: one object per file under `key/`.
      await uploadArtifact(this.storage, hostPath, { key, archive: "none" });
    } else {
      await fs.mkdir(this.scratch, { recursive: true });
      const tmp = path.join(this.scratch, `${nodeId}-${art.name}-${process.pid}-${Date.now()}${archive === "tar" ? ".tgz" : ""}`);
      try {
        await packArtifact(hostPath, tmp, { archive });
        await this.storage.upload(tmp, key);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    }
    const recorded: Artifact = { name: art.name, s3: { key } };
    if (art.path !== undefined) recorded.path = art.path;
    if (art.archive) recorded.archive = art.archive;
    if (art.globalName) recorded.globalName = art.globalName;
    return { artifact: recorded, localPath: hostPath };
  }

  /**
   * Places input artifact `ref` at `dest` (a file or directory path on this machine).
   * `subPath` (the input's, after the argument's `subPath` on the reference) selects a part
   * of a directory artifact.
   */
  async loadInput(nodeName: string, name: string, ref: ArtifactRef, dest: string, subPath?: string): Promise<void> {
    await fs.rm(dest, { recursive: true, force: true });
    await fs.mkdir(path.dirname(dest), { recursive: true });
    const art = ref.artifact;
    if (art.raw) {
      await fs.writeFile(dest, art.raw.data);
      return;
    }
    const part = async (root: string, sub: string): Promise<string> => {
      if (sub.startsWith(MISSING_PART_PREFIX)) throw new EngineError(`node "${nodeName}": input artifact "${name}": ${sub.slice(MISSING_PART_PREFIX.length).trim()}`);
      const p = path.join(root, sub);
      if (!(await pathExists(p))) throw new EngineError(`node "${nodeName}": input artifact "${name}": subPath ${JSON.stringify(sub)} does not exist in the artifact`);
      return p;
    };
    if (ref.localPath && (await pathExists(ref.localPath))) {
      await cloneTree(subPath ? await part(ref.localPath, subPath) : ref.localPath, dest);
      return;
    }
    // An argument's subPath (`artifacts[].subPath`, carried on the reference) selects first.
    if (art.subPath) subPath = subPath ? path.join(art.subPath, subPath) : art.subPath;
    const key = art.s3?.key;
    if (!key) {
      throw new EngineError(
        `node "${nodeName}": input artifact "${name}": no location the local engine can read (only raw artifacts and artifacts stored by this engine are supported), got ${JSON.stringify(art)}`,
      );
    }
    await fs.mkdir(this.scratch, { recursive: true });
    const tmp = path.join(this.scratch, `in-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    if (!(await this.storage.exists(key))) {
      // Not one object: a directory stored as it is (objects under `key/`), e.g. stacked slices.
      const whole = subPath ? `${tmp}.d` : dest;
      try {
        await downloadArtifact(this.storage, key, whole, { overwrite: true });
      } catch (err) {
        throw new EngineError(`node "${nodeName}": input artifact "${name}": ${(err as Error).message}`);
      }
      if (subPath) {
        await cloneTree(await part(whole, subPath), dest);
        await fs.rm(whole, { recursive: true, force: true });
      }
      return;
    }
    try {
      await this.storage.download(key, tmp);
      if (subPath) {
        const unpacked = `${tmp}.d`;
        await unpackArtifact(tmp, unpacked, { archive: "auto", overwrite: true });
        await cloneTree(await part(unpacked, subPath), dest);
        await fs.rm(unpacked, { recursive: true, force: true });
      } else {
        await unpackArtifact(tmp, dest, { archive: "auto", overwrite: true });
      }
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }
}
