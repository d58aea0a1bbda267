import { afterAll, describe, expect, it } from "vitest";
import { manifest, node, outParam, removeWorkdirs, sh, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

// Argo's executor reads outputs from the container's own file system (workflow/executor/executor.go
// SaveParameters / saveArtifact), whose root is the default working directory of most images:
// upstream examples/conditional-artifacts.yaml writes "result.txt" and declares /result.txt.
describe("outputs declared outside /tmp and /mnt", () => {
  it("are found where the step wrote them relative to its working directory", async () => {
    const wf = manifest("outside-test", [
      sh("main", "echo 42 > output && mkdir -p data && echo it > data/x && printf heads > result.txt", {
        outputs: {
          parameters: [{ name: "p", valueFrom: { path: "/output" } }],
          artifacts: [
            { name: "r", path: "/result.txt" },
            { name: "d", path: "/data" },
          ],
        },
      }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    const n = node(status, "outside-test");
    expect(outParam(n, "p")).toBe("42");
    expect(n.outputs?.artifacts?.map((a) => a.name)).toEqual(["r", "d"]);
  });

  it("still fails a step whose declared output is nowhere, naming the path", async () => {
    const wf = manifest("outside-missing", [sh("main", "true", { outputs: { parameters: [{ name: "p", valueFrom: { path: "/opflow-no-such-output-7c1" } }] } })]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Error");
    expect(node(status, "outside-missing").message).toContain("/opflow-no-such-output-7c1 does not exist and has no default");
  });
});
