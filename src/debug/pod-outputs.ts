/**
 * Collecting a pod's outputs from the step's folder after it ran, as Argo's executor does:
 * the phase from how it ended, `exitCode` and `result`, output parameters (`valueFrom.path`,
 * `value`, `default`) also written to the contract's `outputs/parameters/<name>`, output
 * artifacts saved to the artifact store.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Artifact, NodePhase, Outputs, Parameter } from "../argo/model.ts";
import { contractPaths } from "../contract.ts";
import { EngineError, OpflowError } from "../errors.ts";
import type { PodEnd } from "../executors/executor.ts";
import type { ArtifactIO, ArtifactRef } from "./artifact-io.ts";
import { symlinkIfElsewhere } from "./pod-inputs.ts";
import { outputSchemaViolation } from "./output-schemas.ts";
import { existingPath, hostPath, outsideOfMappedPaths, type PathMode } from "./pod-paths.ts";
import { atomicWriteSync } from "../files.ts";

/** What collecting outputs needs. */
export interface OutputCollection {
  readonly nodeName: string;
  readonly nodeId: string;
  readonly dir: string;
  readonly mode: PathMode;
  /** The template's output declarations, tags resolved. */
  readonly parameters: readonly Parameter[];
  readonly artifacts: readonly Artifact[];
  readonly artifactIO: ArtifactIO;
  /** For messages: `node "…" (template "…")`. */
  readonly where: string;
  /** When the pod started (a file outside /tmp and /mnt older than that is not its output). */
  readonly startedMs: number;
  /** Where a declared path inside a volume mounted outside /tmp and /mnt is. */
  readonly inVolume?: (declared: string) => string | undefined;
  /**
   * JSON Schemas of the output parameters (the template's `opflow.dev/output-schemas`
   * annotation): a value that does not match fails the node. @default not checked
   */
  readonly schemas?: string;
}

/** Where a declared output path is on this machine. */
function outputPath(c: OutputCollection, declared: string): string {
  return outsideOfMappedPaths(declared, existingPath(declared, c.dir, c.mode), c.dir, c.startedMs, c.inVolume?.(declared));
}

/** What the pod's end and its outputs make of the node. */
export interface CollectedOutputs {
  readonly phase: NodePhase;
  readonly message?: string;
  readonly outputs: Outputs;
  /** Output artifacts with their local paths, by name. */
  readonly artifacts: Map<string, ArtifactRef>;
}

function trimOneNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** The phase and message of a pod that ended as `end` says. */
export function podPhase(end: PodEnd, timeoutMessage: string): { phase: NodePhase; message?: string } {
  if (end.startError) return { phase: "Error", message: end.startError };
  if (end.timedOut) return { phase: "Failed", message: timeoutMessage };
  if (end.aborted) return { phase: "Failed", message: "Stopped: the engine was interrupted" };
  if (end.exitCode !== 0) return { phase: "Failed", message: end.message ?? `Error (exit code ${end.exitCode})` };
  return { phase: "Succeeded" };
}

/** The value of one output parameter (undefined: none, and none needed). */
function parameterValue(c: OutputCollection, p: Parameter, phase: NodePhase): string | undefined {
  if (p.valueFrom?.path) {
    try {
      // A small text file: read directly (cheaper than a round trip through the thread pool).
      return trimOneNewline(readFileSync(outputPath(c, p.valueFrom.path), "utf8"));
    } catch {
      const value = p.valueFrom.default;
      if (value === undefined && phase === "Succeeded") throw new EngineError(`${c.where}: output parameter "${p.name}": ${p.valueFrom.path} does not exist and has no default`);
      return value;
    }
  }
  if (p.value !== undefined) return p.value;
  if (p.valueFrom?.default !== undefined) return p.valueFrom.default;
  if (p.valueFrom && phase === "Succeeded") {
    throw new EngineError(`${c.where}: output parameter "${p.name}": only valueFrom.path, value and default are supported on a container/script template, got ${JSON.stringify(p.valueFrom)}`);
  }
  return undefined;
}

/**
 * Collects the outputs of a pod that ended as `end`; a declared output that cannot be read
 * turns a Succeeded pod into Error.
 */
export async function collectOutputs(c: OutputCollection, end: PodEnd, ended: { phase: NodePhase; message?: string }): Promise<CollectedOutputs> {
  let { phase, message } = ended;
  const outputs: Outputs = { exitCode: String(end.exitCode), result: trimOneNewline(end.stdout) };
  const params: Parameter[] = [];
  const artifacts = new Map<string, ArtifactRef>();
  const recordedArtifacts: Artifact[] = [];
  try {
    for (const p of c.parameters) {
      const value = parameterValue(c, p, phase);
      if (value === undefined) continue;
      params.push({ name: p.name, value, ...(p.globalName ? { globalName: p.globalName } : {}) });
      const contractFile = path.join(c.dir, contractPaths.outputParameter(p.name));
      if (!p.valueFrom?.path || path.resolve(hostPath(p.valueFrom.path, c.dir)) !== contractFile) atomicWriteSync(contractFile, value);
    }
    for (const a of c.artifacts) {
      const src = a.path ? outputPath(c, a.path) : path.join(c.dir, contractPaths.outputArtifact(a.name));
      try {
        const ref = await c.artifactIO.saveOutput(c.nodeName, c.nodeId, a, src);
        if (!ref) continue;
        artifacts.set(a.name, ref);
        recordedArtifacts.push(ref.artifact);
        await symlinkIfElsewhere(path.join(c.dir, contractPaths.outputArtifact(a.name)), src);
      } catch (err) {
        if (phase === "Succeeded") throw err;
      }
    }
  } catch (err) {
    phase = "Error";
    message = err instanceof OpflowError ? err.message : `${c.where}: ${(err as Error).message}`;
  }
  if (phase === "Succeeded") {
    const violation = outputSchemaViolation(c.schemas, c.parameters, params);
    if (violation) {
      phase = "Failed";
      message = `${c.where}: ${violation}`;
    }
  }
  if (params.length > 0) outputs.parameters = params;
  if (recordedArtifacts.length > 0) outputs.artifacts = recordedArtifacts;
  return { phase, ...(message !== undefined ? { message } : {}), outputs, artifacts };
}
