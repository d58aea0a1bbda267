/**
 * Resume and reuse: steps a previous engine of the same run finished are taken over when their
 * digest (node-digest.ts) still matches — else they run again, and the report says why; keyed
 * steps of other runs are taken over by key (`reuse`); steps whose digest any earlier run of
 * the workdir computed come from the content-hash cache (step-cache.ts).
 */
import path from "node:path";
import type { NodeStatus, Parameter, Template } from "../argo/model.ts";
import { CACHE_ANNOTATION, type LocalBindings } from "../contract.ts";
import type { Place } from "./_context.ts";
import type { ArtifactRef } from "./artifact-io.ts";
import type { Globals } from "./globals.ts";
import type { NodeBook } from "./node-book.ts";
import { clipMessage } from "./message-cap.ts";
import { NodeDigests, changeReasons, type DigestRecord } from "./node-digests.ts";
import { safeSegment, type StateTree, type StoredNode } from "./state-tree.ts";
import { STEP_CACHE_NAME, type StepCache } from "./step-cache.ts";

/** A step taken over instead of run. */
export interface ReusedNode {
  readonly id: string;
  /** Node name (`wf[0].train`). */
  readonly name: string;
  /** `resumed`: recorded by an earlier engine of this run, unchanged; `key`: a keyed step of another run (`reuse`); `cache`: the content-hash cache. */
  readonly how: "resumed" | "key" | "cache";
  /** Where it came from (`key`: the run, or the node id of a step given with its outputs; `cache`: run/step). */
  readonly from?: string;
}

/** A step an earlier engine of this run finished, that ran again because something it depends on changed. */
export interface RerunNode {
  readonly id: string;
  readonly name: string;
  /** What changed: `parameter n changed ("5" → "10")`, `template changed (…)`, `input artifact data changed`. */
  readonly reasons: readonly string[];
}

/** What a run took over, and what it ran again because it changed. */
export interface ResumeReport {
  readonly reused: ReusedNode[];
  readonly rerun: RerunNode[];
}

/** The output artifacts of a stored node, with their paths in its folder (none for a step given without a folder). */
function storedArtifacts(stored: StoredNode, node: NodeStatus = stored.node): Map<string, ArtifactRef> | undefined {
  const arts = node.outputs?.artifacts ?? [];
  if (arts.length === 0) return undefined;
  const m = new Map<string, ArtifactRef>();
  for (const a of arts) m.set(a.name, stored.dir ? { artifact: a, localPath: path.join(stored.dir, "outputs", "artifacts", a.name) } : { artifact: a });
  return m;
}

/** What {@link Resume} needs besides the node book. */
export interface ResumeSources {
  /** Nodes recorded by a previous engine under the same name. */
  readonly previous: ReadonlyMap<string, StoredNode>;
  /** Succeeded keyed steps of other runs, by key (their folder name). */
  readonly reuse: ReadonlyMap<string, StoredNode> | undefined;
  /** The run's templates (with defaults applied), the bindings and the store's MD5: for digests. */
  readonly templates: () => Iterable<Template>;
  readonly bindings: LocalBindings;
  readonly md5?: (key: string) => Promise<string | undefined>;
  readonly tree: StateTree;
  /** The workdir's content-hash cache. */
  readonly cache?: StepCache;
  /** Every pod goes through the cache (`--cache`), not only templates with `cache: true`. */
  readonly cacheAll?: boolean;
}

/** A place in the order nodes are made: wait for `prior`, then `release` (once is enough). */
export interface Turn {
  readonly prior: Promise<void>;
  release(): void;
}

/** Takes over steps of earlier runs. */
export class Resume {
  private taken = 0;
  private lastTurn: Promise<void> = Promise.resolve();
  private digests: NodeDigests | undefined;
  /** Which steps were taken over, and which ran again because they changed. */
  readonly report: ResumeReport = { reused: [], rerun: [] };

