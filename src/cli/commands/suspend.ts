/**
 * `opflow suspend NAME...`: Suspend a cluster workflow (like argo suspend).
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "suspend",
  done: "suspended",
  act: (client, name) => client.suspend(name),
});
