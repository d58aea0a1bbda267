/**
 * The shape shared by `terminate`, `stop`, `suspend`, `resume`, `retry`, `resubmit` and
 * `delete`: act on one or more workflows by name (or, for delete, by selector), print what
 * was done, like the argo CLI.
 */
import type { CommandModule } from "./command.ts";
import type { ArgoClient } from "../argo/client.ts";
import type { Workflow } from "../argo/model.ts";
import { CLUSTER_USAGE, clusterOptionsFrom, out, outJson, parseCommand, wantsJson } from "./cluster-options.ts";
import { UsageError, runCommand } from "./args.ts";
import { createArgoClient } from "../argo/create-argo-client.ts";
import { LocalArgoClient } from "../debug/local-argo-client.ts";
import { submitMode } from "../debug/submit-mode.ts";
import { DEFAULT_WORKDIR } from "../debug/workdir.ts";
import type { CommandOptions } from "./args.ts";

/** What an action command needs to say and do. */
export interface WorkflowActionSpec {
  readonly command: string;
  /** Past tense for the message: `workflow NAME terminated`. */
  readonly done: string;
  /** Extra flags and their usage lines. */
  readonly flags?: CommandOptions;
  readonly flagUsage?: readonly string[];
  /** Runs the action on one workflow; returns the resulting object (if any). */
  act(client: ArgoClient, name: string, values: Record<string, unknown>): Promise<Workflow | void>;
  /** Message for one workflow; default `workflow NAME <done>`. */
  message?(name: string, result: Workflow | void): string;
  /**
   * Also acts on runs of the local engine (`--mode debug`, or `OPFLOW_MODE=debug`, with
   * `--workdir`): those another `opflow run` is running, which take stop, terminate, resume and
   * node set requests; a run re-entered by `resume` runs in the command's process.
   */
  readonly local?: boolean;
  /** The usage line, when not `opflow <command> NAME... [options]`. */
  readonly usageLine?: string;
  /** Rewrites the arguments before they are parsed (a flag whose value may be left out). */
  rewrite?(argv: readonly string[]): string[];
}

const LOCAL_USAGE = [
  "      --mode debug|cluster     debug: a run of the local engine (another `opflow run`) (default: $OPFLOW_MODE, else cluster)",
  `      --workdir DIR            debug mode: where the runs are (default: ./${DEFAULT_WORKDIR})`,
];

/** A {@link CommandModule} for an action on named workflows. */
export function workflowActionCommand(spec: WorkflowActionSpec): CommandModule {
  const usage = [
    spec.usageLine ?? `usage: opflow ${spec.command} NAME... [options]`,
    "",
    ...(spec.flagUsage ?? []),
    ...(spec.local ? LOCAL_USAGE : []),
    ...(spec.flagUsage?.length || spec.local ? [""] : []),
    CLUSTER_USAGE,
  ].join("\n");
  return {
    usage,
    run: (argv) =>
      runCommand(spec.command, usage, async () => {
        const { values, positionals } = parseCommand(spec.rewrite ? spec.rewrite(argv) : argv, { ...(spec.flags ?? {}), ...(spec.local ? { mode: { type: "string" }, workdir: { type: "string" } } : {}) });
        if (values["help"]) return (out(usage), 0);
        const json = wantsJson(values);
        if (positionals.length === 0) throw new UsageError("expected at least one workflow NAME");
        const mode = typeof values["mode"] === "string" ? values["mode"] : undefined;
        if (mode !== undefined && mode !== "debug" && mode !== "cluster") throw new UsageError(`--mode must be debug or cluster, got ${JSON.stringify(mode)}`);
        const debug = spec.local === true && submitMode(mode === undefined ? {} : { mode }) === "debug";
        const client = debug ? new LocalArgoClient({ ...(typeof values["workdir"] === "string" ? { workdir: values["workdir"] } : {}), run: { acceptControl: true } }) : createArgoClient(clusterOptionsFrom(values));
        const results: { name: string; result?: Workflow }[] = [];
        for (const name of positionals) {
          const result = await spec.act(client, name, values);
          results.push({ name, ...(result ? { result } : {}) });
          if (!json) out(spec.message ? spec.message(name, result) : `workflow ${name} ${spec.done}`);
        }
        if (json) {
          outJson(
            results.map((r) => ({
              name: r.name,
              action: spec.command,
              ...(r.result ? { phase: r.result.status?.phase ?? "", resultName: r.result.metadata?.name } : {}),
            })),
          );
        }
        return 0;
      }),
  };
}
