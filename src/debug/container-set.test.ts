/**
 * containerSet templates: the containers of one pod, each starting once those it depends on
 * succeeded; each a Container node under the pod's; the pod's `outputs.result` is the `main`
 * container's stdout (docs/container-set-template.md; upstream examples/container-set-template/).
 */
import { afterAll, describe, expect, it } from "vitest";
import { manifest, node, removeWorkdirs, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

const c = (name: string, script: string, dependencies?: string[]) => ({ name, image: "alpine", command: ["sh", "-c", script], ...(dependencies ? { dependencies } : {}) });

describe("containerSet", () => {
  it("runs containers in dependency order, as Container nodes, with main's stdout as the result", async () => {
    const wf = manifest("cset", [
      {
        name: "main",
        containerSet: {
          containers: [c("a", 'echo a >> "$OPFLOW_ROOT/order"'), c("b", 'echo b >> "$OPFLOW_ROOT/order"', ["a"]), c("main", 'echo main >> "$OPFLOW_ROOT/order"; cat "$OPFLOW_ROOT/order"', ["b"])],
        },
      } as never,
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "cset").outputs?.result).toBe("a\nb\nmain");
    expect(node(status, "b")).toMatchObject({ type: "Container", name: "cset.b", phase: "Succeeded" });
  });

  it("fails the pod when a container fails, and never starts the containers that depend on it", async () => {
    const wf = manifest("cset-fail", [{ name: "main", containerSet: { containers: [c("a", "exit 4"), c("b", "true", ["a"]), c("other", "true")] } } as never]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    expect(node(status, "a")).toMatchObject({ phase: "Failed", message: "Error (exit code 4)" });
    expect(node(status, "b")).toMatchObject({ phase: "Omitted", message: 'not started: container "a" Failed' });
    expect(node(status, "other").phase).toBe("Succeeded");
  });
});
