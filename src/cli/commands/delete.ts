/**
 * `opflow delete NAME...`: deletes workflows (and their pods), like `argo delete`. Also by
 * selector: `--selector`, `--prefix`, `--completed`.
 */
import type { CommandModule } from "../command.ts";
import type { WorkflowPhase } from "../../argo/model.ts";
import { createArgoClient } from "../../argo/create-argo-client.ts";
import { CLUSTER_USAGE, clusterOptionsFrom, out, outJson, parseCommand, wantsJson } from "../cluster-options.ts";
import { UsageError, runCommand } from "../args.ts";

const usage = [
  "usage: opflow delete NAME... [options]",
  "       opflow delete (--selector SELECTOR | --prefix PREFIX | --completed | --all) [options]",
  "",
  "  -l, --selector SELECTOR   delete workflows with these labels",
  "      --prefix PREFIX       delete workflows whose name starts with PREFIX",
  "      --completed           only completed workflows (Succeeded, Failed, Error)",
  "      --all                 every workflow of the namespace",
  "",
  CLUSTER_USAGE,
].join("\n");

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("delete", usage, async () => {
      const { values, positionals } = parseCommand(argv, {
        selector: { type: "string", short: "l" },
        prefix: { type: "string" },
        completed: { type: "boolean" },
        all: { type: "boolean" },
      });
      if (values["help"]) return (out(usage), 0);
      const json = wantsJson(values);
      const bySelector = values["selector"] !== undefined || values["prefix"] !== undefined || values["completed"] === true || values["all"] === true;
      if (positionals.length === 0 && !bySelector) throw new UsageError("expected workflow NAMEs, or --selector, --prefix, --completed or --all");
      if (positionals.length > 0 && bySelector) throw new UsageError("give either NAMEs or a selection, not both");
      const client = createArgoClient(clusterOptionsFrom(values));
      let names = positionals;
      if (bySelector) {
        const phases: WorkflowPhase[] = values["completed"] ? ["Succeeded", "Failed", "Error"] : [];
        const items = await client.list({
          ...(typeof values["selector"] === "string" ? { labels: values["selector"] } : {}),
          ...(typeof values["prefix"] === "string" ? { namePrefix: values["prefix"] } : {}),
          ...(phases.length ? { phases } : {}),
        });
        names = items.map((wf) => wf.metadata.name as string);
      }
      for (const name of names) {
        await client.delete(name);
        if (!json) out(`workflow ${name} deleted`);
      }
      if (json) outJson(names.map((name) => ({ name, action: "delete" })));
      else if (names.length === 0) out("No workflows found");
      return 0;
    }),
};
export default command;
