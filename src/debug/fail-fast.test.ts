/**
 * `failFast: true` on a Steps template: once a child failed, Argo starts no new pod under it,
 * and ends the step group and the template Failed with "template has failed or errored
 * children and failFast enabled" (workflow/controller/operator.go checkParallelism).
 */
import { afterAll, describe, expect, it } from "vitest";
import { manifest, node, phases, removeWorkdirs, sh, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

describe("failFast on a Steps template over withParam", () => {
  it("with parallelism 1, starts no item after one failed (issue 13)", async () => {
    const wf = manifest("failfast-steps", [
      {
        name: "main",
        parallelism: 1,
        failFast: true,
        steps: [[{ name: "item", template: "work", withParam: "[1, 2, 3, 4]", arguments: { parameters: [{ name: "n", value: "{{item}}" }] } }]],
      },
      sh("work", "[ {{inputs.parameters.n}} -ne 2 ]", { inputs: { parameters: [{ name: "n" }] } }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    const p = phases(status);
    expect([p["item(0:1)"], p["item(1:2)"], p["item(2:3)"], p["item(3:4)"]]).toEqual(["Succeeded", "Failed", "Omitted", "Omitted"]);
    expect(node(status, "failfast-steps").message).toBe("template has failed or errored children and failFast enabled");
  });

  it("without failFast, starts the remaining items (Argo's default for Steps)", async () => {
    const wf = manifest("no-failfast-steps", [
      { name: "main", parallelism: 1, steps: [[{ name: "item", template: "work", withParam: "[1, 2, 3]", arguments: { parameters: [{ name: "n", value: "{{item}}" }] } }]] },
      sh("work", "[ {{inputs.parameters.n}} -ne 2 ]", { inputs: { parameters: [{ name: "n" }] } }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    expect(phases(status)["item(2:3)"]).toBe("Succeeded");
  });
});
