import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DAG } from "../dag/dag.ts";
import { Task } from "../dag/task.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "./workflow.ts";
import { graphToDot, graphToMermaid, manifestGraph } from "./graph.ts";
import type { Workflow as ArgoWorkflow } from "../argo/model.ts";

const echo = new ShellOPTemplate({ name: "echo", inputs: { x: param(z.number()) }, outputs: { y: param(z.number()) }, source: "true" });

function build() {
  const diamond = new DAG({ name: "diamond", inputs: { x: param(z.number()) }, outputs: { y: param(z.number()) } });
  const a = diamond.add(new Task("a", echo, { parameters: { x: diamond.io.parameters.x } }));
  const b = diamond.add(new Task("b", echo, { parameters: { x: a.outputs.parameters.y } }));
  const c = diamond.add(new Task("c", echo, { parameters: { x: a.outputs.parameters.y } }));
  const d = diamond.add(new Task("d", echo, { parameters: { x: b.outputs.parameters.y }, dependencies: [c] }));
  diamond.setOutputs({ parameters: { y: d.outputs.parameters.y } });
  const main = new Steps({ name: "main" });
  const first = main.add(new Step("first", echo, { parameters: { x: 1 } }));
  main.add([
    new Step("fan", echo, { withItems: [1, 2], parameters: (i) => ({ x: i }) }),
    new Step("inner", diamond, { parameters: { x: first.outputs.parameters.y } }),
  ]);
  return new Workflow({ name: "shape", entrypoint: main });
}

describe("toGraph", () => {
  it("has a node per template, step and task, and edges for order, dependencies and calls", () => {
    const g = build().toGraph();
    expect(g.entrypoint).toBe("main");
    expect(g.nodes.filter((n) => !n.parent).map((n) => [n.id, n.kind])).toEqual([
      ["main", "steps"],
      ["echo", "script"],
      ["diamond", "dag"],
    ]);
    expect(g.nodes.find((n) => n.id === "main/fan")).toEqual({ id: "main/fan", label: "fan", kind: "step", parent: "main", calls: "echo", note: "withItems (2)" });
    const then = g.edges.filter((e) => e.kind === "then").map((e) => `${e.from}->${e.to}`);
    expect(then).toEqual(["main/first->main/fan", "main/first->main/inner", "diamond/a->diamond/b", "diamond/a->diamond/c", "diamond/b->diamond/d", "diamond/c->diamond/d"]);
    expect(g.edges).toContainEqual({ from: "main/inner", to: "diamond", kind: "calls" });
  });

  it("renders Mermaid and DOT text with subgraphs per graph template", () => {
    const g = build().toGraph();
    const mermaid = graphToMermaid(g);
    expect(mermaid.split("\n")[0]).toBe("flowchart TD");
    expect(mermaid).toContain('subgraph n_diamond["diamond (dag)"]');
    expect(mermaid).toContain('n_main_2f_fan["fan → echo [withItems (2)]"]');
    expect(mermaid).toContain("n_diamond_2f_a --> n_diamond_2f_b");
    expect(mermaid).toContain("n_main_2f_inner -.-> n_diamond");
    const dot = graphToDot(g);
    expect(dot.startsWith("digraph workflow {")).toBe(true);
    expect(dot).toContain("subgraph cluster_n_main {");
    expect(dot).toContain("n_diamond_2f_c -> n_diamond_2f_d;");
    expect(dot.trim().endsWith("}")).toBe(true);
  });

  it("reads any manifest, depends logic included, and quotes labels", () => {
    const manifest: ArgoWorkflow = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { generateName: "x-" },
      spec: {
        entrypoint: "d",
        templates: [
          { name: "d", dag: { tasks: [{ name: "a", template: "t" }, { name: "b", template: "t" }, { name: 'c"q', template: "t", depends: "a.Succeeded || (b.Failed && !a.Skipped)" }] } },
          { name: "t", container: { image: "busybox" } },
        ],
      },
    };
    const g = manifestGraph(manifest);
    expect(g.edges.filter((e) => e.kind === "then").map((e) => `${e.from}->${e.to}`)).toEqual(['d/a->d/c"q', 'd/b->d/c"q']);
    expect(graphToMermaid(g)).toContain('["c#quot;q → t"]');
    expect(graphToDot(g)).toContain('[label="c\\"q → t"]');
  });
});
