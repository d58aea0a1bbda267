/**
 * `opflow submit FILE`: compiles a workflow module (or reads a manifest) and creates it on the
 * cluster, like `argo submit`.
 */
import type { CommandModule } from "../command.ts";
import { LocalStorageClient } from "../../storage/local.ts";
import { DEFAULT_WORKDIR, engineStorageRoot } from "../../debug/workdir.ts";
import type { StorageClient } from "../../storage/client.ts";
import { createStorageClient, loadArtifactRepositoryConfig } from "../../storage/config.ts";
import { loadWorkflow } from "../load.ts";
import { withProgressBar } from "../progress-bar.ts";
import { createArgoClient } from "../../argo/create-argo-client.ts";
import { submitWorkflow } from "../../argo/workflow-handle.ts";
import { CLUSTER_USAGE, clusterOptionsFrom, out, outJson, parseCommand, wantsJson } from "../cluster-options.ts";
import { UsageError, runCommand } from "../args.ts";
import { workflowSummary } from "../workflow-table.ts";
import { followWorkflow } from "./watch.ts";
import { LiveStatusView } from "../status-view.ts";
import { LocalArgoClient } from "../../debug/local-argo-client.ts";
import { submitMode } from "../../debug/submit-mode.ts";

const usage = [
  "usage: opflow submit FILE.ts|MANIFEST.yaml [options]",
  "",
  "      --name NAME              set metadata.name",
  "      --generate-name PREFIX   set metadata.generateName (drops metadata.name)",
  "  -l, --label KEY=VALUE        add a label (repeatable)",
  "  -p, --parameter NAME=VALUE   set a workflow argument parameter (repeatable)",
  "      --wait                   wait until it finishes (live step tree on a terminal); exit 1 unless it Succeeded",
  "      --watch                  follow it until it finishes, redrawing its status",
  "      --mode debug|cluster     debug: run it with the local engine in this process (the command",
  "                               then always waits for the end; Ctrl-C terminates it)",
  "                               (default: OPFLOW_MODE, else cluster)",
  `      --workdir DIR            debug mode: where runs are written (default: ./${DEFAULT_WORKDIR})`,
  "",
  CLUSTER_USAGE,
].join("\n");

function pairs(value: unknown, flag: string): [string, string][] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((v) => {
    const s = String(v);
    const i = s.indexOf("=");
    if (i <= 0) throw new UsageError(`${flag} expects KEY=VALUE, got ${JSON.stringify(s)}`);
    return [s.slice(0, i), s.slice(i + 1)];
  });
}

const command: CommandModule = {
  usage,
  run: (argv) =>
    runCommand("submit", usage, async () => {
      const { values, positionals } = parseCommand(argv, {
        name: { type: "string" },
        "generate-name": { type: "string" },
        label: { type: "string", short: "l", multiple: true },
        parameter: { type: "string", short: "p", multiple: true },
        wait: { type: "boolean" },
        watch: { type: "boolean" },
        mode: { type: "string" },
        workdir: { type: "string" },
      });
      const modeFlag = values["mode"];
      if (modeFlag !== undefined && modeFlag !== "debug" && modeFlag !== "cluster") throw new UsageError(`--mode must be debug or cluster, got ${JSON.stringify(modeFlag)}`);
      const debug = submitMode(modeFlag === undefined ? {} : { mode: modeFlag }) === "debug";
      if (values["help"]) return (out(usage), 0);
      if (positionals.length !== 1) throw new UsageError("expected exactly one FILE");
      const json = wantsJson(values);
      // A cluster's pods run OP templates from their bundles; the local engine calls them in-process.
      const loaded = await loadWorkflow(positionals[0] as string, { bundles: !debug });
      const manifest = structuredClone(loaded.manifest);
      if (typeof values["name"] === "string") {
        manifest.metadata.name = values["name"];
        delete manifest.metadata.generateName;
      }
      if (typeof values["generate-name"] === "string") {
        manifest.metadata.generateName = values["generate-name"];
        delete manifest.metadata.name;
      }
      const params = pairs(values["parameter"], "--parameter");
      if (params.length > 0) {
        const list = manifest.spec.arguments?.parameters ?? [];
        for (const [k, v] of params) {
          const existing = list.find((p) => p.name === k);
          if (existing) existing.value = v;
          else list.push({ name: k, value: v });
        }
        manifest.spec.arguments = { ...(manifest.spec.arguments ?? {}), parameters: list };
      }
      const workdir = typeof values["workdir"] === "string" ? values["workdir"] : undefined;
      let storage: StorageClient | undefined;
      if (loaded.localArtifacts.length > 0 || loaded.bundles.length > 0) {
        // Local input files and OP bundles go to the run's artifact store first: the engine's, or
        // the cluster's repository (each bundle once: a key that exists holds the same bytes).
        const store = debug ? new LocalStorageClient({ root: engineStorageRoot(workdir) }) : createStorageClient(loadArtifactRepositoryConfig());
        for (const a of loaded.localArtifacts) await withProgressBar("auto", (onProgress) => a.upload(store, { onProgress }));
        for (const b of loaded.bundles) await b.upload(store);
        storage = store;
      }
      const client = debug
        ? new LocalArgoClient({ bindings: loaded.bindings, ...(workdir ? { workdir } : {}), ...(storage ? { storage } : {}) })
        : createArgoClient(clusterOptionsFrom(values));
      const handle = await submitWorkflow(manifest, { client, labels: Object.fromEntries(pairs(values["label"], "--label")) });
      if (debug) {
        // The engine runs in this process: stay until the run ends; Ctrl-C terminates it.
        const onSignal = (): void => void client.terminate(handle.name).catch(() => undefined);
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        void handle.wait().catch(() => undefined).finally(() => {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
        });
        if (!values["watch"] && !values["wait"]) await handle.wait();
      }
      if (values["watch"]) return followWorkflow(client, handle.name, { json, redraw: process.stdout.isTTY === true });
      if (values["wait"]) {
        const live = !json && process.stdout.isTTY === true ? new LiveStatusView(process.stdout, handle.name) : undefined;
        const done = await handle.wait({ onUpdate: (status) => live?.update(status) });
        live?.close(done.status ?? {});
        if (json) outJson({ name: handle.name, namespace: handle.namespace, phase: done.status?.phase, status: done.status });
        else out(`${workflowSummary(done)}`);
        return done.status?.phase === "Succeeded" ? 0 : 1;
      }
      const wf = await handle.get();
      if (json) outJson(wf);
      else out(workflowSummary(wf));
      return 0;
    }),
};
export default command;
