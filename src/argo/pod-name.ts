/**
 * Names Argo gives to nodes and pods, reproduced so opflow can find a step's pod (for logs)
 * from the workflow status. Argo v3.4+ names pods `<workflow>-<template>-<argoNameHash(node name)>`
 * ("v2"); the annotation `workflows.argoproj.io/pod-name-format: v1` selects the node id.
 */
import type { NodeStatus, Workflow } from "./model.ts";

/** Annotation that selects Argo's pod naming scheme. */
export const POD_NAME_FORMAT_ANNOTATION = "workflows.argoproj.io/pod-name-format";

const MAX_NAME = 253;
const HASH_LENGTH = 10;

/** 32-bit FNV-1a of the UTF-8 bytes of `text`, as Argo hashes node names. */
export function argoNameHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The id Argo gives the node named `nodeName` (the workflow's root node has the workflow name). */
export function argoNodeId(workflowName: string, nodeName: string): string {
  return nodeName === workflowName ? workflowName : `${workflowName}-${argoNameHash(nodeName)}`;
}

/** The template a node ran (for pod names): its template name, or that of its templateRef. */
function nodeTemplateName(node: NodeStatus): string {
  return node.templateName ?? "";
}

/**
 * The pod name of a Pod node.
 *
 * @example
 * ```ts
 * podName("hello-abc12", { name: "hello-abc12[0].say", templateName: "whalesay", id: "…" }) // "hello-abc12-whalesay-<hash>"
 * ```
 */
export function podName(
  workflowName: string,
  node: Pick<NodeStatus, "name" | "id" | "templateName">,
  format: "v1" | "v2" = "v2",
): string {
  const template = nodeTemplateName(node as NodeStatus);
  if (format === "v1" || template === "") return node.id;
  if (node.name === workflowName) return workflowName;
  let prefix = `${workflowName}-${template}`;
  const maxPrefix = MAX_NAME - HASH_LENGTH - 1;
  if (prefix.length > maxPrefix) prefix = prefix.slice(0, maxPrefix);
  return `${prefix}-${argoNameHash(node.name)}`;
}

/** The pod name of a Pod node of `workflow`, honouring its pod-name-format annotation. */
export function podNameOf(workflow: Workflow, node: NodeStatus): string {
  const format = workflow.metadata.annotations?.[POD_NAME_FORMAT_ANNOTATION] === "v1" ? "v1" : "v2";
  return podName(workflow.metadata.name ?? "", node, format);
}
