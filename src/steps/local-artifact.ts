/**
 * `localArtifact`: files on this machine as an input artifact. The manifest names a key in
 * the artifact repository derived from the files' names, sizes and modification times (so
 * compiling twice gives the same manifest, and unchanged files are uploaded once);
 * `workflow.run()` and `workflow.submit()` upload them there before the workflow starts.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Artifact } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";
import { LEVEL_MARKER, checkNestedKey } from "../expr/nested-layout.ts";
import type { TransferProgress } from "../artifacts/transfer.ts";
import type { StorageClient } from "../storage/client.ts";
import type { ArtifactSource } from "./artifact-source.ts";

/** Key prefix of uploaded local artifacts in the repository. */
export const UPLOADS_PREFIX = "opflow-uploads";

/** A tree of local paths: records and lists, paths at the leaves (a nested artifact). */
export type LocalPathTree = readonly (string | LocalPathTree)[] | { readonly [key: string]: string | LocalPathTree };

type Paths = string | readonly string[] | Readonly<Record<string, string>> | LocalPathTree;

function fingerprint(hash: ReturnType<typeof createHash>, p: string, rel: string): void {
  const st = fs.lstatSync(p);
  hash.update(`${rel}\0${st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : "f"}\0${st.size}\0${Math.trunc(st.mtimeMs)}\n`);
  if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) fingerprint(hash, path.join(p, e), `${rel}/${e}`);
}

/** Options of {@link LocalArtifact.upload}. */
export interface LocalArtifactUploadOptions {
  /**
   * Called as data moves (see `uploadArtifact`).
   * @default none
   */
  readonly onProgress?: (progress: TransferProgress) => void;
}

/** Local files (one path, a list, or named paths) to pass as an input artifact. */
export class LocalArtifact implements ArtifactSource {
  /** What it passes as: one path, a list, a record or a nested tree (an item taken with `at`/`entry` is one path). */
  readonly shape: "path" | "list" | "record" | "nested";
  /** How the files are laid out in the repository. */
  private readonly layout: "path" | "list" | "record" | "nested";
  private readonly entries: readonly [slot: string, path: string][];
  /** The level directories of a nested tree and what each is. */
  private readonly levels: readonly [dir: string, kind: "list" | "record"][] = [];
  private cachedKey: string | undefined;

  constructor(
    paths: Paths,
    private readonly cwd: string = process.cwd(),
    /** Internal: the item passed (Argo's `subPath`), for {@link LocalArtifact.at} and {@link LocalArtifact.key}. */
    private readonly part?: string,
  ) {
    this.shape = this.layout = LocalArtifact.shapeOf(paths);
    if (part !== undefined) this.shape = "path";
    if (typeof paths === "string") {
      this.entries = [["", path.resolve(cwd, paths)]];
    } else if (this.layout === "nested") {
      const entries: [string, string][] = [];
      const levels: [string, "list" | "record"][] = [];
      const walk = (node: string | LocalPathTree, slot: string): void => {
        if (typeof node === "string") {
          entries.push([slot, path.resolve(cwd, node)]);
          return;
        }
        levels.push([slot, Array.isArray(node) ? "list" : "record"]);
        const children: [string, string | LocalPathTree][] = Array.isArray(node) ? node.map((c, i) => [String(i), c]) : Object.entries(node);
        for (const [k, c] of children) {
          if (!Array.isArray(node)) checkNestedKey(k, "localArtifact()");
          walk(c, slot ? `${slot}/${k}` : k);
        }
      };
      walk(paths as LocalPathTree, "");
      this.entries = entries;
      this.levels = levels;
    } else if (Array.isArray(paths)) {
      this.entries = (paths as readonly string[]).map((p, i) => [String(i), path.resolve(cwd, p)]);
    } else {
      this.entries = Object.entries(paths as Record<string, string>).map(([k, p]) => {
        if (!/^[-A-Za-z0-9_.]+$/.test(k) || k === "." || k === "..") throw new ValidationError(`localArtifact(): record key ${JSON.stringify(k)} must be a plain name`);
        return [k, path.resolve(cwd, p)];
      });
    }
    if (!this.entries.length) throw new ValidationError("localArtifact(): give at least one path");
    for (const [, p] of this.entries) {
      if (!fs.existsSync(p)) throw new ValidationError(`localArtifact(): ${JSON.stringify(p)} does not exist`);
    }
  }

  private static shapeOf(paths: Paths): "path" | "list" | "record" | "nested" {
    if (typeof paths === "string") return "path";
    const values: unknown[] = Array.isArray(paths) ? paths : Object.values(paths);
    if (values.some((v) => typeof v !== "string")) return "nested";
    return Array.isArray(paths) ? "list" : "record";
  }

