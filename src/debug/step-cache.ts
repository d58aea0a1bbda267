/**
 * The opt-in content-hash cache of the local engine (`cache: true` / `--cache`): results of
 * steps by node digest, shared by every run of a workdir. A step whose digest an earlier run
 * recorded is not run again: its outputs (and its output artifacts, from that run's folder, or
 * from the store by key when the folder is gone) are taken over.
 *
 * Layout: `<workdir>/.cache/<first 2 hex digits>/<digest>.json`, each written atomically.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { NodeStatus } from "../argo/model.ts";
import { atomicWrite, pathExists } from "../files.ts";
import { contentChecksum } from "./content-checksum.ts";

/** The cache name nodes report in `memoizationStatus.cacheName` (Argo's field for cache hits). */
export const STEP_CACHE_NAME = "opflow-step-cache";

/** What the cache keeps of a step. */
export interface StepCacheEntry {
  /** The run that computed it. */
  readonly run: string;
  /** The step's folder name in that run. */
  readonly step: string;
  /** Its node (inputs, outputs) as that run recorded it. */
  readonly node: NodeStatus;
  /** Its folder (for the output artifacts' bytes), relative to the workdir. */
  readonly dir: string;
  /** Checksums of its output artifacts when it was recorded: a folder changed since (the run re-ran the step) is no hit. */
  readonly artifacts?: Readonly<Record<string, string>>;
}

/** A cache hit: the entry, and where its output artifacts still are on this machine. */
export interface StepCacheHit extends StepCacheEntry {
  /** Output artifact name → its path in the producing run's folder (only those still there). */
  readonly artifactPaths: Readonly<Record<string, string>>;
}

/** The cache of one workdir. */
export class StepCache {
  /** `<workdir>/.cache`. */
  readonly dir: string;

  constructor(private readonly workdir: string) {
    this.dir = path.join(workdir, ".cache");
  }

  private file(digest: string): string {
    if (!/^[0-9a-f]{16,}$/.test(digest)) throw new Error(`step cache: not a digest: ${JSON.stringify(digest)}`);
    return path.join(this.dir, digest.slice(0, 2), `${digest}.json`);
  }

  /** The result recorded for `digest`, or undefined (also for an unreadable entry). */
  async lookup(digest: string): Promise<StepCacheHit | undefined> {
    let entry: StepCacheEntry;
    try {
      entry = JSON.parse(await fs.readFile(this.file(digest), "utf8")) as StepCacheEntry;
    } catch {
      return undefined;
    }
    if (entry?.node?.phase !== "Succeeded" || typeof entry.dir !== "string") return undefined;
    const abs = path.resolve(this.workdir, entry.dir);
    const artifactPaths: Record<string, string> = {};
    // The bytes must still be those the step made: the folder (and the store's key) is reused
    // when that run runs the step again with other inputs.
    for (const a of entry.node.outputs?.artifacts ?? []) {
      const p = path.join(abs, "outputs", "artifacts", a.name);
      if (!(await pathExists(p)) || (await contentChecksum(p).catch(() => "")) !== entry.artifacts?.[a.name]) return undefined;
      artifactPaths[a.name] = p;
    }
    return { ...entry, dir: abs, artifactPaths };
  }

  /** Records the result of a Succeeded step (`dir`: its folder). */
  async store(digest: string, entry: Omit<StepCacheEntry, "artifacts">): Promise<void> {
    const artifacts: Record<string, string> = {};
    for (const a of entry.node.outputs?.artifacts ?? []) artifacts[a.name] = await contentChecksum(path.join(entry.dir, "outputs", "artifacts", a.name));
    const rel: StepCacheEntry = { ...entry, dir: path.relative(this.workdir, entry.dir), artifacts };
    await atomicWrite(this.file(digest), JSON.stringify(rel), true);
  }
}
