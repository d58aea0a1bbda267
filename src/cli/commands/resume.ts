/**
 * `opflow resume NAME...`: Resume a suspended cluster workflow (like argo resume).
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "resume",
  summary: "Resume a suspended cluster workflow (like argo resume)",
  done: "resumed",
  act: (client, name) => client.resume(name),
});
