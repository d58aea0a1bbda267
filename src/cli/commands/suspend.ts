/**
 * `opflow suspend NAME...`: Suspend a cluster workflow (like argo suspend).
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "suspend",
  summary: "Suspend a cluster workflow (like argo suspend)",
  done: "suspended",
  act: (client, name) => client.suspend(name),
});
