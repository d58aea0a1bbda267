import { describe, expect, it } from "vitest";
import type { Template } from "../argo/model.ts";
import { EndlessRecursion } from "./recursion.ts";

const pod: Template = { name: "pod", container: { image: "busybox" } };

function cycle(templates: Template[], name: string): readonly string[] | undefined {
  return new EndlessRecursion(templates).cycleOf(name);
}

describe("EndlessRecursion", () => {
  it("finds a template that always calls itself twice", () => {
    expect(cycle([{ name: "f", steps: [[{ name: "l", template: "f" }, { name: "r", template: "f" }]] }], "f")).toEqual(["f", "f"]);
  });

  it("finds it through other templates and in DAG tasks without dependencies", () => {
    const a: Template = { name: "a", dag: { tasks: [{ name: "x", template: "b" }, { name: "y", template: "b" }] } };
    const b: Template = { name: "b", steps: [[{ name: "s", template: "a" }]] };
    expect(cycle([a, b], "a")).toEqual(["a", "b", "a"]);
    expect(cycle([a, b], "b")).toEqual(["b", "a", "b"]);
  });

  it("leaves recursion that calls itself once per level to the depth cap", () => {
    expect(cycle([{ name: "f", steps: [[{ name: "again", template: "f" }]] }], "f")).toBeUndefined();
  });

  it("leaves recursion that may end: a condition, a loop, a later group, a dependency, an expression argument", () => {
    const twice = (extra: object): Template => ({ name: "f", inputs: { parameters: [{ name: "n", value: "1" }] }, steps: [[{ name: "l", template: "f", ...extra }, { name: "r", template: "f", ...extra }]] });
    expect(cycle([twice({ when: "1 == 1" })], "f")).toBeUndefined();
    expect(cycle([twice({ withItems: [1] })], "f")).toBeUndefined();
    expect(cycle([twice({ withParam: "[1]" })], "f")).toBeUndefined();
    expect(cycle([twice({ withSequence: { count: "1" } })], "f")).toBeUndefined();
    expect(cycle([twice({ arguments: { parameters: [{ name: "n", value: "{{=asInt(inputs.parameters.n) - 1}}" }] } })], "f")).toBeUndefined();
    expect(cycle([{ name: "f", steps: [[{ name: "p", template: "pod" }], [{ name: "l", template: "f" }, { name: "r", template: "f" }]] }, pod], "f")).toBeUndefined();
    expect(cycle([{ name: "f", dag: { tasks: [{ name: "p", template: "pod" }, { name: "l", template: "f", depends: "p" }, { name: "r", template: "f", dependencies: ["p"] }] } }, pod], "f")).toBeUndefined();
    expect(cycle([{ name: "f", dag: { target: "l", tasks: [{ name: "l", template: "f" }, { name: "r", template: "f" }] } }], "f")).toBeUndefined();
  });

  it("counts plain arguments and the caller's own inputs as always binding, a missing input as not", () => {
    const f = (args: object, inputs: object[] = [{ name: "n" }]): Template => ({ name: "f", inputs: { parameters: inputs as never }, steps: [[{ name: "l", template: "f", ...args }, { name: "r", template: "f", ...args }]] });
    expect(cycle([f({ arguments: { parameters: [{ name: "n", value: "{{inputs.parameters.n}}" }] } })], "f")).toEqual(["f", "f"]);
    expect(cycle([f({ arguments: { parameters: [{ name: "n", value: "3" }] } })], "f")).toEqual(["f", "f"]);
    expect(cycle([f({})], "f")).toBeUndefined();
    expect(cycle([f({}, [{ name: "n", default: "1" }])], "f")).toEqual(["f", "f"]);
    expect(cycle([f({ arguments: { parameters: [{ name: "n", value: "{{inputs.parameters.other}}" }] } })], "f")).toBeUndefined();
  });

  it("says nothing of unknown templates", () => {
    expect(cycle([], "nothing")).toBeUndefined();
    expect(cycle([{ name: "f", steps: [[{ name: "l", template: "g" }]] }], "f")).toBeUndefined();
  });
});
