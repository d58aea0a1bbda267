/**
 * `opflow logs NAME [STEP] [--follow]`: logs of a workflow's steps (all, or one step's), like
 * `argo logs` — of a local run (the local engine's `log.txt` files) or of a cluster workflow.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { CommandModule } from "../command.ts";
import type { ArgoClient } from "../../argo/client.ts";
import { workflowLogs, type ArgoStepLog } from "../../argo/logs.ts";
import { workflowPhase } from "../../argo/query.ts";
import { submitMode } from "../../debug/submit-mode.ts";
import { DEFAULT_WORKDIR, localWorkdir } from "../../debug/workdir.ts";
import { CLUSTER_USAGE, clusterOptionsFrom, out, outJson, parseCommand, wantsJson } from "../cluster-options.ts";
import { UsageError, runCommand, type ArgValues } from "../args.ts";

const usage = [
  "usage: opflow logs NAME [STEP] [options]",
  "",
  "Logs of a workflow's steps: a local run (a folder NAME under the workdir, or --mode debug)",
  "or a cluster workflow. STEP selects steps by display name (exact, or a glob with *);",
  "default: every step.",
  "  -f, --follow           keep printing new lines until the workflow ends",
  "  -c, --container NAME   container (default main)",
  "      --tail N           last N lines of each step",
  "      --key KEY          select the step with this key",
  "      --no-prefix        do not prefix lines with the pod name",
  "      --mode MODE        debug: a local run; cluster: a cluster workflow",
  "                         (default: local when <workdir>/NAME exists, else $OPFLOW_MODE)",
  `      --workdir DIR      where local runs are (default: ./${DEFAULT_WORKDIR})`,
  "",
  CLUSTER_USAGE,
].join("\n");

const FOLLOW_EVERY_MS = 500;

/** The client of NAME: the local engine's when the run is local, else the cluster's. */
async function clientFor(name: string, values: ArgValues): Promise<{ client: ArgoClient; local: boolean }> {
  const mode = typeof values["mode"] === "string" ? values["mode"] : undefined;
  if (mode !== undefined && mode !== "debug" && mode !== "cluster") throw new UsageError(`--mode must be debug or cluster, got ${JSON.stringify(mode)}`);
  const workdir = typeof values["workdir"] === "string" ? values["workdir"] : undefined;
  const exists = await fs.stat(path.join(localWorkdir(workdir), name, "manifest.yaml")).then(
    () => true,
    () => false,
  );
  const local = mode === "debug" || (mode === undefined && (exists || submitMode({}) === "debug"));
  if (local) {
    const { LocalArgoClient } = await import("../../debug/local-argo-client.ts");
    return { client: new LocalArgoClient(workdir ? { workdir } : {}), local };
  }
  const { createArgoClient } = await import("../../argo/create-argo-client.ts");
  return { client: createArgoClient(clusterOptionsFrom(values)), local };
}

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("logs", usage, async () => {
      const { values, positionals } = parseCommand(argv, {
        follow: { type: "boolean", short: "f" },
        container: { type: "string", short: "c" },
        tail: { type: "string" },
        key: { type: "string" },
        "no-prefix": { type: "boolean" },
        mode: { type: "string" },
        workdir: { type: "string" },
      });
      if (values["help"]) return (out(usage), 0);
      if (positionals.length < 1 || positionals.length > 2) throw new UsageError("expected NAME and an optional STEP");
      const json = wantsJson(values);
      const follow = values["follow"] === true;
      if (follow && json) throw new UsageError("--follow prints lines as they come; it cannot be combined with --json");
      let tailLines: number | undefined;
      if (values["tail"] !== undefined) {
        tailLines = Number(values["tail"]);
        if (!Number.isInteger(tailLines) || tailLines < 0) throw new UsageError(`--tail expects a whole number, got ${JSON.stringify(values["tail"])}`);
      }
      const name = positionals[0] as string;
      const { client } = await clientFor(name, values);
      const options = {
        step: {
          ...(positionals[1] ? { name: positionals[1] } : {}),
          ...(typeof values["key"] === "string" ? { key: values["key"] } : {}),
        },
        ...(typeof values["container"] === "string" ? { container: values["container"] } : {}),
      };
      const prefix = (log: ArgoStepLog, line: string): string => (values["no-prefix"] ? line : `${log.podName}: ${line}`);
      if (follow) {
        // Polls: prints what each step's log gained since the last look, until the workflow ends.
        const printed = new Map<string, number>();
        for (;;) {
          const wf = await client.get(name);
          const done = workflowPhase(wf) !== "Pending" && workflowPhase(wf) !== "Running";
          for (const log of await workflowLogs(client, wf, options)) {
            const seen = printed.get(log.nodeId) ?? 0;
            const fresh = log.text.slice(seen);
            const complete = done ? fresh : fresh.slice(0, fresh.lastIndexOf("\n") + 1);
            if (!complete) continue;
            printed.set(log.nodeId, seen + complete.length);
            const lines = complete.split("\n");
            if (lines.at(-1) === "") lines.pop();
            for (const line of lines) out(prefix(log, line));
          }
          if (done) return 0;
          await sleep(FOLLOW_EVERY_MS);
        }
      }
      const wf = await client.get(name);
      const logs = await workflowLogs(client, wf, { ...options, ...(tailLines !== undefined ? { tailLines } : {}) });
      if (json) {
        outJson(logs);
        return 0;
      }
      if (logs.length === 0 && positionals[1]) {
        process.stderr.write(`opflow logs: no pod step matches ${JSON.stringify(positionals[1])} in workflow ${name}\n`);
        return 1;
      }
      for (const log of logs) {
        if (log.missing) {
          process.stderr.write(`${log.podName}: ${log.missing}\n`);
          continue;
        }
        const lines = log.text.split("\n");
        if (lines.at(-1) === "") lines.pop();
        for (const line of lines) out(prefix(log, line));
      }
      return 0;
    }),
};
export default command;
