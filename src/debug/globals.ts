/**
 * The workflow's global scope: `workflow.*` variables (name, parameters, status, global outputs
 * `workflow.outputs.parameters.*`) and global output artifacts.
 */
import type { Artifact, NodeStatus, Outputs, Parameter } from "../argo/model.ts";
import type { ArtifactRef } from "./artifact-io.ts";
import type { Vars } from "./scope.ts";

/** The global variables and artifacts of one run. */
export class Globals {
  /** `workflow.*` variables; scopes see later changes (their prototype is this object). */
  readonly vars: Vars = {};
  /** Global output artifacts, by `workflow.outputs.artifacts.<name>`. */
  readonly artifacts = new Map<string, ArtifactRef>();

  /** Publishes the `globalName`d outputs of a succeeded node. */
  addOutputs(node: NodeStatus, arts: ReadonlyMap<string, ArtifactRef> | undefined): void {
    for (const p of node.outputs?.parameters ?? []) {
      if (p.globalName && p.value !== undefined) this.vars[`workflow.outputs.parameters.${p.globalName}`] = p.value;
    }
    for (const a of node.outputs?.artifacts ?? []) {
      if (a.globalName) this.artifacts.set(`workflow.outputs.artifacts.${a.globalName}`, arts?.get(a.name) ?? { artifact: a });
    }
  }

  /** The workflow's outputs (`status.outputs`): its global output parameters and artifacts. */
  outputs(): Outputs | undefined {
    const parameters: Parameter[] = [];
    const artifacts: Artifact[] = [];
    for (const [k, v] of Object.entries(this.vars)) {
      const m = /^workflow\.outputs\.parameters\.(.+)$/.exec(k);
      if (m) parameters.push({ name: m[1] as string, value: v });
    }
    for (const [k, ref] of this.artifacts) {
      const m = /^workflow\.outputs\.artifacts\.(.+)$/.exec(k);
      if (m) artifacts.push({ ...ref.artifact, name: m[1] as string });
    }
    if (parameters.length === 0 && artifacts.length === 0) return undefined;
    const out: Outputs = {};
    if (parameters.length > 0) out.parameters = parameters;
    if (artifacts.length > 0) out.artifacts = artifacts;
    return out;
  }
}
