import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DAG } from "../dag/dag.ts";
import { Task } from "../dag/task.ts";
import { CompileError, type Issue } from "../errors.ts";
import { defineOp } from "../op/op.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { OPTemplate } from "../template/op-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { checkLimits } from "./compile.ts";

const work = OPTemplate.fromOp(
  defineOp({
    name: "work",
    inputs: { x: param(z.number()) },
    outputs: { y: param(z.number()) },
    async execute({ x }) {
      return { y: x };
    },
  }),
  { module: "ops.ts" },
);

function compileError(wf: Workflow): CompileError {
  try {
    wf.compile({ warn: () => {} });
  } catch (e) {
    if (e instanceof CompileError) return e;
    throw e;
  }
  throw new Error("expected a CompileError");
}

describe("compile gathers every problem and throws once", () => {
  it("reports three distinct mistakes in different templates, each with its path, rule and value", () => {
    // 1. A DAG task depends on a task that does not exist.
    const dag = new DAG({ name: "inner" });
    const a = dag.add(new Task("a", work, { parameters: { x: 1 } }));
    dag.add(new Task("b", work, { parameters: { x: a.outputs.parameters.y }, dependencies: ["nope"] }));
    // 2. A cycle: c and d depend on each other.
    const cyclic = new DAG({ name: "loop" });
    const c = new Task("c", work, { parameters: { x: 1 }, depends: "d" });
    const d = new Task("d", work, { parameters: { x: c.outputs.parameters.y } });
    cyclic.add([c, d]);
    // 3. The entrypoint reads an output of a task that belongs to another template.
    const main = new Steps({ name: "main" });
    main.add(new Step("run-inner", dag));
    main.add(new Step("run-loop", cyclic));
    main.add(new Step("use", work, { parameters: { x: a.outputs.parameters.y } }));

    const error = compileError(new Workflow({ name: "three", entrypoint: main }));
    const summary = error.issues.map((i: Issue) => ({ path: i.path, rule: i.rule }));
    expect(summary).toEqual([
      { path: ["main"], rule: "reference-scope" },
      { path: ["inner", "tasks", "b", "dependencies"], rule: "unknown-dependency" },
      { path: ["loop", "tasks", "c", "depends"], rule: "cycle" },
    ]);
    expect(error.issues[0]?.message).toBe('template "main": reads output parameter "y" of task "a", which belongs to template "inner"; pass it through that template\'s outputs');
    expect(error.issues[1]).toMatchObject({ value: "nope", message: 'DAG "inner": task "b" depends on unknown task "nope"' });
    expect(error.issues[2]).toMatchObject({ value: ["c", "d", "c"], message: 'DAG "loop": dependency cycle c -> d -> c' });
    // The message lists them all, one line each.
    expect(error.message.split("\n")).toEqual([
      "3 problems:",
      `  - ${error.issues[0]?.message}`,
      `  - ${error.issues[1]?.message}`,
      `  - ${error.issues[2]?.message}`,
    ]);
  });

  it("keeps a single problem's message as it was", () => {
    const dag = new DAG({ name: "solo" });
    dag.add(new Task("a", work, { parameters: { x: 1 }, dependencies: ["ghost"] }));
    const error = compileError(new Workflow({ entrypoint: dag }));
    expect(error.message).toBe('DAG "solo": task "a" depends on unknown task "ghost"');
    expect(error.issues).toHaveLength(1);
  });

  it("gathers a bad depends string and a self-dependency in one DAG", () => {
    const dag = new DAG({ name: "odd" });
    dag.add(new Task("a", work, { parameters: { x: 1 }, depends: "a" }));
    dag.add(new Task("b", work, { parameters: { x: 1 }, depends: "a.Done" }));
    const error = compileError(new Workflow({ entrypoint: dag }));
    expect(error.issues.map((i) => [i.path.join("."), i.rule])).toEqual([
      ["odd.tasks.a.depends", "cycle"],
      ["odd.tasks.b.depends", "depends-syntax"],
    ]);
    expect(error.issues[1]?.message).toMatch(/task result 'Done' for task 'a' is invalid/);
  });

  it("gathers what a template throws while rendering under its path", () => {
    const empty = new Steps({ name: "empty" });
    const main = new Steps({ name: "main" });
    main.add(new Step("e", empty));
    const error = compileError(new Workflow({ entrypoint: main }));
    expect(error.issues).toEqual([{ path: ["empty", "steps"], rule: "empty", message: 'Steps "empty": has no steps' }]);
  });

  it("reports every unbound output of a graph template", () => {
    const main = new Steps({ name: "main", outputs: { a: param(z.number()), b: param(z.number()) } });
    main.add(new Step("s", work, { parameters: { x: 1 } }));
    const error = compileError(new Workflow({ entrypoint: main }));
    expect(error.issues.map((i) => [i.path.join("."), i.rule])).toEqual([
      ["main.outputs.parameters.a", "unbound-output"],
      ["main.outputs.parameters.b", "unbound-output"],
    ]);
  });

  it("owns the task limit of DAG templates: a bound above Argo's is a compile problem", () => {
    const dag = new DAG({ name: "wide", maxTasksPerTemplate: 300 });
    for (let i = 0; i < 3; i++) dag.add(new Task(`t${i}`, work, { parameters: { x: i } }));
    const error = compileError(new Workflow({ entrypoint: dag }));
    expect(error.issues).toEqual([
      { path: ["wide", "maxTasksPerTemplate"], rule: "limit", value: 300, message: 'DAG "wide": maxTasksPerTemplate must be an integer from 2 to 200, got 300' },
    ]);
    expect(() => new DAG({ name: "narrow", maxTasksPerTemplate: 1 })).toThrow(/maxTasksPerTemplate must be an integer of at least 2/);
  });

  it("lists every limit a list of templates exceeds", () => {
    const many = Array.from({ length: 201 }, (_, i) => ({ name: `t${i}`, inputs: { parameters: Array.from({ length: i === 0 ? 501 : 0 }, (_, k) => ({ name: `p${k}` })) } }));
    try {
      checkLimits(many, () => {});
      expect.unreachable();
    } catch (e) {
      expect((e as CompileError).issues.map((i) => [i.path.join("."), i.rule, i.value])).toEqual([
        ["", "limit", 201],
        ["t0.inputs.parameters", "limit", 501],
      ]);
    }
  });
});
