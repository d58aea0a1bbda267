/**
 * Argo v4: an argument that is exactly a reference to the output of a skipped or omitted
 * producer with no `valueFrom.default` counts as not supplied, so the input's default applies
 * (workflow/controller/scope.go markAbsentOptionalArgs, workflow/common/util.go ProcessArgs;
 * docs/upgrading.md, 4.0.7).
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Template } from "../argo/model.ts";
import { ABSENT_ARGUMENT, markAbsentArguments } from "./absent-arguments.ts";
import { manifest, node, removeWorkdirs, sh, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

const producer = sh("produce", "echo hi > /tmp/msg", { outputs: { parameters: [{ name: "msg", valueFrom: { path: "/tmp/msg" } }] } });
const consumer = (withDefault: boolean): Template =>
  sh("consume", "echo {{inputs.parameters.msg}}", { inputs: { parameters: [withDefault ? { name: "msg", default: "fallback" } : { name: "msg" }] } });

describe("an argument taking the output of a skipped task", () => {
  it("marks only pure references to absent outputs", () => {
    const absent = new Set(["tasks.p.outputs.parameters.msg"]);
    const step = { arguments: { parameters: [{ name: "a", value: "{{ tasks.p.outputs.parameters.msg }}" }, { name: "b", value: "x-{{tasks.p.outputs.parameters.msg}}" }] } };
    expect(markAbsentArguments(step, absent).arguments.parameters.map((p) => p.value)).toEqual([ABSENT_ARGUMENT, "x-{{tasks.p.outputs.parameters.msg}}"]);
    expect(step.arguments.parameters[0]?.value).toBe("{{ tasks.p.outputs.parameters.msg }}");
  });

  it("falls back to the input's default in a DAG (issue: 'failed to resolve {{tasks.producer.outputs.parameters.msg}}')", async () => {
    const wf = manifest("absent-dag", [
      {
        name: "main",
        dag: {
          tasks: [
            { name: "producer", template: "produce", when: "false" },
            { name: "consumer", template: "consume", depends: "producer", arguments: { parameters: [{ name: "msg", value: "{{tasks.producer.outputs.parameters.msg}}" }] } },
          ],
        },
      },
      producer,
      consumer(true),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "producer").phase).toBe("Skipped");
    expect(node(status, "consumer").outputs?.result).toBe("fallback");
  });

  it("falls back in Steps too, and fails the consumer, saying why, when its input has no default", async () => {
    const wf = manifest("absent-steps", [
      {
        name: "main",
        steps: [[{ name: "producer", template: "produce", when: "false" }], [{ name: "consumer", template: "consume", arguments: { parameters: [{ name: "msg", value: "{{steps.producer.outputs.parameters.msg}}" }] } }]],
      },
      producer,
      consumer(false),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).not.toBe("Succeeded");
    expect(node(status, "consumer").message).toContain("inputs.parameters.msg: its argument references the output of a skipped or omitted step, which has no default");
  });
});
