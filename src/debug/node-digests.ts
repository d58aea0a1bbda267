/**
 * The digests of one run's nodes ({@link nodeDigest}), with what they need from the run: the
 * templates as the engine runs them, the code behind OP templates, the workflow variables, the
 * checksums of input artifacts (each computed once per run); and why a node recorded by an
 * earlier engine no longer matches.
 */
import path from "node:path";
import type { Parameter, Template } from "../argo/model.ts";
import { KEY_PARAMETER, type LocalBindings } from "../contract.ts";
import type { ArtifactRef } from "./artifact-io.ts";
import { artifactChecksum, moduleSourceHash } from "./content-checksum.ts";
import { TemplateDigests, nodeDigest } from "./node-digest.ts";

/** What a node's digest was made of, as the journal records it. */
export interface DigestRecord {
  /** The node digest. */
  readonly digest: string;
  /** The digest of its template (and what that calls, and the code behind it). */
  readonly template: string;
  /** Checksums of its input artifacts, by name. */
  readonly artifacts?: Readonly<Record<string, string>>;
}

/** The code an OP template runs: the module its in-process binding came from, else `--module <file>` of its command. */
function codeFile(t: Template, bindings: LocalBindings): string | undefined {
  const bound = bindings.get(t.name)?.codeFile;
  if (bound) return bound;
  const args = [...(t.container?.command ?? []), ...(t.container?.args ?? [])];
  const i = args.indexOf("--module");
  const file = i >= 0 ? args[i + 1] : undefined;
  return file ? path.resolve(file) : undefined;
}

/** Digests of the nodes of one run. */
export class NodeDigests {
  private readonly templates: TemplateDigests;
  private readonly checksums = new Map<string, Promise<string>>();

  /**
   * @param templates the run's templates (with `templateDefaults` applied)
   * @param globals the workflow variables at the start of the run
   * @param md5 the store's MD5 of a key, for artifacts known only by key
   */
  constructor(
    templates: Iterable<Template>,
    bindings: LocalBindings,
    globals: Readonly<Record<string, string>>,
    private readonly md5?: (key: string) => Promise<string | undefined>,
  ) {
    const stable: Record<string, string> = {};
    // Variables that change while the run goes on are not part of what a template is.
    for (const [k, v] of Object.entries(globals)) if (!/^workflow\.(status|duration|failures|outputs\.)/.test(k)) stable[k] = v;
    this.templates = new TemplateDigests(templates, {
      code: (t) => {
        const file = codeFile(t, bindings);
        return file ? moduleSourceHash(file) : undefined;
      },
      globals: stable,
    });
  }

  private checksum(ref: ArtifactRef): Promise<string> {
    const id = ref.localPath ?? `${ref.artifact.s3?.key ?? ""}\u0000${ref.artifact.raw?.data ?? ""}`;
    let sum = this.checksums.get(id);
    if (!sum) this.checksums.set(id, (sum = artifactChecksum(ref, this.md5)));
    return sum;
  }

  /** The digest record of a node running `tmpl` (given inline or by name) with these inputs. */
  async of(tmpl: Template, inline: boolean, parameters: readonly Parameter[], artifacts: ReadonlyMap<string, ArtifactRef>): Promise<DigestRecord> {
    const template = inline ? this.templates.ofInline(tmpl) : this.templates.of(tmpl.name);
    const sums: Record<string, string> = {};
    for (const [name, ref] of artifacts) sums[name] = await this.checksum(ref);
    const digest = nodeDigest({ template, parameters, artifacts: Object.entries(sums).map(([name, checksum]) => ({ name, checksum })) });
    return { digest, template, ...(artifacts.size > 0 ? { artifacts: sums } : {}) };
  }
}

/**
 * Why a node recorded earlier (`before`, with the input parameters it had) does not match the
 * same node now: the template or its code, each input parameter that changed (old → new), each
 * input artifact whose content changed.
 */
export function changeReasons(
  before: { readonly digest?: DigestRecord; readonly parameters?: readonly Parameter[] },
  now: DigestRecord,
  parameters: readonly Parameter[],
): string[] {
  const was = before.digest;
  if (!was) return ["recorded without a digest (an older engine)"];
  if (was.digest === now.digest) return [];
  const reasons: string[] = [];
  if (was.template !== now.template) reasons.push("template changed (its spec, a template it calls, the OP's code, or a workflow variable it reads)");
  const old = new Map((before.parameters ?? []).map((p) => [p.name, p.value]));
  const cur = new Map(parameters.map((p) => [p.name, p.value]));
  const short = (v: string | undefined): string => (v === undefined ? "none" : JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v));
  for (const name of new Set([...old.keys(), ...cur.keys()])) {
    if (name === KEY_PARAMETER) continue;
    if (old.get(name) !== cur.get(name)) reasons.push(`parameter ${name} changed (${short(old.get(name))} → ${short(cur.get(name))})`);
  }
  const oldArts = was.artifacts ?? {};
  const curArts = now.artifacts ?? {};
  for (const name of new Set([...Object.keys(oldArts), ...Object.keys(curArts)])) {
    if (oldArts[name] !== curArts[name]) reasons.push(`input artifact ${name} changed`);
  }
  if (reasons.length === 0) reasons.push("inputs changed");
  return reasons;
}
