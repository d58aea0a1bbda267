/**
 * `opflow logs NAME [STEP]`: logs of a cluster workflow's pods (all, or one step's), like
 * `argo logs`.
 */
import type { CommandModule } from "../command.ts";
import { createArgoClient } from "../../argo/create-argo-client.ts";
import { workflowLogs } from "../../argo/logs.ts";
import { CLUSTER_USAGE, clusterOptionsFrom, out, outJson, parseCommand, wantsJson } from "../cluster-options.ts";
import { UsageError, runCommand } from "../args.ts";

const usage = [
  "usage: opflow logs NAME [STEP] [options]",
  "",
  "STEP selects steps by display name (exact, or a glob with *); default: every pod.",
  "  -c, --container NAME   container (default main)",
  "      --tail N           last N lines of each pod",
  "      --key KEY          select the step with this key",
  "      --no-prefix        do not prefix lines with the pod name",
  "",
  CLUSTER_USAGE,
].join("\n");

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("logs", usage, async () => {
      const { values, positionals } = parseCommand(argv, {
        container: { type: "string", short: "c" },
        tail: { type: "string" },
        key: { type: "string" },
        "no-prefix": { type: "boolean" },
      });
      if (values["help"]) return (out(usage), 0);
      if (positionals.length < 1 || positionals.length > 2) throw new UsageError("expected NAME and an optional STEP");
      const json = wantsJson(values);
      let tailLines: number | undefined;
      if (values["tail"] !== undefined) {
        tailLines = Number(values["tail"]);
        if (!Number.isInteger(tailLines) || tailLines < 0) throw new UsageError(`--tail expects a whole number, got ${JSON.stringify(values["tail"])}`);
      }
      const client = createArgoClient(clusterOptionsFrom(values));
      const wf = await client.get(positionals[0] as string);
      const logs = await workflowLogs(client, wf, {
        step: {
          ...(positionals[1] ? { name: positionals[1] } : {}),
          ...(typeof values["key"] === "string" ? { key: values["key"] } : {}),
        },
        ...(typeof values["container"] === "string" ? { container: values["container"] } : {}),
        ...(tailLines !== undefined ? { tailLines } : {}),
      });
      if (json) {
        outJson(logs);
        return 0;
      }
      if (logs.length === 0 && positionals[1]) {
        process.stderr.write(`opflow logs: no pod step matches ${JSON.stringify(positionals[1])} in workflow ${positionals[0]}\n`);
        return 1;
      }
      for (const log of logs) {
        if (log.missing) {
          process.stderr.write(`${log.podName}: ${log.missing}\n`);
          continue;
        }
        const lines = log.text.split("\n");
        if (lines.at(-1) === "") lines.pop();
        for (const line of lines) out(values["no-prefix"] ? line : `${log.podName}: ${line}`);
      }
      return 0;
    }),
};
export default command;
