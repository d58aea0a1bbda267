/** Helpers for the engine's tests: hand-written Argo manifests and throwaway workdirs. */
import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { NodeStatus, Template, Workflow, WorkflowSpec, WorkflowStatus } from "../../src/argo/model.ts";

/** A manifest with `templates`, entrypoint the first one. */
export function manifest(name: string, templates: Template[], spec: Partial<WorkflowSpec> = {}): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name },
    spec: { entrypoint: templates[0]?.name ?? "main", templates, ...spec },
  };
}

/** A container template running `sh -c script`. */
export function sh(name: string, script: string, extra: Partial<Template> = {}): Template {
  return { name, container: { image: "busybox", command: ["sh", "-c"], args: [script] }, ...extra };
}

const made: string[] = [];

/** A fresh workdir (removed by {@link removeWorkdirs}). */
export async function workdir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-engine-"));
  made.push(dir);
  return dir;
}

/** Removes the workdirs this test file made (call from `afterAll`). */
export async function removeWorkdirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
}

/** The node whose display name is `displayName` (throws when there is none or several). */
export function node(status: WorkflowStatus, displayName: string): NodeStatus {
  const found = Object.values(status.nodes ?? {}).filter((n) => n.displayName === displayName);
  if (found.length !== 1) throw new Error(`expected one node "${displayName}", found ${found.length}: ${Object.values(status.nodes ?? {}).map((n) => n.displayName).join(", ")}`);
  return found[0] as NodeStatus;
}

/** Every node's display name → phase. */
export function phases(status: WorkflowStatus): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of Object.values(status.nodes ?? {})) out[n.displayName] = n.phase;
  return out;
}

/** An output parameter's value. */
export function outParam(n: NodeStatus, name: string): string | undefined {
  return n.outputs?.parameters?.find((p) => p.name === name)?.value;
}

/** Stand-ins for commands the upstream examples use (`cowsay`, `argosay`), so tests need nothing installed. */
export const STAND_IN_BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../fixtures/bin");

/**
 * Puts {@link STAND_IN_BIN} first on this test process's PATH (vitest runs each test file in a
 * process of its own), so steps that run `cowsay` get the stand-in whatever is installed.
 */
export function useStandIns(): void {
  if (!(process.env["PATH"] ?? "").split(":").includes(STAND_IN_BIN)) process.env["PATH"] = `${STAND_IN_BIN}:${process.env["PATH"] ?? "/usr/bin:/bin"}`;
}

/** Whether `command` can be found on PATH (plus /usr/games, as the engine's steps see it). */
export function haveCommand(command: string): boolean {
  const dirs = [...(process.env["PATH"] ?? "").split(":"), "/usr/games"].filter(Boolean);
  return dirs.some((d) => {
    try {
      fsSync.accessSync(path.join(d, command), fsSync.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
