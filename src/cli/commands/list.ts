/**
 * `opflow list`: workflows of a namespace, filtered by label, phase and name prefix, like
 * `argo list`.
 */
import type { CommandModule } from "../command.ts";
import type { WorkflowPhase } from "../../argo/model.ts";
import { createArgoClient } from "../../argo/create-argo-client.ts";
import { workflowPhase } from "../../argo/query.ts";
import { CLUSTER_USAGE, clusterOptionsFrom, out, outJson, parseCommand, wantsJson } from "../cluster-options.ts";
import { UsageError, runCommand } from "../args.ts";
import { workflowList } from "../workflow-table.ts";

const PHASES: readonly WorkflowPhase[] = ["Pending", "Running", "Succeeded", "Failed", "Error"];

const usage = [
  "usage: opflow list [options]",
  "",
  "  -l, --selector SELECTOR   label selector (key=value,key2!=v)",
  "      --status PHASES       comma-separated phases (Pending,Running,Succeeded,Failed,Error)",
  "      --running             same as --status Running",
  "      --completed           same as --status Succeeded,Failed,Error",
  "      --prefix PREFIX       names starting with PREFIX",
  "",
  CLUSTER_USAGE,
].join("\n");

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("list", usage, async () => {
      const { values, positionals } = parseCommand(argv, {
        selector: { type: "string", short: "l" },
        status: { type: "string" },
        running: { type: "boolean" },
        completed: { type: "boolean" },
        prefix: { type: "string" },
      });
      if (values["help"]) return (out(usage), 0);
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
      const json = wantsJson(values);
      const phases: WorkflowPhase[] = [];
      if (typeof values["status"] === "string") {
        for (const p of values["status"].split(",").map((s) => s.trim()).filter(Boolean)) {
          const match = PHASES.find((x) => x.toLowerCase() === p.toLowerCase());
          if (!match) throw new UsageError(`--status: unknown phase ${JSON.stringify(p)} (one of ${PHASES.join(", ")})`);
          phases.push(match);
        }
      }
      if (values["running"]) phases.push("Running");
      if (values["completed"]) phases.push("Succeeded", "Failed", "Error");
      const client = createArgoClient(clusterOptionsFrom(values));
      const items = await client.list({
        ...(typeof values["selector"] === "string" ? { labels: values["selector"] } : {}),
        ...(phases.length > 0 ? { phases } : {}),
        ...(typeof values["prefix"] === "string" ? { namePrefix: values["prefix"] } : {}),
      });
      if (json) {
        outJson(
          items.map((wf) => ({
            name: wf.metadata.name,
            namespace: wf.metadata.namespace,
            phase: workflowPhase(wf),
            progress: wf.status?.progress,
            createdAt: wf.metadata.creationTimestamp,
            startedAt: wf.status?.startedAt,
            finishedAt: wf.status?.finishedAt,
            message: wf.status?.message,
            labels: wf.metadata.labels ?? {},
          })),
        );
      } else if (items.length === 0) out("No workflows found");
      else out(workflowList(items));
      return 0;
    }),
};
export default command;
