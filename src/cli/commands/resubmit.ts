/**
 * `opflow resubmit NAME...`: submits a copy of a workflow under a new generated name, like
 * `argo resubmit`; `--reuse[=KEYS]` takes over the original's Succeeded keyed steps.
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "resubmit",
  done: "resubmitted",
  flags: { memoized: { type: "boolean" }, reuse: { type: "string" } },
  flagUsage: [
    "      --memoized       reuse Argo's memoized results of the original (Argo Server only)",
    "      --reuse[=KEYS]   take over the original's Succeeded keyed steps: all, or those whose key",
    "                       matches KEYS (comma-separated, * matches anything: --reuse='iter-0,iter-1')",
  ],
  // `--reuse` alone means every keyed step.
  rewrite: (argv) => argv.map((a) => (a === "--reuse" ? "--reuse=*" : a)),
  act: (client, name, values) =>
    client.resubmit(name, {
      ...(values["memoized"] === true ? { memoized: true } : {}),
      ...(typeof values["reuse"] === "string" ? { reuse: values["reuse"] } : {}),
    }),
  message: (name, result) => `workflow ${name} resubmitted as ${result?.metadata.name ?? "?"}`,
});
