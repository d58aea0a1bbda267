/**
 * `opflow resubmit NAME...`: submits a copy of a workflow under a new generated name, like
 * `argo resubmit`.
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "resubmit",
  done: "resubmitted",
  flags: { memoized: { type: "boolean" } },
  flagUsage: ["      --memoized   reuse Argo's memoized results of the original (Argo Server only)"],
  act: (client, name, values) => client.resubmit(name, values["memoized"] === true ? { memoized: true } : {}),
  message: (name, result) => `workflow ${name} resubmitted as ${result?.metadata.name ?? "?"}`,
});
