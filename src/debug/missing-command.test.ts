import { afterAll, describe, expect, it } from "vitest";
import { explainStartError } from "./missing-command.ts";
import { manifest, node, removeWorkdirs, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

describe("a step whose command is not installed", () => {
  it("ends Error with a message naming the template, the image and what to do", async () => {
    const wf = manifest("missing-cmd", [{ name: "whalesay", container: { image: "docker/whalesay", command: ["no-such-cowsay-7f3"], args: ["hi"] } }]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Error");
    const message = node(status, "missing-cmd").message ?? "";
    expect(message).toContain('template "whalesay": command "no-such-cowsay-7f3" is not installed on this machine');
    expect(message).toContain('On Argo it comes from the image "docker/whalesay"');
    expect(message).toContain('install "no-such-cowsay-7f3", or put a program named "no-such-cowsay-7f3" first on PATH');
  });

  it("says how to install the commands the upstream examples use, and leaves other start errors alone", () => {
    expect(explainStartError('could not start "python": spawn python ENOENT', "gen", "python:alpine3.23", "python")).toContain("install Python 3");
    expect(explainStartError('could not start "cowsay": spawn cowsay ENOENT', "w", "docker/whalesay", "cowsay")).toContain("apt-get install cowsay");
    expect(explainStartError('could not start "x": spawn x EACCES', "w", "i", "x")).toBe('could not start "x": spawn x EACCES');
  });
});
