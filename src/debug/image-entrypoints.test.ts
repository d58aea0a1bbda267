import { afterAll, describe, expect, it } from "vitest";
import { containerCommand, imageCommand, imageEntrypoint } from "./image-entrypoints.ts";
import { manifest, node, outParam, removeWorkdirs, useStandIns, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);
useStandIns(); // test/fixtures/bin/argosay

// Kubernetes runs the image's ENTRYPOINT when a container has no command, with args after it;
// upstream examples (key-only-artifact.yaml, label-value-from-workflow.yaml, …) run
// argoproj/argosay:v2 so (test/e2e/images/argosay/v2/Dockerfile: ENTRYPOINT ["/argosay"]).
describe("a container without command", () => {
  it("runs the entrypoint of an image the engine knows, with args after it", async () => {
    expect(imageEntrypoint("argoproj/argosay:v2")).toEqual(["argosay"]);
    expect(imageEntrypoint("alpine:3.23")).toBeUndefined();
    const wf = manifest("entrypoint-test", [
      { name: "main", container: { image: "argoproj/argosay:v2", args: ["echo", "hello", "/tmp/out"] }, outputs: { parameters: [{ name: "p", valueFrom: { path: "/tmp/out" } }] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(outParam(node(status, "entrypoint-test"), "p")).toBe("hello");
  });

  it("runs the CMD of an image the engine knows only when there are neither command nor args (nginx, influxdb of the daemon examples)", () => {
    expect(imageCommand("nginx:1.13", undefined)).toEqual(["nginx", "-g", "daemon off;"]);
    expect(imageCommand("influxdb:1.2", [])).toEqual(["influxd"]);
    expect(imageCommand("nginx:1.13", ["nginx", "-t"])).toBeUndefined();
    expect(imageCommand("argoproj/argosay:v2", ["echo"])).toEqual(["argosay"]);
    expect(imageCommand("alpine:3.23", undefined)).toBeUndefined();
  });
});

// upstream examples/intermediate-parameters.yaml names the entrypoint by its path in the image.
describe("a container whose command is the entrypoint's path inside a known image", () => {
  it("runs the program of that name on PATH; other commands run as written", async () => {
    expect(containerCommand({ image: "argoproj/argosay:v2", command: ["/argosay"] })).toEqual(["argosay"]);
    expect(containerCommand({ image: "argoproj/argosay:v2" })).toEqual(["argosay"]);
    expect(containerCommand({ image: "alpine", command: ["/argosay"] })).toEqual(["/argosay"]);
    expect(containerCommand({ image: "argoproj/argosay:v2", command: ["sh", "-c"] })).toEqual(["sh", "-c"]);
    const wf = manifest("entrypoint-path", [{ name: "main", container: { image: "argoproj/argosay:v2", command: ["/argosay"], args: ["echo", "deploying"] } }]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase, status.message).toBe("Succeeded");
  });
});
