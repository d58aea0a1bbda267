import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { argoKeyFormat, artifactKey, joinKey, normaliseKeyPrefix } from "./keys.ts";

describe("artifact keys", () => {
  it("follows Argo's default layout under the prefix", () => {
    expect(artifactKey({ workflow: "wf-abc", node: "wf-abc-123", artifact: "model" })).toBe("wf-abc/wf-abc-123/model.tgz");
    expect(artifactKey({ prefix: "runs/", workflow: "wf", node: "n1", artifact: "out" })).toBe("runs/wf/n1/out.tgz");
    expect(artifactKey({ workflow: "wf", node: "n1", artifact: "out", archive: "none", fileName: "out.csv" })).toBe("wf/n1/out.csv");
    expect(argoKeyFormat()).toBe("{{workflow.name}}/{{pod.name}}");
    expect(argoKeyFormat("runs")).toBe("runs/{{workflow.name}}/{{pod.name}}");
  });

  it("rejects segments that would change the layout", () => {
    expect(() => artifactKey({ workflow: "a/b", node: "n", artifact: "x" })).toThrow(ValidationError);
    expect(() => artifactKey({ workflow: "wf", node: "..", artifact: "x" })).toThrow(/'node'/);
    expect(() => normaliseKeyPrefix("a/../b")).toThrow(/keyPrefix/);
    expect(normaliseKeyPrefix("/a/b/")).toBe("a/b");
    expect(joinKey("", "a", "/b/", "c")).toBe("a/b/c");
  });
});