  constructor(
    private readonly book: NodeBook,
    private readonly globals: Globals,
    private readonly src: ResumeSources,
  ) {}

  /**
   * The next place in the order nodes are made: an invocation waits for the one before it to
   * have made (or taken over) its node — digests, which read artifacts, take unequal times.
   */
  turn(): Turn {
    const prior = this.lastTurn;
    let release!: () => void;
    this.lastTurn = new Promise<void>((resolve) => (release = resolve));
    return { prior, release };
  }

  /** How many nodes were taken over. */
  get count(): number {
    return this.taken;
  }

  /**
   * The digest of a node about to run `tmpl` with these inputs (undefined when an input
   * artifact cannot be read: the node then runs, and fails there). Recorded with the node.
   */
  async digest(place: Place, tmpl: Template, inline: boolean, parameters: readonly Parameter[], artifacts: ReadonlyMap<string, ArtifactRef>): Promise<DigestRecord | undefined> {
    // Made at the first node, once the workflow's variables are known.
    this.digests ??= new NodeDigests(this.src.templates(), this.src.bindings, this.globals.vars, this.src.md5);
    let digest: DigestRecord | undefined;
    try {
      digest = await this.digests.of(tmpl, inline, parameters, artifacts);
    } catch {
      return undefined;
    }
    this.src.tree.recordDigest(this.book.idOf(place.name), digest);
    return digest;
  }

  /**
   * A step an earlier engine of this run finished, taken over (with its attempts) when its
   * digest matches; otherwise it runs again, and why is reported. Steps and DAG nodes are never
   * taken over whole: they are walked again (which runs nothing), each step inside taken over
   * or not by its own digest — an input it reads from the store may have changed.
   */
  restore(place: Place, tmpl: Template, digest: DigestRecord | undefined, parameters: readonly Parameter[]): NodeStatus | undefined {
    if (tmpl.steps || tmpl.dag) return undefined;
    const id = this.book.idOf(place.name);
    const prev = this.src.previous.get(id);
    if (!prev || prev.node.phase !== "Succeeded") return undefined;
    const before = { ...(prev.digest ? { digest: prev.digest } : {}), ...(prev.node.inputs?.parameters ? { parameters: prev.node.inputs.parameters } : {}) };
    const reasons = digest ? changeReasons(before, digest, parameters) : ["its inputs could not be read"];
    if (reasons.length > 0) {
      this.report.rerun.push({ id, name: place.name, reasons });
      return undefined;
    }
    this.report.reused.push({ id, name: place.name, how: "resumed" });
    const adopt = (nid: string): void => {
      const p = this.src.previous.get(nid);
      if (!p || this.book.nodes[nid]) return;
      this.book.nodes[nid] = { ...p.node };
      this.taken++;
      const arts = storedArtifacts(p);
      if (arts) this.book.artifacts.set(nid, arts);
      if (p.node.phase === "Succeeded") this.globals.addOutputs(p.node, this.book.artifacts.get(nid));
      // A retried step's attempts.
      for (const c of p.node.children ?? []) adopt(c);
    };
    adopt(id);
    if (place.parentId) this.book.addChild(place.parentId, id);
    const node = this.book.nodes[id] as NodeStatus;
    this.book.changed();
    return node;
  }

