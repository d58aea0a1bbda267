/**
 * `opflow run FILE`: runs a workflow (a TypeScript module exporting one, or an Argo manifest)
 * with the local engine, showing the live step tree, and tells where the state tree is.
 */
import path from "node:path";
import type { WorkflowStatus, WorkflowTemplate } from "../../argo/model.ts";
import type { Signature } from "../../op/signature.ts";
import { runWorkflow, workflowRunName, type RunResult } from "../../debug/run.ts";
import { loadWorkflowTemplates } from "../../debug/workflow-templates.ts";
import { loadLocalObjects, type LocalObjects } from "../../debug/local-objects.ts";
import { OpflowError } from "../../errors.ts";
import { LocalStorageClient } from "../../storage/local.ts";
import { DEFAULT_WORKDIR, engineStorageRoot } from "../../debug/workdir.ts";
import { UsageError, parseCommandArgs, stringArg, stringArgs, type CommandOptions } from "../args.ts";
import { loadWorkflow } from "../load.ts";
import { ContainerExecutor, imageMapFrom, podmanStatus } from "../../executors/container.ts";
import { withProgressBar } from "../progress-bar.ts";
import type { CommandModule } from "../command.ts";
import { humanDuration, LiveStatusView, renderStatus } from "../status-view.ts";
import { formatFailure, formatOutputs, runOutputs } from "../results.ts";
import { withParameters } from "../run-parameters.ts";

const usage = `usage: opflow run FILE [options]

Runs FILE (a .ts/.js module exporting a workflow, or an Argo Workflow .yaml/.json) with the
local engine. Each step gets a directory under <workdir>/<workflow-name>/.

options:
  -p, --parameter NAME=VALUE  set an input of the workflow's entrypoint (or a workflow
                              argument); repeatable; an unknown NAME is an error
  --name NAME                 the workflow's name; the name of an earlier run resumes it:
                              its Succeeded steps whose template, inputs and input artifacts
                              are unchanged are not run again; changed ones (and what they
                              feed) run again
  --restart                   with --name of an earlier run: start it over, reusing nothing
  --reuse RUN                 take over the Succeeded keyed steps of run RUN (a name under the
                              workdir, or a run folder) (repeatable)
  --cache                     use the workdir's content-hash cache: a step an earlier run
                              computed with the same template and inputs is not run again
  --workdir DIR               where runs are written (default: ./${DEFAULT_WORKDIR})
  --parallelism N             most steps running at once
  --templates PATH            WorkflowTemplates / ClusterWorkflowTemplates that templateRef and
                              workflowTemplateRef name: a YAML file or a folder (repeatable;
                              those in FILE itself are read too)
  --objects PATH              ConfigMaps and Secrets the workflow reads (env valueFrom/envFrom,
                              parameters from config maps, HTTP header secrets): Kubernetes
                              manifests in a YAML file or a folder (repeatable)
  --executor local|container  how container and script templates run: local processes (default;
                              OP templates in-process), or podman containers from their images as
                              Argo pods run (OP templates from their bundles, as on a cluster)
  --image NAME=LOCAL          container executor: run the manifest's image NAME as the local image
                              LOCAL (repeatable; also $OPFLOW_IMAGES); images are never pulled
  --json                      print one JSON document at the end: name, dir, results (the
                              entrypoint's outputs), the status in Argo's shape (phase, nodes …)
                              and "resume": the steps reused (how) and re-run (why)
  --outputs                   print only the workflow's outputs, as one JSON object
  -q, --quiet                 no live tree (also when stdout is not a terminal)
  -h, --help                  this help

exit code: 0 when the workflow Succeeded, 1 when it Failed or Errored, 2 on usage errors.`;

interface Parsed {
  file: string;
  parameters: Record<string, string>;
  name?: string;
  workdir?: string;
  parallelism?: number;
  templates: string[];
  objects: string[];
  executor: "local" | "container";
  images: string[];
  json: boolean;
  outputs: boolean;
  quiet: boolean;
  restart: boolean;
  cache: boolean;
  reuse: string[];
}

