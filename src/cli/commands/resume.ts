/**
 * `opflow resume NAME... [--node-field-selector S]`: resumes suspended workflows and their
 * suspend nodes waiting for a person (like argo resume); --mode debug: a local run. A local run
 * whose engine is gone is re-entered in this process, which then runs it to its end.
 */
import { LocalArgoClient } from "../../debug/local-argo-client.ts";
import { out } from "../cluster-options.ts";
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "resume",
  done: "resumed",
  local: true,
  flags: { "node-field-selector": { type: "string" } },
  flagUsage: [
    "      --node-field-selector SELECTOR  resume only the suspend nodes it matches, e.g. displayName=approve",
    "                                      (without it: every waiting suspend node; a supplied output",
    "                                      with neither a value nor a default refuses the resume)",
  ],
  act: async (client, name, values) => {
    const selector = values["node-field-selector"];
    const wf = await client.resume(name, typeof selector === "string" ? { nodeFieldSelector: selector } : {});
    if (!(client instanceof LocalArgoClient)) return wf;
    // The engine was gone: the run was re-entered here, and this process runs it to its end.
    if (!client.runsHere(name)) return wf;
    out(`workflow ${name}: its engine was gone; the run carries on in this process (pid ${process.pid}) until it ends`);
    await client.settled(name);
    return client.get(name);
  },
  message: (name, wf) => `workflow ${name} resumed${wf && wf.status?.phase !== "Running" ? ` (${wf.status?.phase}${wf.status?.message ? `: ${wf.status.message}` : ""})` : ""}`,
});
