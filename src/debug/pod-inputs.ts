/**
 * Laying out a pod's inputs in the step's folder before it runs: input parameters as files,
 * input artifacts at their declared paths (and at the contract's `inputs/artifacts/<name>`).
 */
import fs from "node:fs/promises";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Artifact, Parameter, Template } from "../argo/model.ts";
import { contractPaths } from "../contract.ts";
import type { ArtifactIO, ArtifactRef } from "./artifact-io.ts";
import { hostPath, literalPath, type PathMode } from "./pod-paths.ts";
import { writeText } from "./state-tree.ts";
import { VALUE_INLINE_MAX, type ValueStore } from "./value-store.ts";

/** What laying out inputs needs. */
export interface InputLayout {
  readonly nodeName: string;
  /** The step's folder (created with the contract's sub-folders the template needs). */
  readonly dir: string;
  readonly template: Template;
  readonly parameters: readonly Parameter[];
  readonly artifacts: ReadonlyMap<string, ArtifactRef>;
  readonly artifactIO: ArtifactIO;
  /** Write small files with direct calls (few steps in flight) rather than through the pool. */
  readonly directIO?: boolean;
  /** The run's large values: an input parameter file of one is a hard link to it, not a copy. */
  readonly values?: ValueStore;
  readonly mode: PathMode;
}

/** Makes `link` a symbolic link to `target` unless they are the same path. */
export async function symlinkIfElsewhere(link: string, target: string): Promise<void> {
  if (path.resolve(link) === path.resolve(target)) return;
  await fs.mkdir(path.dirname(link), { recursive: true });
  await fs.rm(link, { recursive: true, force: true });
  await fs.symlink(path.relative(path.dirname(link), target) || ".", link).catch(() => undefined);
}

/** Lays out the inputs; returns the input artifacts Argo records on the node. */
export async function layOutInputs(l: InputLayout): Promise<Artifact[]> {
  const dir = l.dir;
  // The engine created <dir>/outputs/parameters and <dir>/inputs/parameters.
  // The engine created workdir/ (processes) and outputs/artifacts/ (declared artifacts).
  if (l.mode === "mounted") mkdirSync(path.join(dir, "mnt"), { recursive: true });
  // Inputs of a step that has not started: nothing reads them yet, and a run that dies here
  // lays them out again when it re-runs the step.
  const large = l.values ? l.parameters.filter((p) => (p.value?.length ?? 0) > VALUE_INLINE_MAX) : [];
  for (const p of large) l.values?.writeFile(path.join(dir, contractPaths.inputParameter(p.name)), p.value ?? "");
  const small = large.length > 0 ? l.parameters.filter((p) => !large.includes(p)) : l.parameters;
  if (l.directIO) for (const p of small) writeFileSync(path.join(dir, contractPaths.inputParameter(p.name)), p.value ?? "");
  else await Promise.all(small.map((p) => writeText(path.join(dir, contractPaths.inputParameter(p.name)), p.value ?? "")));
  const inputArtifacts: Artifact[] = [];
  for (const a of l.template.inputs?.artifacts ?? []) {
    const ref = l.artifacts.get(a.name);
    if (!ref) continue;
    const contractPath = path.join(dir, contractPaths.inputArtifact(a.name));
    const dest = a.path ? hostPath(a.path, dir) : contractPath;
    await l.artifactIO.loadInput(l.nodeName, a.name, ref, dest, a.subPath);
    const literal = a.path ? literalPath(a.path, dir, l.mode) : undefined;
    if (literal) await l.artifactIO.loadInput(l.nodeName, a.name, ref, literal, a.subPath);
    if (a.mode !== undefined) await fs.chmod(dest, a.mode).catch(() => undefined);
    await symlinkIfElsewhere(contractPath, dest);
    inputArtifacts.push({ ...ref.artifact, name: a.name, ...(a.path ? { path: a.path } : {}) });
  }
  return inputArtifacts;
}
