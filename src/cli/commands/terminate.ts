/**
 * `opflow terminate NAME...`: Terminate a cluster workflow at once, without exit handlers (like argo terminate).
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "terminate",
  summary: "Terminate a cluster workflow at once, without exit handlers (like argo terminate)",
  done: "terminated",
  act: (client, name) => client.terminate(name),
});