  /**
   * Item `index` of a list of local files (negative from the end), as one path: the same
   * upload, with Argo's `subPath` naming the item (`<index>/<name>`).
   *
   * @example
   * new Step("first", readT, { artifacts: { f: localArtifact(["a.csv", "b.csv"]).at(-1) } })
   */
  at(index: number): LocalArtifact {
    if (this.shape !== "list") throw new ValidationError(`localArtifact(): at() addresses an item of a list of files; this is a ${this.shape}`);
    if (!Number.isInteger(index) || index >= this.entries.length || index < -this.entries.length) {
      throw new ValidationError(`localArtifact(): at(${index}): the list has ${this.entries.length} item${this.entries.length === 1 ? "" : "s"}`);
    }
    return this.itemAt(this.entries[index < 0 ? this.entries.length + index : index] as [string, string]);
  }

  /**
   * Entry `key` of named local files, as one path (`subPath` `<key>/<name>`): what
   * `ref.key(k)` is for references (`key` here is the repository key).
   *
   * @example
   * new Step("fit", fitT, { artifacts: { x: localArtifact({ x: "x.npy", y: "y.npy" }).entry("x") } })
   */
  entry(key: string): LocalArtifact {
    if (this.shape !== "record") throw new ValidationError(`localArtifact(): entry() addresses an entry of named files; this is a ${this.shape}`);
    const entry = this.entries.find(([slot]) => slot === key);
    if (!entry) throw new ValidationError(`localArtifact(): entry(${JSON.stringify(key)}): no such entry (entries: ${this.entries.map(([k]) => k).join(", ")})`);
    return this.itemAt(entry);
  }

  private itemAt([slot, p]: readonly [string, string]): LocalArtifact {
    const paths = this.layout === "list" ? this.entries.map(([, e]) => e) : Object.fromEntries(this.entries);
    return new LocalArtifact(paths, this.cwd, `${slot}/${path.basename(p)}`);
  }

  /** The repository key the files are uploaded to. */
  get key(): string {
    if (!this.cachedKey) {
      const hash = createHash("sha256");
      hash.update(this.layout);
      for (const [dir, kind] of this.levels) hash.update(`${dir}\0${kind}\n`);
      for (const [slot, p] of this.entries) fingerprint(hash, p, `${slot}/${path.basename(p)}`);
      const base = this.layout === "path" ? path.basename(this.entries[0]?.[1] as string) : this.layout;
      this.cachedKey = `${UPLOADS_PREFIX}/${hash.digest("hex").slice(0, 20)}/${base.replace(/[^-A-Za-z0-9_.]/g, "_")}.tgz`;
    }
    return this.cachedKey;
  }

  toArgoArtifact(): Omit<Artifact, "name"> {
    return this.part === undefined ? { s3: { key: this.key } } : { s3: { key: this.key }, subPath: this.part };
  }

  /**
   * Uploads the files in the runtime contract's layout (a list as `<index>/<name>`, a record
   * as `<key>/<name>`), unless the key holds them already.
   */
  async upload(storage: StorageClient, options: LocalArtifactUploadOptions = {}): Promise<void> {
    const { onProgress } = options;
    if (await storage.exists(this.key)) return;
    const { uploadArtifact } = await import("../artifacts/transfer.ts");
    if (this.layout === "path") {
      await uploadArtifact(storage, this.entries[0]?.[1] as string, { key: this.key, ...(onProgress && { onProgress }) });
      return;
    }
    const os = await import("node:os");
    const stage = await fs.promises.mkdtemp(path.join(os.tmpdir(), "opflow-local-artifact-"));
    const root = path.join(stage, this.layout);
    try {
      for (const [slot, p] of this.entries) {
        const dest = path.join(root, slot, path.basename(p));
        await fs.promises.mkdir(path.dirname(dest), { recursive: true });
        await fs.promises.cp(p, dest, { recursive: true, verbatimSymlinks: true });
      }
      for (const [dir, kind] of this.levels) {
        await fs.promises.mkdir(path.join(root, dir), { recursive: true });
        await fs.promises.writeFile(path.join(root, dir, LEVEL_MARKER), kind);
      }
      await uploadArtifact(storage, root, { key: this.key, ...(onProgress && { onProgress }) });
    } finally {
      await fs.promises.rm(stage, { recursive: true, force: true });
    }
  }
}

/**
 * Files on this machine as an input artifact: one path, a list of paths (an `artifact.list()`
 * input), named paths (an `artifact.record()` input), or a deeper tree of records and lists
 * (an `artifact.nested()` input: `{ model: { weights: "w.bin" }, runs: ["0.log", "1.log"] }`). Uploaded to the artifact repository
 * by `workflow.run()` / `workflow.submit()` before the workflow starts.
 *
 * @example
 * new Step("train", trainT, { artifacts: { data: localArtifact("data/train.csv") } })
 */
export function localArtifact(paths: Paths, options: { readonly cwd?: string } = {}): LocalArtifact {
  return new LocalArtifact(paths, options.cwd);
}

/** Uploads every local artifact among `sources` to `storage`. */
export async function uploadLocalArtifacts(sources: Iterable<object>, storage: StorageClient): Promise<void> {
  for (const s of sources) if (s instanceof LocalArtifact) await s.upload(storage);
}
