/**
 * `opflow resume NAME...`: Resume a suspended cluster workflow (like argo resume).
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "resume",
  done: "resumed",
  act: (client, name) => client.resume(name),
});