const OPTIONS = {
  parameter: { type: "string", short: "p", multiple: true },
  name: { type: "string" },
  workdir: { type: "string" },
  parallelism: { type: "string" },
  templates: { type: "string", multiple: true },
  objects: { type: "string", multiple: true },
  executor: { type: "string" },
  image: { type: "string", multiple: true },
  json: { type: "boolean" },
  restart: { type: "boolean" },
  cache: { type: "boolean" },
  reuse: { type: "string", multiple: true },
  outputs: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const satisfies CommandOptions;

/** The run's settings from `argv`, or undefined when help was asked for. */
function parse(argv: readonly string[]): Parsed | undefined {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS);
  if (values["help"]) return undefined;
  const parameters: Record<string, string> = {};
  for (const v of stringArgs(values, "parameter")) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new UsageError(`--parameter expects NAME=VALUE, got ${JSON.stringify(v)}`);
    parameters[v.slice(0, eq)] = v.slice(eq + 1);
  }
  const executor = stringArg(values, "executor") ?? "local";
  if (executor !== "local" && executor !== "container") throw new UsageError(`--executor must be local or container, got ${JSON.stringify(executor)}`);
  const images = stringArgs(values, "image");
  if (images.length > 0 && executor !== "container") throw new UsageError("--image maps images for --executor container; the local executor ignores images");
  const parsed: Parsed = {
    file: "",
    parameters,
    templates: stringArgs(values, "templates"),
    objects: stringArgs(values, "objects"),
    executor,
    images,
    json: values["json"] === true,
    outputs: values["outputs"] === true,
    quiet: values["quiet"] === true,
    restart: values["restart"] === true,
    cache: values["cache"] === true,
    reuse: stringArgs(values, "reuse"),
  };
  if (parsed.reuse.some((r) => !r)) throw new UsageError("--reuse expects a run name or folder");
  const name = stringArg(values, "name");
  if (name !== undefined) {
    if (!name) throw new UsageError("--name expects a value");
    parsed.name = name;
  }
  const workdir = stringArg(values, "workdir");
  if (workdir !== undefined) {
    if (!workdir) throw new UsageError("--workdir expects a folder");
    parsed.workdir = workdir;
  }
  const parallelism = stringArg(values, "parallelism");
  if (parallelism !== undefined) {
    const n = Number(parallelism);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--parallelism expects a positive integer, got ${JSON.stringify(parallelism)}`);
    parsed.parallelism = n;
  }
  if (positionals.length === 0) throw new UsageError("expects a FILE to run");
  if (positionals.length > 1) throw new UsageError(`expects one FILE, got ${positionals.map((f) => JSON.stringify(f)).join(" and ")}`);
  parsed.file = positionals[0] as string;
  return parsed;
}

/**
 * The JSON document `--json` prints: name, dir, `results` (the entrypoint's outputs; Argo's
 * `outputs` stays the global outputs), the status in Argo's shape, and what was reused or re-run.
 */
export function runDocument(name: string, dir: string, status: WorkflowStatus, resume?: RunResult["resume"], signature?: Signature): Record<string, unknown> {
  return { name, dir, results: runOutputs(name, status, signature), ...status, ...(resume ? { resume } : {}) };
}

/** The end line's note on reuse: `(4 steps reused, 2 re-ran because they changed)`. */
export function reuseNote(resume: RunResult["resume"]): string {
  const parts: string[] = [];
  const count = (how: string): number => resume.reused.filter((r) => r.how === how).length;
  const steps = (n: number): string => `${n} step${n === 1 ? "" : "s"}`;
  if (count("resumed")) parts.push(`${steps(count("resumed"))} reused`);
  if (count("key")) parts.push(`${steps(count("key"))} reused by key`);
  if (count("cache")) parts.push(`${steps(count("cache"))} from the cache`);
  if (resume.rerun.length) parts.push(`${resume.rerun.length} re-ran because ${resume.rerun.length === 1 ? "it" : "they"} changed`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/**
 * The `--json` document of a run that could not start or whose engine failed: phase Error and
 * the message, so that a caller reading `--json` always gets a document.
 */
function printFailureDocument(name: string, message: string): void {
  process.stdout.write(`${JSON.stringify({ name, phase: "Error", message }, null, 2)}\n`);
}

const command: CommandModule = {
  usage,
  async run(argv) {
    let args: Parsed | undefined;
    try {
      args = parse(argv);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      console.error(`opflow run: ${err.message}\n\n${usage}`);
      return 2;
    }
    if (!args) {
      console.log(usage);
      return 0;
    }
    let executor: ContainerExecutor | undefined;
    if (args.executor === "container") {
      const podman = podmanStatus();
      if (!podman.ok) {
        console.error(`opflow run: --executor container: ${podman.reason}`);
        return 2;
      }
      try {
        executor = new ContainerExecutor({ images: imageMapFrom(args.images) });
      } catch (err) {
        console.error(`opflow run: ${err instanceof Error ? err.message : String(err)}`);
        return 2;
      }
    }
    // A line at once: loading a TypeScript module takes a moment (the command's entry says it
    // before loading opflow itself; this is for callers of main()).
    const announced = (globalThis as Record<symbol, unknown>)[Symbol.for("opflow.run.announced")] === true;
    if (!announced && !args.json && !args.outputs && !args.quiet) process.stderr.write(`opflow run: loading workflow…\n`);
    let loaded;
    let workflowTemplates: WorkflowTemplate[];
    let objects: LocalObjects | undefined;
    try {
      // Pods in containers run OP templates from their bundles, as on a cluster.
      loaded = await loadWorkflow(args.file, { bundles: executor !== undefined });
      // -p names are checked before anything is created.
      loaded = { ...loaded, manifest: withParameters(loaded.manifest, args.parameters) };
      workflowTemplates = [...(loaded.workflowTemplates ?? []), ...(await loadWorkflowTemplates(args.templates))];
      if (args.objects.length > 0) objects = await loadLocalObjects(args.objects);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`opflow run: ${message}`);
      if (args.json) printFailureDocument(args.name ?? "", message);
      return 2;
    }
    const stop = new AbortController();
    let interrupts = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      if (!args.json) process.stderr.write(`\nopflow run: ${sig}: stopping the running steps (again to quit at once)…\n`);
      stop.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const live = !args.quiet && !args.json && !args.outputs && process.stdout.isTTY === true;
    let view: LiveStatusView | undefined;
    const started = Date.now();
    try {
      const name = workflowRunName(loaded.manifest, args.name);
      // The engine's store, made here so that local input files can be put in it first.
      const storage = new LocalStorageClient({ root: engineStorageRoot(args.workdir) });
      for (const a of loaded.localArtifacts) await withProgressBar("auto", (onProgress) => a.upload(storage, { onProgress }));
      for (const b of loaded.bundles) await b.upload(storage);
      const result = await runWorkflow(loaded.manifest, {
        bindings: executor ? new Map() : loaded.bindings,
        ...(executor ? { executor } : {}),
        storage,
        parameters: args.parameters,
        workflowTemplates,
        ...(objects ? { objects } : {}),
        signal: stop.signal,
        // `opflow stop|terminate NAME --mode debug` from elsewhere.
        acceptControl: true,
        name,
        ...(args.workdir ? { workdir: args.workdir } : {}),
        ...(args.parallelism ? { parallelism: args.parallelism } : {}),
        ...(args.restart ? { restart: true } : {}),
        ...(args.cache ? { cache: true } : {}),
        ...(args.reuse.length ? { reuse: args.reuse } : {}),
        ...(live
          ? {
              onUpdate: (status: WorkflowStatus) => {
                view ??= new LiveStatusView(process.stdout, name);
                view.update(status);
              },
            }
          : {}),
      });
      view?.close(result.status);
      const phase = result.status.phase ?? "Error";
      const rel = path.relative(process.cwd(), result.dir) || ".";
      // The entrypoint's output types, for printing the outputs as wf.run() gives them.
      const signature = loaded.outputSignatures?.get(loaded.manifest.spec.entrypoint ?? "");
      if (args.json) {
        process.stdout.write(`${JSON.stringify(runDocument(result.name, result.dir, result.status, result.resume, signature), null, 2)}\n`);
      } else if (args.outputs) {
        process.stdout.write(`${JSON.stringify(runOutputs(result.name, result.status, signature), null, 2)}\n`);
        if (phase !== "Succeeded") process.stderr.write(formatFailure(result.name, result.status));
      } else {
        if (!live && !args.quiet) process.stdout.write(`${renderStatus(result.status, { name: result.name })}\n`);
        process.stdout.write(`\nWorkflow ${result.name} ${phase} in ${humanDuration(Date.now() - started)}${reuseNote(result.resume)}\n`);
        const shown = result.resume.rerun.slice(0, 10);
        for (const r of shown) process.stdout.write(`  re-ran ${r.name.slice(result.name.length).replace(/^\./, "") || result.name}: ${r.reasons.join("; ")}\n`);
        if (result.resume.rerun.length > shown.length) process.stdout.write(`  … and ${result.resume.rerun.length - shown.length} more (--json lists them all)\n`);
        process.stdout.write(`State tree: ${rel}\n`);
        process.stdout.write(formatOutputs(result.name, result.status, args.workdir, signature));
        if (phase !== "Succeeded") {
          // Where it failed, by step name and path; then the failed steps with their whole message
          // (the tree above cuts long ones).
          process.stdout.write(formatFailure(result.name, result.status) || (result.status.message ? `Message: ${result.status.message}\n` : ""));
          const failed = Object.values(result.status.nodes ?? {}).filter((n) => n.type === "Pod" && (n.phase === "Failed" || n.phase === "Error") && n.message);
          if (failed.length > 1) for (const n of failed.slice(0, 5)) process.stdout.write(`  ${n.displayName} (${n.phase}): ${n.message}\n`);
          process.stdout.write(`Resume with: opflow run ${args.file} --name ${result.name}${args.workdir ? ` --workdir ${args.workdir}` : ""}\n`);
        }
      }
      return phase === "Succeeded" ? 0 : 1;
    } catch (err) {
      view?.close();
      console.error(`opflow run: ${err instanceof OpflowError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (args.json) printFailureDocument(args.name ?? loaded.manifest.metadata?.name ?? "", err instanceof Error ? err.message : String(err));
      return 1;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
};

export default command;
