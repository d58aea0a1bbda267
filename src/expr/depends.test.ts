import { describe, expect, it } from "vitest";
import { ExpressionError } from "../errors.ts";
import { type DependsTaskResult, type TaskResultPhase, dependsTasks, evaluateDepends, evaluateDependsDetailed } from "./depends.ts";

const phases = (m: Record<string, DependsTaskResult["phase"]>) => (t: string): DependsTaskResult => {
  const phase = m[t];
  if (phase === undefined) throw new Error(`no task ${t}`);
  return { phase };
};

describe("dependsTasks", () => {
  it.each([
    ["A", ["A"]],
    ["B && C", ["B", "C"]],
    ["(task-2.Succeeded || task-2.Skipped) && !task-3.Failed", ["task-2", "task-3"]],
    ["task-1.AnySucceeded || task-2.AllFailed", ["task-1", "task-2"]],
    ["task || task-2.Failed", ["task", "task-2"]],
    ["A && B && C", ["A", "B", "C"]],
    ["a1&&(b-2||!c3.Errored)", ["a1", "b-2", "c3"]],
  ])("%s", (src, want) => {
    expect(dependsTasks(src)).toEqual(want);
  });

  it("rejects unknown task results and bad syntax", () => {
    expect(() => dependsTasks("A.Done")).toThrow(ExpressionError);
    expect(() => dependsTasks("A.Done")).toThrow("task result 'Done' for task 'A' is invalid");
    expect(() => dependsTasks("A &&")).toThrow("unexpected end of depends");
    expect(() => dependsTasks("(A")).toThrow('expected ")"');
    expect(() => dependsTasks("A B")).toThrow('unexpected "B"');
    expect(() => dependsTasks("A & B")).toThrow('unexpected character "&"');
    expect(() => dependsTasks("")).toThrow("empty depends");
    expect(() => dependsTasks("A || _b")).toThrow('unexpected character "_"');
  });
});

describe("evaluateDepends", () => {
  it("reads a bare name as Succeeded, Skipped or Daemoned", () => {
    for (const [phase, want] of [
      ["Succeeded", true],
      ["Skipped", true],
      ["Daemoned", true],
      ["Failed", false],
      ["Errored", false],
      ["Omitted", false],
    ] as const) {
      expect(evaluateDepends("A", phases({ A: phase }))).toBe(want);
    }
  });

  it("widens a bare name with the task's continueOn", () => {
    expect(evaluateDepends("A", () => ({ phase: "Failed", continueOn: { failed: true } }))).toBe(true);
    expect(evaluateDepends("A", () => ({ phase: "Errored", continueOn: { failed: true } }))).toBe(false);
    expect(evaluateDepends("A", () => ({ phase: "Errored", continueOn: { error: true } }))).toBe(true);
    expect(evaluateDepends("A.Succeeded", () => ({ phase: "Failed", continueOn: { failed: true } }))).toBe(false);
  });

  it.each<[string, TaskResultPhase, boolean]>([
    ["A.Succeeded", "Succeeded", true],
    ["A.Succeeded", "Skipped", false],
    ["A.Failed", "Failed", true],
    ["A.Errored", "Errored", true],
    ["A.Skipped", "Skipped", true],
    ["A.Omitted", "Omitted", true],
    ["A.Daemoned", "Daemoned", true],
    ["!A.Failed", "Succeeded", true],
    ["!A.Failed", "Failed", false],
  ])("%s when A is %s → %s", (src, phase, want) => {
    expect(evaluateDepends(src, phases({ A: phase }))).toBe(want);
  });

  it("evaluates the dag-diamond example", () => {
    expect(evaluateDepends("B && C", phases({ B: "Succeeded", C: "Succeeded" }))).toBe(true);
    expect(evaluateDepends("B && C", phases({ B: "Succeeded", C: "Failed" }))).toBe(false);
    expect(evaluateDepends("B && C", phases({ B: "Skipped", C: "Succeeded" }))).toBe(true);
  });

  it("evaluates the examples of enhanced-depends-logic.md", () => {
    expect(evaluateDepends("task || task-2.Failed", phases({ task: "Failed", "task-2": "Failed" }))).toBe(true);
    expect(evaluateDepends("task || task-2.Failed", phases({ task: "Failed", "task-2": "Succeeded" }))).toBe(false);
    const logic = "(task-2.Succeeded || task-2.Skipped) && !task-3.Failed";
    expect(evaluateDepends(logic, phases({ "task-2": "Skipped", "task-3": "Succeeded" }))).toBe(true);
    expect(evaluateDepends(logic, phases({ "task-2": "Succeeded", "task-3": "Failed" }))).toBe(false);
    expect(evaluateDepends(logic, phases({ "task-2": "Failed", "task-3": "Succeeded" }))).toBe(false);
  });

  it("evaluates AnySucceeded and AllFailed over a fanned-out task's children", () => {
    const fan = (phasesOf: TaskResultPhase[], phase: TaskResultPhase = "Failed") => (): DependsTaskResult => ({ phase, fanOut: { phases: phasesOf } });
    expect(evaluateDepends("A.AnySucceeded", fan(["Failed", "Succeeded"]))).toBe(true);
    expect(evaluateDepends("A.AnySucceeded", fan(["Failed", "Errored"]))).toBe(false);
    expect(evaluateDepends("A.AllFailed", fan(["Failed", "Failed"]))).toBe(true);
    expect(evaluateDepends("A.AllFailed", fan(["Failed", "Errored"]))).toBe(false);
    expect(evaluateDepends("A.AllFailed", fan([]))).toBe(false);
    expect(evaluateDepends("A.AnySucceeded", phases({ A: "Succeeded" }))).toBe(false);
    expect(evaluateDepends("task-1.AnySucceeded || task-2.AllFailed", (t) => (t === "task-1" ? { phase: "Failed", fanOut: { phases: ["Failed"] } } : { phase: "Failed", fanOut: { phases: ["Failed", "Failed"] } }))).toBe(true);
  });

  it("gives ! precedence over && over ||", () => {
    const r = phases({ A: "Succeeded", B: "Failed", C: "Succeeded" });
    expect(evaluateDepends("A || B && !C", r)).toBe(true);
    expect(evaluateDepends("(A || B) && !C", r)).toBe(false);
    expect(evaluateDepends("!!A", r)).toBe(true);
  });

  it("returns false while a referenced task is not finished, and says so in the detailed form", () => {
    const r = phases({ A: "Succeeded", B: "Running", C: "Pending" });
    expect(evaluateDepends("A || B", r)).toBe(false);
    expect(evaluateDependsDetailed("A || B", r)).toEqual({ ready: false, execute: false });
    expect(evaluateDependsDetailed("C", r)).toEqual({ ready: false, execute: false });
    expect(evaluateDependsDetailed("A", r)).toEqual({ ready: true, execute: true });
    expect(evaluateDependsDetailed("A.Failed", r)).toEqual({ ready: true, execute: false });
  });
});
