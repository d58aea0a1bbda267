import { afterAll, describe, expect, it } from "vitest";
import { inputParametersJson } from "./input-parameters-json.ts";
import { manifest, node, removeWorkdirs, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

// Argo: workflow/common/util.go SubstituteParams sets {{inputs.parameters}} to json.Marshal of
// the template's resolved input parameters (a nil list marshals as null).
describe("{{inputs.parameters}}", () => {
  it("is the resolved input parameters as Argo's JSON list, null without inputs", () => {
    expect(inputParametersJson([{ name: "a", default: "1" }, { name: "b", description: "B", enum: ["x", "y"] }], [{ name: "a", value: "2" }, { name: "b", value: "x" }])).toBe(
      '[{"name":"a","default":"1","value":"2"},{"name":"b","value":"x","enum":["x","y"],"description":"B"}]',
    );
    expect(inputParametersJson(undefined, [])).toBe("null");
  });

  it("resolves in a container next to single parameters and expressions (Hera's runner passes it to every script)", async () => {
    const wf = manifest("inputs-json", [
      {
        name: "main",
        inputs: { parameters: [{ name: "x", value: "1" }, { name: "y", default: "d" }] },
        container: { image: "python", command: ["echo", "{{inputs.parameters}}", "{{inputs.parameters.x}}", "{{=inputs.parameters.y + 'z'}}"] },
      },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "inputs-json").outputs?.result).toBe('[{"name":"x","value":"1"},{"name":"y","default":"d","value":"d"}] 1 dz');
  });
});
