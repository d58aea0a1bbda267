/**
 * `opflow watch NAME`: follows a cluster workflow until it finishes, redrawing its step tree
 * (the shared status view of local runs), like `argo watch`. Exit code 0 when it Succeeded, 1 otherwise.
 */
import type { CommandModule } from "../command.ts";
import type { Workflow } from "../../argo/model.ts";
import { createArgoClient } from "../../argo/create-argo-client.ts";
import { waitForWorkflow, type WaitDuration } from "../../argo/wait.ts";
import { workflowPhase } from "../../argo/query.ts";
import { CLUSTER_USAGE, clusterOptionsFrom, out, parseCommand, wantsJson } from "../cluster-options.ts";
import { UsageError, runCommand } from "../args.ts";
import { LiveStatusView, renderStatus } from "../status-view.ts";

const usage = [
  "usage: opflow watch NAME [options]",
  "",
  "  --timeout DURATION   give up after this long (30s, 10m, 2h)",
  "  --poll DURATION      polling interval besides the watch stream (default 10s)",
  "  --no-redraw          print each update below the previous one (default when not a terminal)",
  "  --json               one JSON status object per line: { name, phase, progress, status }",
  "",
  CLUSTER_USAGE,
].join("\n");

function duration(value: unknown, flag: string): WaitDuration | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^\d+(\.\d+)?(ms|s|m|h)$/.test(value)) {
    throw new UsageError(`${flag} must be a duration such as 30s, 10m or 2h, got ${JSON.stringify(value)}`);
  }
  return value as WaitDuration;
}

/**
 * Follows `name` and shows each update with the shared status view (the same tree as a local
 * run): redrawn in place on a terminal, one tree per update otherwise, or one JSON line per
 * update. Returns the exit code (0 when Succeeded).
 */
export async function followWorkflow(
  client: ReturnType<typeof createArgoClient>,
  name: string,
  options: { json: boolean; redraw: boolean; timeout?: WaitDuration; poll?: WaitDuration },
): Promise<number> {
  const live = options.redraw && !options.json ? new LiveStatusView(process.stdout, name) : undefined;
  const render = (wf: Workflow): void => {
    if (options.json) {
      out(JSON.stringify({ name: wf.metadata.name, phase: workflowPhase(wf), progress: wf.status?.progress, status: wf.status ?? {} }));
    } else if (live) {
      live.update(wf.status ?? {});
    } else out(`${renderStatus(wf.status ?? {}, { name })}\n`);
  };
  try {
    const done = await waitForWorkflow(client, name, {
      ...(options.timeout ? { timeout: options.timeout } : {}),
      ...(options.poll ? { pollInterval: options.poll } : {}),
      onUpdate: (_status, wf) => render(wf),
    });
    live?.close(done.status ?? {});
    return done.status?.phase === "Succeeded" ? 0 : 1;
  } finally {
    live?.close();
  }
}

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("watch", usage, async () => {
      const { values, positionals } = parseCommand(argv, {
        timeout: { type: "string" },
        poll: { type: "string" },
        "no-redraw": { type: "boolean" },
      });
      if (values["help"]) return (out(usage), 0);
      if (positionals.length !== 1) throw new UsageError("expected exactly one workflow NAME");
      const json = wantsJson(values);
      const timeout = duration(values["timeout"], "--timeout");
      const poll = duration(values["poll"], "--poll");
      const client = createArgoClient(clusterOptionsFrom(values));
      return followWorkflow(client, positionals[0] as string, {
        json,
        redraw: !values["no-redraw"] && process.stdout.isTTY === true,
        ...(timeout ? { timeout } : {}),
        ...(poll ? { poll } : {}),
      });
    }),
};
export default command;
