/**
 * Argo's node identities: a node's id is derived from its name, so a resumed run (or Argo
 * itself) gives the same node the same id.
 */

import { argoNameHash, argoNodeId } from "../argo/pod-name.ts";

/** 32-bit FNV-1a of the UTF-8 bytes of `text`, as Go's `hash/fnv` computes it (Argo's node-name hash). */
export const fnv32a: (text: string) => number = argoNameHash;

/**
 * The id Argo gives the node named `nodeName` in workflow `workflowName`: the workflow name for
 * the root node, else `<workflow>-<fnv32a(name)>`.
 *
 * @example
 * nodeId("steps-x2k9q", "steps-x2k9q[0].hello1"); // "steps-x2k9q-<decimal hash>"
 */
export function nodeId(workflowName: string, nodeName: string): string {
  return argoNodeId(workflowName, nodeName);
}
