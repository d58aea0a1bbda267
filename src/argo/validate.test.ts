/**
 * What Argo refuses before running. Each rule comes from upstream argo-workflows v4.1.2:
 * the CRD (manifests/base/crds/full/argoproj.io_workflows.yaml) decoded strictly, as
 * `argo submit` does (common.SplitWorkflowYAMLFile(…, strict=true)), and the controller's
 * workflow/validate/validate.go (function named in each test).
 */
import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import type { Template, Workflow } from "./model.ts";
import { ManifestError, manifestProblems, validateManifest } from "./validate.ts";

function wf(templates: Template[], spec: Record<string, unknown> = {}): Workflow {
  return { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "w" }, spec: { entrypoint: templates[0]?.name ?? "main", templates, ...spec } };
}
const c = (name: string, extra: Partial<Template> = {}): Template => ({ name, container: { image: "alpine", command: ["true"] }, ...extra });

describe("validateManifest: the CRD schema, strict on unknown fields", () => {
  it("accepts a valid manifest and returns it", () => {
    const m = wf([c("main")]);
    expect(validateManifest(m)).toBe(m);
    expect(manifestProblems(m)).toEqual([]);
  });

  it("refuses unknown fields, naming the path, the template and a likely spelling", () => {
    const m = wf([{ name: "main", container: { image: "alpine", comand: ["ls"] } as never, retryStrat: { limit: 2 } } as never]);
    expect(manifestProblems(m)).toEqual([
      'spec.templates[0] (template "main").container.comand: unknown field "comand" (did you mean "command"?)',
      'spec.templates[0] (template "main").retryStrat: unknown field "retryStrat" (did you mean "retryStrategy"?)',
    ]);
    expect(() => validateManifest(m)).toThrow(ManifestError);
    expect(() => validateManifest(m)).toThrow(ValidationError);
    expect(() => validateManifest(m)).toThrow(/^workflow "w": Argo would refuse this manifest \(2 problems\):\n {2}- spec\.templates\[0\]/);
    // The problems as data (ValidationError.issues): field path and rule.
    try {
      validateManifest(m);
    } catch (err) {
      expect((err as ManifestError).issues.map((i) => [i.path, i.rule])).toEqual([
        [["spec", "templates", 0, "container", "comand"], "unknown-field"],
        [["spec", "templates", 0, "retryStrat"], "unknown-field"],
      ]);
    }
  });

  it("refuses wrong types and missing required fields, and accepts int-or-string fields either way", () => {
    expect(manifestProblems(wf([c("main", { retryStrategy: { limit: 3 } })]))).toEqual([]);
    expect(manifestProblems(wf([c("main", { retryStrategy: { limit: "3" } })]))).toEqual([]);
    expect(manifestProblems(wf([c("main", { parallelism: "2" as never })]))).toEqual(['spec.templates[0] (template "main").parallelism: expects an integer, got "2" (string)']);
    expect(manifestProblems(wf([c("main"), { container: { image: "x" } } as never]))).toEqual(["spec.templates[1].name: is required"]);
  });

  it("reads parameter values that are YAML numbers or booleans as text (Argo's AnyString)", () => {
    expect(manifestProblems(wf([c("main")], { arguments: { parameters: [{ name: "n", value: 3 }, { name: "b", value: true, enum: [true, false] }] } }))).toEqual([]);
  });

  it("refuses another apiVersion or kind", () => {
    expect(manifestProblems({ ...wf([c("main")]), apiVersion: "argoproj.io/v0beta9000" })).toEqual(['apiVersion: expects "argoproj.io/v1alpha1", got "argoproj.io/v0beta9000"']);
  });
});

