import { describe, expect, it } from "vitest";
import { SubmitError } from "../errors.ts";
import { labelSelector, matchesLabelSelector } from "./control.ts";

describe("matchesLabelSelector", () => {
  const labels = { app: "md", tier: "gpu", "workflows.argoproj.io/phase": "Running" };

  it("matches equality maps and every operator of a selector string", () => {
    expect(matchesLabelSelector(labels, undefined)).toBe(true);
    expect(matchesLabelSelector(labels, { app: "md" })).toBe(true);
    expect(matchesLabelSelector(labels, { app: "dft" })).toBe(false);
    expect(matchesLabelSelector(labels, "app=md,tier==gpu")).toBe(true);
    expect(matchesLabelSelector(labels, "app!=md")).toBe(false);
    expect(matchesLabelSelector(labels, "tier in (cpu, gpu)")).toBe(true);
    expect(matchesLabelSelector(labels, "tier notin (cpu,gpu)")).toBe(false);
    expect(matchesLabelSelector(labels, "app,!owner")).toBe(true);
    expect(matchesLabelSelector(labels, "owner")).toBe(false);
  });

  it("matches what labelSelector makes of a filter", () => {
    const selector = labelSelector({ labels: { app: "md" }, phases: ["Running", "Failed"] }) as string;
    expect(matchesLabelSelector(labels, selector)).toBe(true);
    expect(matchesLabelSelector({ ...labels, "workflows.argoproj.io/phase": "Succeeded" }, selector)).toBe(false);
  });

  it("refuses a selector it cannot parse, naming it", () => {
    expect(() => matchesLabelSelector(labels, "app in md")).toThrow(SubmitError);
    expect(() => matchesLabelSelector(labels, "app in md")).toThrow(/label selector "app in md": cannot parse "app in md"/);
  });
});
