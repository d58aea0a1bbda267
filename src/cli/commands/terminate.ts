/**
 * `opflow terminate NAME...`: Terminate a workflow at once, without exit handlers (like argo terminate); --mode debug: a local run.
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "terminate",
  done: "terminated",
  local: true,
  act: (client, name) => client.terminate(name),
});