describe("validateManifest: validate.go's semantic rules", () => {
  it("requires the entrypoint and onExit to name templates (Workflow, validateTemplateHolder)", () => {
    expect(manifestProblems(wf([c("main")], { entrypoint: "mian" }))).toEqual(['spec.entrypoint: template "mian" is not defined']);
    expect(manifestProblems(wf([c("main")], { entrypoint: undefined }))).toEqual(["spec.entrypoint: is required"]);
    expect(manifestProblems(wf([c("main")], { onExit: "cleanup" }))).toEqual(['spec.onExit: template "cleanup" is not defined']);
  });

  it("requires the workflow's hooks to have an expression (but exit) and to name templates (validateHooks)", () => {
    expect(manifestProblems(wf([c("main")], { hooks: { later: { template: "main" }, exit: { template: "main" } } }))).toEqual(["spec.hooks.later: Expression required (only the hook named exit runs without one)"]);
    expect(manifestProblems(wf([c("main")], { hooks: { running: { template: "gone", expression: 'workflow.status == "Running"' } } }))).toEqual(['spec.hooks.running.template: template "gone" is not defined']);
  });

  it("requires unique, valid template names and exactly one kind (validateWorkflowFieldNames, validateTemplateType)", () => {
    expect(manifestProblems(wf([c("main"), c("main")]))).toEqual(['spec.templates[1].name: "main" is not unique']);
    // The CRD's pattern catches an invalid name first.
    expect(manifestProblems(wf([c("main"), c("bad_name")]))).toEqual(['spec.templates[1] (template "bad_name").name: must match ^[a-zA-Z0-9][-a-zA-Z0-9]*$, got "bad_name"']);
    expect(manifestProblems(wf([{ name: "main" }]))).toEqual(["templates.main: no template kind; choose one of container, containerSet, steps, script, resource, dag, suspend, data, http, plugin"]);
    expect(manifestProblems(wf([{ name: "main", container: { image: "a" }, suspend: {} }]))).toEqual(["templates.main: several template kinds (container, suspend); choose one"]);
  });

  it("refuses parameter and artifact names outside [-a-zA-Z0-9_]+ and duplicates (isValidParamOrArtifactName, validateWorkflowFieldNames)", () => {
    expect(manifestProblems(wf([c("main", { inputs: { parameters: [{ name: "a b", value: "1" }] } })]))).toEqual([
      'spec.templates[0] (template "main").inputs.parameters[0].name: must match ^[-a-zA-Z0-9_]+$, got "a b"',
    ]);
    const m = wf([c("main", { inputs: { parameters: [{ name: "x", value: "1" }, { name: "x", value: "2" }] }, outputs: { artifacts: [{ name: "o", path: "/tmp/o" }, { name: "o", path: "/tmp/p" }] } })]);
    expect(manifestProblems(m)).toEqual(['templates.main.inputs.parameters[1].name: "x" is not unique', 'templates.main.outputs.artifacts[1].name: "o" is not unique']);
  });

  it("names a DAG dependency cycle with its path (verifyNoCycles)", () => {
    const m = wf([{ name: "main", dag: { tasks: [{ name: "a", template: "t", depends: "c" }, { name: "b", template: "t", depends: "a" }, { name: "c", template: "t", depends: "b && a" }] } }, c("t")]);
    expect(manifestProblems(m)).toEqual(["templates.main.dag.tasks: dependency cycle a -> c -> b -> a"]);
    expect(() => validateManifest(m)).toThrow(/dependency cycle a -> c -> b -> a/);
  });

  it("refuses dangling dependencies, templates and targets (validateDAG, validateDAGTargets)", () => {
    const m = wf([{ name: "main", dag: { target: "b zz", tasks: [{ name: "a", template: "nope" }, { name: "b", template: "t", dependencies: ["x"] }] } }, c("t")]);
    expect(manifestProblems(m)).toEqual([
      'templates.main.dag.tasks.a.template: template "nope" is not defined',
      'templates.main.dag.tasks.b: depends on task "x", which is not defined in this DAG',
      'templates.main.dag.target: task "zz" is not defined',
    ]);
    // A target given by a parameter is checked when it is known (validateDAGTargets skips parameters).
    expect(manifestProblems(wf([{ name: "main", dag: { target: "{{workflow.parameters.t}}", tasks: [{ name: "a", template: "t" }] } }, c("t")], { arguments: { parameters: [{ name: "t", value: "a" }] } }))).toEqual([]);
  });

  it("refuses depends with dependencies, continueOn with depends, and digit-first task names (validateDAG)", () => {
    const m = wf([{ name: "main", dag: { tasks: [{ name: "1a", template: "t" }, { name: "b", template: "t", depends: "1a", continueOn: { failed: true } }, { name: "c", template: "t", dependencies: ["b"] }] } }, c("t")]);
    expect(manifestProblems(m)).toEqual([
      "templates.main.dag.tasks.1a: a task name cannot begin with a digit when the DAG uses depends or dependencies",
      'templates.main.dag.tasks.b.continueOn: cannot be used with depends (use "dep.Failed" / "dep.Errored" in depends instead)',
      "templates.main.dag.tasks.c: depends and dependencies cannot both be used in one DAG template",
    ]);
  });

  it("refuses an argument taking a task's outputs without depending on it (validateDAGTaskArgumentDependency)", () => {
    const m = wf([{ name: "main", dag: { tasks: [{ name: "a", template: "t" }, { name: "b", template: "u", arguments: { parameters: [{ name: "p", value: "{{tasks.a.outputs.result}}" }] } }] } }, c("t"), c("u", { inputs: { parameters: [{ name: "p" }] } })]);
    expect(manifestProblems(m)).toEqual(['templates.main.dag.tasks.b.arguments.parameters.p: takes the outputs of task "a" without depending on it']);
  });

  it("refuses duplicate step names, unknown templates and two loops on one step (validateSteps, addItemsToScope)", () => {
    const m = wf([{ name: "main", steps: [[{ name: "s", template: "t" }, { name: "s", template: "t" }], [{ name: "s2", template: "gone", withItems: [1], withParam: "[1]" }]] }, c("t")]);
    expect(manifestProblems(m)).toEqual([
      'templates.main.steps[0].name: "s" is not unique',
      "templates.main.steps[1].s2: only one of withItems, withParam, withSequence can be set",
      'templates.main.steps[1].s2.template: template "gone" is not defined',
    ]);
    expect(manifestProblems(wf([{ name: "main", steps: [[{ name: "s_2", template: "main" }]] }]))).toEqual([
      'spec.templates[0] (template "main").steps[0][0].name: must match ^[a-zA-Z0-9][-a-zA-Z0-9]*$, got "s_2"',
    ]);
  });

  it("refuses tags that cannot resolve: inputs, steps, tasks, workflow parameters (resolveAllVariables)", () => {
    const m = wf(
      [
        { name: "main", steps: [[{ name: "a", template: "t", arguments: { parameters: [{ name: "p", value: "{{steps.b.outputs.result}} {{workflow.parameters.nope}}" }] } }]] },
        c("t", { inputs: { parameters: [{ name: "p" }] }, container: { image: "alpine", command: ["echo", "{{inputs.parameters.q}}", "{{inputs.parameters}}", "{{workflow.parameters.known}}"] } }),
      ],
      { arguments: { parameters: [{ name: "known", value: "1" }] } },
    );
    expect(manifestProblems(m)).toEqual([
      'templates.main.steps[0].a: failed to resolve {{steps.b.outputs.result}} (no step "b" in template "main")',
      "templates.main.steps.a: failed to resolve {{workflow.parameters.nope}}",
      "templates.t: failed to resolve {{inputs.parameters.q}}",
    ]);
  });

  it("requires workflow arguments to have a value unless supplied at submission (validateArgumentsValues)", () => {
    const m = wf([c("main")], { arguments: { parameters: [{ name: "n" }, { name: "e", value: "c", enum: ["a", "b"] }] } });
    expect(manifestProblems(m)).toEqual(["spec.arguments.parameters.n: value or valueFrom is required", 'spec.arguments.parameters.e.value: "c" is not one of the enum values ["a","b"]']);
    expect(manifestProblems(m, { suppliedParameters: ["n"] })).toEqual(['spec.arguments.parameters.e.value: "c" is not one of the enum values ["a","b"]']);
  });

  it("checks output parameters' valueFrom against the template kind (validateOutputs, validateOutputParameter)", () => {
    const m = wf([
      { name: "main", steps: [[{ name: "a", template: "t" }]], outputs: { parameters: [{ name: "x", valueFrom: { path: "/tmp/x" } }] } },
      c("t", { outputs: { parameters: [{ name: "y" }, { name: "z", value: "1", valueFrom: { path: "/tmp/z" } }, { name: "w", valueFrom: { parameter: "{{inputs.parameters.x}}" } }] } }),
    ]);
    expect(manifestProblems(m)).toEqual([
      "templates.main.outputs.parameters.x.valueFrom: parameter or expression must be set for steps templates",
      "templates.t.outputs.parameters.y: has neither value nor valueFrom",
      "templates.t.outputs.parameters.z: has both value and valueFrom; choose one",
      "templates.t.outputs.parameters.w.valueFrom.path: must be set for container templates",
      "templates.t: failed to resolve {{inputs.parameters.x}}",
    ]);
  });

  it("keeps leaf-only and Steps/DAG-only fields where they belong (validateNonLeaf, validateLeaf, validateTemplate)", () => {
    const m = wf([
      { name: "main", steps: [[{ name: "a", template: "t" }]], activeDeadlineSeconds: 5, timeout: "1m" },
      c("t", { parallelism: 2, timeout: "30" }),
      { name: "u", container: { image: "" } },
    ]);
    expect(manifestProblems(m)).toEqual([
      "templates.main.activeDeadlineSeconds: only valid for leaf templates (not steps)",
      "templates.main.timeout: steps templates do not support timeout",
      "templates.t.parallelism: only valid for steps and dag templates",
      'templates.t.timeout: "30" is not a duration (write "30s")',
      "templates.u.container.image: may not be empty",
    ]);
  });

  it("refuses a step or entrypoint that leaves an input without value (common/util.go ProcessArgs: \"was not supplied\")", () => {
    const t = c("t", { inputs: { parameters: [{ name: "need" }, { name: "opt", default: "1" }], artifacts: [{ name: "a", path: "/tmp/a" }, { name: "o", path: "/tmp/o", optional: true }] } });
    const m = wf([{ name: "main", steps: [[{ name: "s", template: "t" }]] }, t]);
    expect(manifestProblems(m)).toEqual([
      'templates.main.steps[0].s: inputs.parameters.need of template "t" was not supplied',
      'templates.main.steps[0].s: inputs.artifacts.a of template "t" was not supplied',
    ]);
    // The entrypoint takes the workflow's arguments; -p supplies one at run time.
    const e = wf([c("main", { inputs: { parameters: [{ name: "msg" }] } })]);
    expect(manifestProblems(e)).toEqual(['spec.entrypoint: inputs.parameters.msg of template "main" was not supplied']);
    expect(manifestProblems(e, { suppliedParameters: ["msg"] })).toEqual([]);
  });

  it("accepts an empty image when templateDefaults gives one (validateLeaf)", () => {
    expect(manifestProblems(wf([{ name: "main", container: { image: "" } }], { templateDefaults: { container: { image: "alpine" } } }))).toEqual([]);
  });
});
