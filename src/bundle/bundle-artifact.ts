/**
 * How an OP bundle reaches the pod: as an input artifact of its OP template, from the workflow's
 * artifact repository, under a key named by its hash (`opflow-bundles/<hash>.mjs`), so that it
 * is uploaded once and shared by every OP of its module, every run and every workflow.
 *
 * A bundle with externals is a folder (`<hash>.mjs` and `node_modules/` with the externals
 * installed from the lock file), stored as one archive (`opflow-bundles/<hash>.tgz`).
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Artifact } from "../argo/model.ts";
import type { StorageClient } from "../storage/client.ts";
import type { OpBundle } from "./bundle.ts";
import { installExternals } from "./externals.ts";

/** Key prefix of bundles in the artifact repository. */
export const BUNDLES_PREFIX = "opflow-bundles";

/** Name of the OP template input artifact that carries the bundle. */
export const BUNDLE_INPUT = "opflow-bundle";

/** Folder of the pod where bundles arrive (under the contract root `/tmp`). */
export const BUNDLE_POD_DIR = "/tmp/opflow";

/** One bundle as an artifact: where it is stored, where the pod sees it, how it is uploaded. */
export class BundleArtifact {
  constructor(readonly bundle: OpBundle) {}

  /** Whether it is a folder (a bundle with externals) rather than one file. */
  get isFolder(): boolean {
    return this.bundle.externals.length > 0;
  }

  /** Its key in the artifact repository. */
  get key(): string {
    return `${BUNDLES_PREFIX}/${this.bundle.hash}${this.isFolder ? ".tgz" : ".mjs"}`;
  }

  /** Where the pod finds the artifact (the input artifact's `path`). */
  get podPath(): string {
    return `${BUNDLE_POD_DIR}/${this.isFolder ? this.bundle.hash : this.bundle.fileName}`;
  }

  /** The file `node` runs in the pod. */
  get podEntry(): string {
    return this.isFolder ? `${this.podPath}/${this.bundle.fileName}` : this.podPath;
  }

  /** The OP template's input artifact that brings the bundle to the pod. */
  toInputArtifact(): Artifact {
    return { name: BUNDLE_INPUT, path: this.podPath, s3: { key: this.key } };
  }

  /** Argo artifact fields (an artifact source, for `workflow.run()` / `submit()` bookkeeping). */
  toArgoArtifact(): Omit<Artifact, "name"> {
    return { s3: { key: this.key } };
  }

  /**
   * Writes the bundle under `dir` as it is stored: `<dir>/<hash>.mjs`, or the folder
   * `<dir>/<hash>/` with `node_modules/`. Returns the path written.
   */
  async writeTo(dir: string): Promise<string> {
    if (!this.isFolder) {
      const file = path.join(dir, this.bundle.fileName);
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(file, this.bundle.contents);
      return file;
    }
    const folder = path.join(dir, this.bundle.hash);
    const tmp = `${folder}.tmp-${process.pid}`;
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true });
    await fs.writeFile(path.join(tmp, this.bundle.fileName), this.bundle.contents);
    const locked = this.bundle.locked;
    if (locked) await installExternals(locked.root, this.bundle.externals, tmp);
    await fs.rm(folder, { recursive: true, force: true });
    await fs.rename(tmp, folder);
    return folder;
  }

  /**
   * Writes the bundle under `dir` as the object stored under its key: `<dir>/<hash>.mjs`, or the
   * archive `<dir>/<hash>.tgz` of a bundle with externals. A folder of such files uploads as
   * the bundles' keys with `opflow upload <dir> --key opflow-bundles --archive none`. Returns
   * the path written.
   */
  async writeObject(dir: string): Promise<string> {
    if (!this.isFolder) return this.writeTo(dir);
    const stage = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-"));
    try {
      const folder = await this.writeTo(stage);
      const file = path.join(dir, `${this.bundle.hash}.tgz`);
      await fs.mkdir(dir, { recursive: true });
      const { packArtifact } = await import("../artifacts/archive.ts");
      await packArtifact(folder, file);
      return file;
    } finally {
      await fs.rm(stage, { recursive: true, force: true });
    }
  }

  /**
   * Uploads the bundle to `storage` unless its key is there already (the same hash is the same
   * bytes). Returns whether it uploaded.
   */
  async upload(storage: StorageClient): Promise<boolean> {
    if (await storage.exists(this.key)) return false;
    const stage = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-bundle-"));
    try {
      const written = await this.writeTo(stage);
      if (this.isFolder) {
        const { uploadArtifact } = await import("../artifacts/transfer.ts");
        await uploadArtifact(storage, written, { key: this.key, archive: "tar" });
      } else {
        await storage.upload(written, this.key);
      }
      return true;
    } finally {
      await fs.rm(stage, { recursive: true, force: true });
    }
  }
}

/**
 * Uploads every bundle among `sources` (artifact sources of a compiled workflow) to `storage`,
 * each once. Returns the keys uploaded and the keys already there.
 */
export async function uploadBundles(sources: Iterable<object>, storage: StorageClient): Promise<{ uploaded: string[]; present: string[] }> {
  const uploaded: string[] = [];
  const present: string[] = [];
  const seen = new Set<string>();
  for (const s of sources) {
    if (!(s instanceof BundleArtifact) || seen.has(s.key)) continue;
    seen.add(s.key);
    ((await s.upload(storage)) ? uploaded : present).push(s.key);
  }
  return { uploaded, present };
}
