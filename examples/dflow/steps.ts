/**
 * dflow's steps (`test_steps.py`), ported: two shell templates, one step after another and then
 * two in parallel, each reading the previous step's output parameter and artifact. `hello0`
 * gives 1 and "Hello"; `hello1` doubles both (2, "Hello" twice); `hello2` and `hello3` double
 * again (4, "Hello" four times).
 *
 *   npx opflow run examples/dflow/steps.ts
 */
import { z } from "zod";
import { ShellOPTemplate, Step, Workflow, artifact, param } from "@opflow/core";

export const hello = new ShellOPTemplate({
  name: "hello",
  image: "alpine:3.15",
  outputs: { msg: param(z.number().int()), bar: artifact() },
  source: ["mkdir -p /tmp/outputs/parameters /tmp/outputs/artifacts", "echo Hello > /tmp/outputs/artifacts/bar", "echo 1 > /tmp/outputs/parameters/msg"].join("\n"),
});

/** Doubles the file (`cat` twice) and the number; `msg` arrives as `$msg`, never spliced into the script. */
export const duplicate = new ShellOPTemplate({
  name: "duplicate",
  image: "alpine:3.15",
  inputs: { msg: param(z.number().int()), foo: artifact() },
  outputs: { msg: param(z.number().int()), bar: artifact() },
  source: [
    "mkdir -p /tmp/outputs/parameters /tmp/outputs/artifacts",
    "cat /tmp/inputs/artifacts/foo /tmp/inputs/artifacts/foo > /tmp/outputs/artifacts/bar",
    'echo $((msg * 2)) > /tmp/outputs/parameters/msg',
  ].join("\n"),
});

const workflow = new Workflow({ generateName: "dflow-steps-" });
const hello0 = workflow.add(new Step("hello0", hello));
const hello1 = workflow.add(new Step("hello1", duplicate, { parameters: { msg: hello0.outputs.parameters.msg }, artifacts: { foo: hello0.outputs.artifacts.bar } }));
const from1 = { parameters: { msg: hello1.outputs.parameters.msg }, artifacts: { foo: hello1.outputs.artifacts.bar } };
workflow.add([new Step("hello2", duplicate, from1), new Step("hello3", duplicate, from1)]);

export default workflow;
