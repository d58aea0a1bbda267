/**
 * Argo substitutes a template's inputs into the whole template before it runs it
 * (workflow/controller/operator.go executeTemplate → workflow/common/util.go ProcessArgs /
 * SubstituteParams), and names the node after the `workflows.argoproj.io/display-name`
 * annotation once substituted (operator.go, "Update displayName from processedTmpl";
 * docs/walk-through/annotations.md).
 */
import { afterAll, describe, expect, it } from "vitest";
import { manifest, node, phases, removeWorkdirs, sh, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";
import { withInputsApplied } from "./template-inputs.ts";

afterAll(removeWorkdirs);

const call = (template: string, parameters: Record<string, string>) => ({ name: "call", template, arguments: { parameters: Object.entries(parameters).map(([name, value]) => ({ name, value })) } });

describe("a template's inputs substituted into the template", () => {
  it("applies to timeout, activeDeadlineSeconds, retryStrategy, dag.target, image, suspend and annotations, keeping what cannot resolve yet", () => {
    const t = withInputsApplied(
      {
        name: "t",
        timeout: "{{inputs.parameters.t}}",
        activeDeadlineSeconds: "{{inputs.parameters.d}}",
        retryStrategy: { limit: "{{inputs.parameters.n}}", expression: "asInt(lastRetry.exitCode) > {{inputs.parameters.n}}" },
        container: { image: "alpine:{{inputs.parameters.v}}" },
        annotations: { "workflows.argoproj.io/display-name": "step-{{inputs.parameters.v}}-{{pod.name}}" },
      },
      { "inputs.parameters.t": "5s", "inputs.parameters.d": "7", "inputs.parameters.n": "2", "inputs.parameters.v": "3" },
    );
    expect(t).toMatchObject({
      timeout: "5s",
      activeDeadlineSeconds: "7",
      retryStrategy: { limit: "2", expression: "asInt(lastRetry.exitCode) > 2" },
      container: { image: "alpine:3" },
      annotations: { "workflows.argoproj.io/display-name": "step-3-{{pod.name}}" },
    });
  });

  it("runs a template whose timeout comes from an input (issue: 'timeout: expects a duration … got {{inputs.parame…')", async () => {
    const wf = manifest("tmo-test", [
      { name: "main", steps: [[call("slow", { t: "1s" })]] },
      sh("slow", "sleep 5", { timeout: "{{inputs.parameters.t}}", inputs: { parameters: [{ name: "t" }] } }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    expect(node(status, "call").message).toBe("Step exceeded its deadline (timeout 1s)");
  });

  it("evaluates a retry expression after substituting the inputs into it", async () => {
    const wf = manifest("retry-expr-test", [
      { name: "main", steps: [[call("flaky", { code: "3" })]] },
      sh("flaky", "exit 3", { inputs: { parameters: [{ name: "code" }] }, retryStrategy: { limit: "5", expression: "asInt(lastRetry.exitCode) != {{inputs.parameters.code}}" } }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    // Exit code 3 equals the input: the expression is false after the first attempt.
    expect(Object.keys(phases(status)).filter((d) => d.startsWith("call("))).toEqual(["call(0)"]);
  });

  it("runs only the DAG target a workflow parameter names (upstream examples/dag-targets.yaml)", async () => {
    const wf = manifest(
      "target-test",
      [{ name: "main", dag: { target: "{{workflow.parameters.target}}", tasks: [{ name: "A", template: "ok" }, { name: "B", template: "ok", depends: "A" }, { name: "C", template: "ok" }] } }, sh("ok", "true")],
      { arguments: { parameters: [{ name: "target", value: "B" }] } },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(phases(status)).toEqual({ "target-test": "Succeeded", A: "Succeeded", B: "Succeeded" });
  });

  it("names the node after the display-name annotation, substituted, and refuses a name Argo refuses", async () => {
    const wf = manifest("display-test", [
      { name: "main", steps: [[call("say", { who: "alice" })]] },
      sh("say", "echo hi", { inputs: { parameters: [{ name: "who" }] }, annotations: { "workflows.argoproj.io/display-name": "greet-{{inputs.parameters.who}}" } }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "greet-alice").name).toBe("display-test[0].call");
    const bad = manifest("display-bad", [{ name: "main", steps: [[call("say", { who: "a b" })]] }, sh("say", "true", { inputs: { parameters: [{ name: "who" }] }, annotations: { "workflows.argoproj.io/display-name": "{{inputs.parameters.who}}" } })]);
    const r = await runWorkflow(bad, { workdir: await workdir() });
    expect(r.status.phase).not.toBe("Succeeded");
    expect(node(r.status, "call").phase).toBe("Error");
    expect(node(r.status, "call").message).toMatch(/displayName must match the regex .*, got "a b"/);
  });
});
