import { describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { Template as ArgoTemplate } from "../argo/model.ts";
import { ContainerTemplate } from "../template/container-template.ts";
import { param } from "../op/signature.ts";
import { Workflow } from "../workflow/workflow.ts";
import { DAG } from "./dag.ts";
import { Task } from "./task.ts";

const echo = new ContainerTemplate({
  name: "echo",
  image: "busybox",
  inputs: { message: param(z.string()) },
  outputs: { out: param(z.string()) },
  command: (io) => ["sh", "-c", "echo \"$0\" > /tmp/outputs/parameters/out", io.parameters.message],
});

const tasksOf = (t: ArgoTemplate | undefined) => t?.dag?.tasks ?? [];

describe("DAG", () => {
  it("infers dependencies from the data a task reads and adds explicit ones", () => {
    const dag = new DAG({ name: "d" });
    const a = dag.add(new Task("a", echo, { parameters: { message: "A" } }));
    const b = dag.add(new Task("b", echo, { parameters: { message: a.outputs.parameters.out } }));
    const c = dag.add(new Task("c", echo, { parameters: { message: "C" }, dependencies: [a] }));
    dag.add(new Task("d", echo, { parameters: { message: b.outputs.parameters.out }, dependencies: [c, "a"] }));
    const [t] = new Workflow({ entrypoint: dag }).compile().spec.templates ?? [];
    expect(tasksOf(t).map((x) => [x.name, x.depends])).toEqual([
      ["a", undefined],
      ["b", "a"],
      ["c", "a"],
      ["d", "a && b && c"],
    ]);
  });

  it("renders depends logic and ANDs in tasks read but not mentioned", () => {
    const dag = new DAG({ name: "d" });
    const a = dag.add(new Task("a", echo, { parameters: { message: "A" } }));
    const b = dag.add(new Task("b", echo, { parameters: { message: "B" } }));
    dag.add(new Task("c", echo, { parameters: { message: a.outputs.parameters.out }, depends: b.failed.or(b.skipped.and(a.succeeded)) }));
    dag.add(new Task("e", echo, { parameters: { message: a.outputs.parameters.out }, depends: b.anySucceeded }));
    const [t] = new Workflow({ entrypoint: dag }).compile().spec.templates ?? [];
    expect(tasksOf(t)[2]?.depends).toBe("b.Failed || (b.Skipped && a.Succeeded)");
    expect(tasksOf(t)[3]?.depends).toBe("(b.AnySucceeded) && a");
  });

  it("rejects cycles, unknown and dangling dependencies with clear errors", () => {
    const dag = new DAG({ name: "cyc" });
    dag.add(new Task("a", echo, { parameters: { message: "A" }, dependencies: ["b"] }));
    dag.add(new Task("b", echo, { parameters: { message: "B" }, dependencies: ["a"] }));
    expect(() => new Workflow({ entrypoint: dag }).compile()).toThrow('DAG "cyc": dependency cycle a -> b -> a');

    const unknown = new DAG({ name: "u" });
    unknown.add(new Task("a", echo, { parameters: { message: "A" }, dependencies: ["nope"] }));
    expect(() => new Workflow({ entrypoint: unknown }).compile()).toThrow('DAG "u": task "a" depends on unknown task "nope"');

    const other = new DAG({ name: "other" });
    const x = other.add(new Task("x", echo, { parameters: { message: "X" } }));
    const dangling = new DAG({ name: "dangling" });
    dangling.add(new Task("y", echo, { parameters: { message: x.outputs.parameters.out } }));
    expect(() => new Workflow({ entrypoint: dangling }).compile()).toThrow(
      'template "dangling": reads output parameter "out" of task "x", which belongs to template "other"; pass it through that template\'s outputs',
    );

    const loose = new Task("z", echo, { parameters: { message: "Z" } });
    const uses = new DAG({ name: "uses" });
    uses.add(new Task("w", echo, { parameters: { message: loose.outputs.parameters.out } }));
    expect(() => new Workflow({ entrypoint: uses }).compile()).toThrow(/was never added to a Steps or DAG template/);
  });

  it("rejects duplicate task names and Steps' Step objects", () => {
    const dag = new DAG({ name: "d" });
    dag.add(new Task("a", echo, { parameters: { message: "A" } }));
    expect(() => dag.add(new Task("a", echo, { parameters: { message: "A" } }))).toThrow('DAG "d": task name "a" is used twice');
  });
});

function chain(n: number, name = "chain"): { dag: DAG<{}, { last: ReturnType<typeof param<z.ZodString>> }>; wf: Workflow } {
  const dag = new DAG({ name, outputs: { last: param(z.string()) } });
  let prev = dag.add(new Task("t0", echo, { parameters: { message: "start" } }));
  for (let i = 1; i < n; i++) prev = dag.add(new Task(`t${i}`, echo, { parameters: { message: prev.outputs.parameters.out } }));
  dag.setOutputs({ parameters: { last: prev.outputs.parameters.out } });
  return { dag, wf: new Workflow({ generateName: "chain-", entrypoint: dag }) };
}

describe("DAG splitting past Argo's 200-task limit", () => {
  it("keeps a 200-task DAG in one template", () => {
    const m = chain(200).wf.compile();
    expect(m.spec.templates?.map((t) => t.name)).toEqual(["chain", "echo"]);
  });

  it("splits a 450-task chain into nested templates that keep every dependency and data reference", () => {
    const m = chain(450).wf.compile();
    const names = m.spec.templates?.map((t) => t.name);
    expect(names).toEqual(["chain", "chain-part-0", "chain-part-1", "chain-part-2", "echo"]);
    const parent = m.spec.templates?.[0];
    expect(tasksOf(parent).map((t) => [t.name, t.depends, t.arguments?.parameters?.[0]])).toEqual([
      ["part-0", undefined, undefined],
      ["part-1", "part-0", { name: "t199-parameters-out", value: "{{tasks.part-0.outputs.parameters.t199-parameters-out}}" }],
      ["part-2", "part-1", { name: "t399-parameters-out", value: "{{tasks.part-1.outputs.parameters.t399-parameters-out}}" }],
    ]);
    expect(parent?.outputs?.parameters?.[0]).toEqual({ name: "last", valueFrom: { parameter: "{{tasks.part-2.outputs.parameters.t449-parameters-out}}" } });
    const part1 = m.spec.templates?.[2];
    expect(part1?.inputs?.parameters).toEqual([{ name: "t199-parameters-out" }]);
    expect(part1?.outputs?.parameters).toEqual([{ name: "t399-parameters-out", valueFrom: { parameter: "{{tasks.t399.outputs.parameters.out}}" } }]);
    const first = tasksOf(part1)[0];
    expect(first).toMatchObject({ name: "t200", arguments: { parameters: [{ name: "message", value: "{{inputs.parameters.t199-parameters-out}}" }] } });
    expect(first?.depends).toBeUndefined();
    expect(tasksOf(part1)[1]?.depends).toBe("t200");
    for (const t of m.spec.templates ?? []) expect(tasksOf(t).length).toBeLessThanOrEqual(200);
  });

  it("refuses to split depends logic across parts, saying what to do", () => {
    const dag = new DAG({ name: "big", maxTasksPerTemplate: 2 });
    const a = dag.add(new Task("a", echo, { parameters: { message: "A" } }));
    dag.add(new Task("b", echo, { parameters: { message: "B" } }));
    dag.add(new Task("c", echo, { parameters: { message: "C" }, depends: a.failed }));
    expect(() => new Workflow({ entrypoint: dag }).compile()).toThrow(/task "c" has depends logic on task\(s\) "a", which land in another part/);
  });

  it("says which limit a manifest exceeds and what to do", () => {
    expect(() => chain(10_000).wf.compile({ warn: () => {} })).toThrow(/is \d+ bytes of JSON; Argo stores workflows in etcd, which holds about 1000000 bytes/);
  });

  it.skipIf(!haveArgoCheck)("emits a 10,000-task DAG that passes the upstream CRD check (needs ../shared/argo)", async () => {
    const noop = new ContainerTemplate({ name: "noop", image: "busybox", command: ["true"] });
    const dag = new DAG({ name: "order" });
    let prev = dag.add(new Task("t0", noop));
    for (let i = 1; i < 10_000; i++) prev = dag.add(new Task(`t${i}`, noop, { dependencies: [prev] }));
    const m = new Workflow({ generateName: "order-", entrypoint: dag }).compile({ warn: () => {} });
    expect(m.spec.templates?.length).toBe(52);
    const r = await argoCheck([m]);
    expect(r.output).toMatch(/1 passed, 0 failed/);
  }, 120_000);
});
