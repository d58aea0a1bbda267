/**
 * `opflow stop NAME...`: Stop a cluster workflow, running its exit handlers (like argo stop).
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "stop",
  summary: "Stop a cluster workflow, running its exit handlers (like argo stop)",
  done: "stopped",
  act: (client, name) => client.stop(name),
});
