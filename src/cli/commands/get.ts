/**
 * `opflow get NAME`: a cluster workflow's status and step tree, like `argo get`.
 */
import type { CommandModule } from "../command.ts";
import { createArgoClient } from "../../argo/create-argo-client.ts";
import { globalOutputs, querySteps, workflowPhase } from "../../argo/query.ts";
import { CLUSTER_USAGE, clusterOptionsFrom, out, outJson, parseCommand, wantsJson } from "../cluster-options.ts";
import { UsageError, runCommand } from "../args.ts";
import { workflowView } from "../workflow-table.ts";

const usage = [
  "usage: opflow get NAME [options]",
  "",
  "Shows a workflow on the cluster: phase, progress, times, outputs, and the step tree.",
  "With --json: { name, namespace, phase, progress, startedAt, finishedAt, message, outputs, steps, workflow }.",
  "",
  CLUSTER_USAGE,
].join("\n");

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("get", usage, async () => {
      const { values, positionals } = parseCommand(argv, {});
      if (values["help"]) return (out(usage), 0);
      if (positionals.length !== 1) throw new UsageError("expected exactly one workflow NAME");
      const json = wantsJson(values);
      const client = createArgoClient(clusterOptionsFrom(values));
      const wf = await client.get(positionals[0] as string);
      if (json) {
        const s = wf.status ?? {};
        outJson({
          name: wf.metadata.name,
          namespace: wf.metadata.namespace ?? client.namespace,
          phase: workflowPhase(wf),
          progress: s.progress,
          startedAt: s.startedAt,
          finishedAt: s.finishedAt,
          message: s.message,
          outputs: globalOutputs(wf),
          steps: querySteps(wf),
          workflow: wf,
        });
      } else out(workflowView(wf));
      return 0;
    }),
};
export default command;
