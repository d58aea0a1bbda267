/**
 * WorkflowTemplates loaded from files stand in for the cluster's: a `templateRef` runs the
 * referenced template in its WorkflowTemplate's scope (workflow/templateresolution), and
 * `spec.workflowTemplateRef` takes the spec from it with the workflow's arguments on top
 * (docs/workflow-templates.md).
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Workflow, WorkflowTemplate } from "../argo/model.ts";
import { inlineTemplateRefs } from "./workflow-templates.ts";
import { node, removeWorkdirs, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

const wft = (name: string, spec: WorkflowTemplate["spec"], kind: WorkflowTemplate["kind"] = "WorkflowTemplate"): WorkflowTemplate => ({ apiVersion: "argoproj.io/v1alpha1", kind, metadata: { name }, spec });
const echo = { name: "echo", inputs: { parameters: [{ name: "m" }] }, container: { image: "busybox", command: ["echo", "{{inputs.parameters.m}}"] } };
const lib = wft("lib", {
  templates: [echo, { name: "twice", inputs: { parameters: [{ name: "m" }] }, steps: [[{ name: "inner", template: "echo", arguments: { parameters: [{ name: "m", value: "{{inputs.parameters.m}}" }] } }]] }],
});
const cluster = wft("clib", { templates: [{ ...echo, container: { image: "busybox", command: ["echo", "cluster {{inputs.parameters.m}}"] } }] }, "ClusterWorkflowTemplate");

function wf(spec: Partial<Workflow["spec"]>): Workflow {
  return { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "uses-templates" }, spec: { entrypoint: "main", ...spec } };
}

describe("templateRef to WorkflowTemplates loaded from files", () => {
  it("copies the referenced template and what it calls, in its WorkflowTemplate's scope", () => {
    const m = wf({ templates: [{ name: "main", steps: [[{ name: "s", templateRef: { name: "lib", template: "twice" }, arguments: { parameters: [{ name: "m", value: "x" }] } }]] }] });
    const out = inlineTemplateRefs(m, [lib]);
    expect(out.spec.templates?.map((t) => t.name)).toEqual(["main", "lib--twice", "lib--echo"]);
    expect(out.spec.templates?.[0]?.steps?.[0]?.[0]).toMatchObject({ name: "s", template: "lib--twice" });
    expect(out.spec.templates?.[1]?.steps?.[0]?.[0]?.template).toBe("lib--echo");
    expect(inlineTemplateRefs(wf({ templates: [echo] }), [lib])).toEqual(wf({ templates: [echo] }));
  });

  it("runs steps and tasks that refer to WorkflowTemplates and ClusterWorkflowTemplates", async () => {
    const m = wf({
      templates: [
        {
          name: "main",
          dag: {
            tasks: [
              { name: "a", templateRef: { name: "lib", template: "twice" }, arguments: { parameters: [{ name: "m", value: "one" }] } },
              { name: "b", depends: "a", templateRef: { name: "clib", template: "echo", clusterScope: true }, arguments: { parameters: [{ name: "m", value: "two" }] } },
            ],
          },
        },
      ],
    });
    const { status } = await runWorkflow(m, { workdir: await workdir(), workflowTemplates: [lib, cluster] });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "inner")).toMatchObject({ name: "uses-templates.a[0].inner", templateName: "lib--echo" });
    expect(node(status, "inner").outputs?.result).toBe("one");
    expect(node(status, "b").outputs?.result).toBe("cluster two");
  });

  it("takes the spec from spec.workflowTemplateRef, the workflow's arguments first", async () => {
    const whole = wft("whole", { entrypoint: "echo", arguments: { parameters: [{ name: "m", value: "from template" }] }, templates: [echo] });
    const m: Workflow = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "by-ref" }, spec: { workflowTemplateRef: { name: "whole" }, arguments: { parameters: [{ name: "m", value: "from workflow" }] } } as Workflow["spec"] };
    const { status } = await runWorkflow(m, { workdir: await workdir(), workflowTemplates: [whole] });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "by-ref").outputs?.result).toBe("from workflow");
  });

  it("says which WorkflowTemplate is missing and how to give it", async () => {
    const m: Workflow = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "by-ref" }, spec: { workflowTemplateRef: { name: "absent" } } as Workflow["spec"] };
    await expect(runWorkflow(m, { workdir: await workdir() })).rejects.toThrow(/WorkflowTemplate "absent", which was not loaded \(give its file with --templates FILE\|DIR/);
    const step = wf({ templates: [{ name: "main", steps: [[{ name: "s", templateRef: { name: "nope", template: "t" } }]] }] });
    const { status } = await runWorkflow(step, { workdir: await workdir() });
    expect(node(status, "s").message).toMatch(/templateRef nope\/t: WorkflowTemplate not loaded: give its file to the engine \(opflow run --templates FILE\|DIR/);
  });
});
