/**
 * `opflow retry NAME...`: re-runs the failed part of a Failed or Error workflow, in place,
 * like `argo retry`.
 */
import { workflowActionCommand } from "../workflow-action.ts";

export default workflowActionCommand({
  command: "retry",
  done: "retried",
  flags: {
    "restart-successful": { type: "boolean" },
    "node-field-selector": { type: "string" },
  },
  flagUsage: [
    "      --restart-successful            also re-run succeeded steps matched by --node-field-selector",
    "      --node-field-selector SELECTOR  e.g. templateName=train",
  ],
  act: (client, name, values) =>
    client.retry(name, {
      ...(values["restart-successful"] === true ? { restartSuccessful: true } : {}),
      ...(typeof values["node-field-selector"] === "string" ? { nodeFieldSelector: values["node-field-selector"] } : {}),
    }),
});
