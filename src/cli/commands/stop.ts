/**
 * `opflow stop NAME...`: Stop a workflow, running its exit handlers (like argo stop); --mode debug: a local run.
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "stop",
  done: "stopped",
  local: true,
  act: (client, name) => client.stop(name),
});