  /** A keyed step another run finished (`reuse`, `reuseSteps`): taken over with its outputs. */
  reuseKeyed(place: Place, templateName: string | undefined): NodeStatus | undefined {
    if (!place.key || !this.src.reuse) return undefined;
    const prev = this.src.reuse.get(safeSegment(place.key));
    if (!prev || prev.node.phase !== "Succeeded" || (templateName && prev.node.templateName !== templateName)) return undefined;
    const p = prev.node;
    const node = this.book.create(place, p.type === "Retry" ? "Retry" : p.type, undefined, "Pending", {
      ...(p.templateName ? { templateName: p.templateName } : {}),
      ...(p.inputs ? { inputs: p.inputs } : {}),
      ...(p.outputs ? { outputs: p.outputs } : {}),
    });
    node.phase = "Succeeded";
    node.finishedAt = node.startedAt;
    const from = prev.dir ? path.basename(path.dirname(prev.dir)) : p.id;
    node.message = clipMessage(prev.dir ? `reused from ${from} (key ${place.key})` : `reused ${from} (key ${place.key})`);
    const arts = storedArtifacts(prev, p);
    if (arts) this.book.artifacts.set(node.id, arts);
    this.globals.addOutputs(node, this.book.artifacts.get(node.id));
    this.taken++;
    this.report.reused.push({ id: node.id, name: place.name, how: "key", from });
    this.book.persist(node);
    this.book.changed();
    return node;
  }

  /** Whether steps of `tmpl` go through the content-hash cache: pods of a `--cache` run, or of a template with `cache: true`. */
  cacheable(tmpl: Template): boolean {
    return this.src.cache !== undefined && Boolean(tmpl.container || tmpl.script) && (this.src.cacheAll === true || tmpl.metadata?.annotations?.[CACHE_ANNOTATION] === "true");
  }

  /** A step the content-hash cache has a result for (any earlier run of the workdir): taken over. */
  async cacheHit(place: Place, tmpl: Template, digest: DigestRecord | undefined): Promise<NodeStatus | undefined> {
    if (!digest || !this.src.cache || !this.cacheable(tmpl)) return undefined;
    const hit = await this.src.cache.lookup(digest.digest);
    if (!hit) return undefined;
    const node = this.book.create(place, "Pod", tmpl, "Pending", {
      ...(hit.node.inputs ? { inputs: hit.node.inputs } : {}),
      ...(hit.node.outputs ? { outputs: hit.node.outputs } : {}),
      memoizationStatus: { hit: true, key: digest.digest, cacheName: STEP_CACHE_NAME },
    });
    node.phase = "Succeeded";
    node.finishedAt = node.startedAt;
    node.message = `cache hit: ${hit.run}/${hit.step}`;
    const arts = hit.node.outputs?.artifacts ?? [];
    if (arts.length > 0) {
      const m = new Map<string, ArtifactRef>();
      for (const a of arts) m.set(a.name, hit.artifactPaths[a.name] ? { artifact: a, localPath: hit.artifactPaths[a.name] as string } : { artifact: a });
      this.book.artifacts.set(node.id, m);
    }
    this.globals.addOutputs(node, this.book.artifacts.get(node.id));
    this.taken++;
    this.report.reused.push({ id: node.id, name: place.name, how: "cache", from: `${hit.run}/${hit.step}` });
    this.book.persist(node);
    this.book.changed();
    return node;
  }

  /** Records a step that ran in the content-hash cache (when it Succeeded); marks it a cache miss. */
  async cacheStore(node: NodeStatus, tmpl: Template, digest: DigestRecord | undefined): Promise<void> {
    if (!digest || !this.src.cache || !this.cacheable(tmpl) || node.memoizationStatus?.hit) return;
    node.memoizationStatus = { hit: false, key: digest.digest, cacheName: STEP_CACHE_NAME };
    if (node.phase !== "Succeeded") return;
    const dir = this.src.tree.nodeDir(node);
    await this.src.cache.store(digest.digest, { run: this.book.wfName, step: path.basename(dir), dir, node }).catch(() => undefined);
  }

  /** {@link restore}, else {@link reuseKeyed}, else {@link cacheHit}. */
  async takeOver(place: Place, tmpl: Template, templateName: string | undefined, digest: DigestRecord | undefined, parameters: readonly Parameter[]): Promise<NodeStatus | undefined> {
    return this.restore(place, tmpl, digest, parameters) ?? this.reuseKeyed(place, templateName) ?? (await this.cacheHit(place, tmpl, digest));
  }
}
