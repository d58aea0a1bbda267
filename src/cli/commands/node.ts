/**
 * `opflow node set NAME --node-field-selector S [--output-parameter NAME=VALUE]... [--message M]
 * [--phase P]`: sets the supplied outputs, message or phase of waiting suspend nodes (like argo
 * node set); --mode debug: a local run.
 */
import { UsageError } from "../args.ts";
import type { NodePhase } from "../../argo/model.ts";
import { workflowActionCommand } from "../workflow-action.ts";

/** `NAME=VALUE` pairs; a value in Go/JSON double quotes is unquoted, as the argo CLI does. */
function outputParameters(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of Array.isArray(raw) ? (raw as string[]) : []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--output-parameter expects NAME=VALUE, got ${JSON.stringify(pair)}`);
    let value = pair.slice(eq + 1);
    if (/^".*"$/s.test(value)) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        /* kept as written, as the argo CLI keeps what it cannot unquote */
      }
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

export default workflowActionCommand({
  command: "node",
  usageLine: "usage: opflow node set NAME... --node-field-selector SELECTOR [options]",
  done: "values set",
  local: true,
  flags: {
    "node-field-selector": { type: "string" },
    "output-parameter": { type: "string", short: "p", multiple: true },
    message: { type: "string", short: "m" },
    phase: { type: "string" },
  },
  flagUsage: [
    "      --node-field-selector SELECTOR  the waiting suspend nodes to set, e.g. displayName=approve (required)",
    "  -p, --output-parameter NAME=VALUE   a valueFrom.supplied output parameter of the nodes (repeatable)",
    "  -m, --message TEXT                  the nodes' message",
    "      --phase PHASE                   Succeeded resumes them; Failed or Error ends them so",
    "",
    "The nodes keep waiting (unless --phase ends them) until `opflow resume`.",
  ],
  rewrite: (argv) => {
    const [action, ...rest] = argv;
    if (action === "--help" || action === "-h") return [action];
    if (action !== "set") throw new UsageError(`unknown action ${JSON.stringify(action ?? "")}: the only action is set (opflow node set NAME …)`);
    return rest;
  },
  act: (client, name, values) => {
    const selector = values["node-field-selector"];
    if (typeof selector !== "string" || selector.trim() === "") throw new UsageError("--node-field-selector is required (e.g. displayName=approve)");
    const outputs = outputParameters(values["output-parameter"]);
    const message = typeof values["message"] === "string" ? values["message"] : undefined;
    const phase = typeof values["phase"] === "string" ? (values["phase"] as NodePhase) : undefined;
    if (Object.keys(outputs).length === 0 && message === undefined && phase === undefined) {
      throw new UsageError("nothing to set: give --output-parameter, --message or --phase");
    }
    return client.setNodes(name, { nodeFieldSelector: selector, ...(Object.keys(outputs).length > 0 ? { outputParameters: outputs } : {}), ...(message !== undefined ? { message } : {}), ...(phase ? { phase } : {}) });
  },
  message: (name) => `workflow ${name}: values set`,
});
