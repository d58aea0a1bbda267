/**
 * WorkflowTemplates and ClusterWorkflowTemplates for the local engine, loaded from files
 * instead of a cluster. Argo resolves a step's `templateRef` in the referenced template's own
 * scope (workflow/templateresolution): its templates call each other by name, and may refer to
 * other WorkflowTemplates. The engine does the same by copying each referenced WorkflowTemplate's
 * templates into the workflow under the name `<workflowtemplate>--<template>`, with the calls
 * between them renamed alike, before it validates and runs the workflow. `spec.workflowTemplateRef`
 * takes the whole spec from the WorkflowTemplate, the workflow's own fields and arguments on top.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { DAGTask, Template, Workflow, WorkflowStep, WorkflowTemplate } from "../argo/model.ts";
import { parseYamlDocuments } from "../argo/parse-yaml.ts";
import { EngineError } from "../errors.ts";

/** Where a WorkflowTemplate's template lands in the workflow. */
export function inlinedName(workflowTemplate: string, template: string): string {
  return `${workflowTemplate}--${template}`;
}

function keyOf(name: string, cluster: boolean | undefined): string {
  return `${cluster ? "ClusterWorkflowTemplate" : "WorkflowTemplate"}/${name}`;
}

/**
 * Resolves every `templateRef` (and `spec.workflowTemplateRef`) of `manifest` against
 * `templates`; returns the manifest unchanged when it has none. A reference to a template not
 * given is left as it is (the node then ends Error, saying so).
 *
 * @throws EngineError when `workflowTemplateRef` names a WorkflowTemplate not given.
 * @example
 * ```ts
 * const wf = inlineTemplateRefs(manifest, [printMessageTemplate]);
 * // steps with templateRef {name: "wft", template: "print"} now call template "wft--print"
 * ```
 */
export function inlineTemplateRefs(manifest: Workflow, templates: readonly WorkflowTemplate[]): Workflow {
  const byKey = new Map<string, WorkflowTemplate>();
  for (const t of templates) {
    const name = t.metadata?.name;
    if (name) byKey.set(keyOf(name, t.kind === "ClusterWorkflowTemplate"), t);
  }
  let spec = manifest.spec;
  const ref = spec.workflowTemplateRef as { name?: string; clusterScope?: boolean } | undefined;
  if (ref?.name) {
    const source = byKey.get(keyOf(ref.name, ref.clusterScope));
    if (!source) {
      throw new EngineError(
        `workflow: spec.workflowTemplateRef names ${ref.clusterScope ? "ClusterWorkflowTemplate" : "WorkflowTemplate"} "${ref.name}", which was not loaded (give its file with --templates FILE|DIR, or workflowTemplates in runWorkflow)`,
      );
    }
    const { workflowTemplateRef: _ref, ...own } = spec;
    void _ref;
    const args = new Map((source.spec.arguments?.parameters ?? []).map((p) => [p.name, p]));
    for (const p of own.arguments?.parameters ?? []) args.set(p.name, { ...args.get(p.name), ...p });
    const artifacts = new Map((source.spec.arguments?.artifacts ?? []).map((a) => [a.name, a]));
    for (const a of own.arguments?.artifacts ?? []) artifacts.set(a.name, a);
    spec = { ...source.spec, ...own, templates: source.spec.templates ?? [] };
    if (args.size > 0 || artifacts.size > 0) spec.arguments = { ...(args.size > 0 ? { parameters: [...args.values()] } : {}), ...(artifacts.size > 0 ? { artifacts: [...artifacts.values()] } : {}) };
  }
  const copied = new Map<string, Template>(); // inlined name → template
  const own = new Set((spec.templates ?? []).map((t) => t.name));

  const rewriteCall = <T extends WorkflowStep | DAGTask>(s: T, scope: WorkflowTemplate | undefined): T => {
    if (s.templateRef?.name && s.templateRef.template) {
      const target = byKey.get(keyOf(s.templateRef.name, s.templateRef.clusterScope));
      if (!target) return s;
      const name = copy(target, s.templateRef.template);
      if (!name) return s;
      const { templateRef: _r, ...rest } = s;
      void _r;
      return { ...rest, template: name } as T;
    }
    if (scope && s.template !== undefined) {
      const name = copy(scope, s.template);
      return name ? { ...s, template: name } : s;
    }
    return s;
  };

  const rewrite = (t: Template, scope: WorkflowTemplate | undefined): Template => {
    let out = t;
    if (t.steps) out = { ...out, steps: t.steps.map((g) => (g ?? []).map((s) => rewriteCall(s, scope))) };
    if (t.dag) out = { ...out, dag: { ...t.dag, tasks: t.dag.tasks.map((s) => rewriteCall(s, scope)) } };
    return out;
  };

  /** Copies `template` of `source` (and what it calls) into the workflow; its inlined name. */
  function copy(source: WorkflowTemplate, template: string): string | undefined {
    const found = (source.spec.templates ?? []).find((t) => t.name === template);
    if (!found) return undefined;
    const name = inlinedName(source.metadata.name as string, template);
    if (copied.has(name) || own.has(name)) return name;
    copied.set(name, found); // placeholder first: recursion ends
    copied.set(name, { ...rewrite(found, source), name });
    return name;
  }

  const mine = (spec.templates ?? []).map((t) => rewrite(t, undefined));
  if (copied.size === 0 && spec === manifest.spec) return manifest;
  return { ...manifest, spec: { ...spec, templates: [...mine, ...copied.values()] } };
}

/**
 * Reads WorkflowTemplates and ClusterWorkflowTemplates from YAML/JSON files, or from every
 * `.yaml`/`.yml`/`.json` file of a folder (other kinds in them are ignored).
 *
 * @example
 * ```ts
 * const templates = await loadWorkflowTemplates(["examples/workflow-template/templates.yaml"]);
 * await runWorkflow(manifest, { workflowTemplates: templates });
 * ```
 */
export async function loadWorkflowTemplates(paths: readonly string[]): Promise<WorkflowTemplate[]> {
  const out: WorkflowTemplate[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await fs.stat(p);
    } catch {
      throw new EngineError(`WorkflowTemplates: ${p}: no such file or folder`);
    }
    const files = info.isDirectory()
      ? (await fs.readdir(p)).filter((f) => /\.(ya?ml|json)$/i.test(f)).sort().map((f) => path.join(p, f))
      : [p];
    for (const f of files) out.push(...workflowTemplatesIn(parseYamlDocuments(await fs.readFile(f, "utf8"), f)));
  }
  return out;
}

/** The WorkflowTemplates and ClusterWorkflowTemplates among parsed documents. */
export function workflowTemplatesIn(documents: readonly unknown[]): WorkflowTemplate[] {
  return documents.filter((d): d is WorkflowTemplate => {
    const kind = (d as { kind?: unknown } | null)?.kind;
    return kind === "WorkflowTemplate" || kind === "ClusterWorkflowTemplate";
  });
}
