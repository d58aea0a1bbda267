/**
 * `OPTemplate`: an OP as a template (dflow's PythonOPTemplate). In a container it runs the OP's
 * bundle (`node /tmp/opflow/<hash>.mjs --op <name>`: any Node image, the bundle arrives as an
 * input artifact) or, in installed mode, `opflow execute` from the image's own package; either
 * runs the OP through the OP runner against the runtime contract. In the local engine the same
 * runner runs it in-process.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { EnvVar, Template as ArgoTemplate } from "../argo/model.ts";
import { KEY_PARAMETER, type LocalBinding, OPFLOW_ENV, opflowEnvOf } from "../contract.ts";
import { ValidationError } from "../errors.ts";
import { type OPClass, type OPDefinition, toOPDefinition } from "../op/op.ts";
import { runOp } from "../op/runner.ts";
import { workerBinding, workerModule } from "../op/worker-pool.ts";
import { z } from "zod";
import { catalogParameter, emptyCatalog } from "../op/catalog.ts";
import { type IOSpec, type Signature, artifact, param, splitSignature } from "../op/signature.ts";
import { SLICES_ENV, SLICE_INDICES_PARAMETER, STACK_KEY_PARAMETER, type SliceSpec } from "../op/slices.ts";
import { compact } from "./compact.ts";
import { orderTemplate } from "./order.ts";
import type { PodTemplateOptions } from "./pod.ts";
import { PodTemplate, contractPath } from "./pod-template.ts";
import type { RetryOn } from "./retry.ts";
import type { Template, TemplateCompiler } from "./template.ts";
import { type OPCodeOptions, type OPCodeSettings, opCodeSettings, renderOPCommand } from "./_op-code.ts";
import { type PrePost, checkPrePost, hasPrePost, shellAround } from "./_pre-post.ts";

export { moduleSpecifier, type OPCode, type OPCodeOptions } from "./_op-code.ts";

/** Options of {@link OPTemplate.fromOp}. */
export interface OPTemplateOptions extends PodTemplateOptions, OPCodeOptions {
  /**
   * The image: any image with Node.js ≥ 20 in bundle mode; one holding Node.js, opflow and
   * the OP's package in installed mode.
   * @default "node:20-slim"
   */
  readonly image?: string;
  /**
   * Where the local engine runs the OP: on the engine's own thread (`"engine"`: cheapest, for
   * short or I/O-bound OPs), or in a pool of worker threads (`"worker"`: for CPU-bound OPs —
   * the engine stays responsive, such steps run on all cores at once, and a deadline or a stop
   * ends them even when they never look at their abort signal). A worker thread imports the
   * OP's module again, so the module must export the OP and be importable without side
   * effects. On Argo every OP runs in its own container either way.
   * @default "engine"
   */
  readonly thread?: OPThread;
  /**
   * Shell lines run in the container before the OP runner, in the same shell (`source
   * /opt/env.sh`, `module load cuda`, `export OMP_NUM_THREADS=4`): what they export reaches the
   * OP. When the last of them fails (or `set -e` stops them) the OP does not run and the step
   * fails with their exit code and a message naming the pre script. The local engine runs the
   * same shell text around `opflow execute` in a child process (not in-process), so the OP's
   * module must be importable on its own (as for `thread: "worker"`; `thread` is then not
   * read).
   * @default none
   */
  readonly preScript?: string;
  /**
   * Shell lines run in the container after the OP runner succeeded (copy results, clean up).
   * A failed OP keeps its exit status (a TransientError is still retried) and skips them; when
   * they fail, the step fails with their exit code and a message naming the post script
   * (outputs the OP wrote are not kept). Runs as {@link OPTemplateOptions.preScript} does.
   * @default none
   */
  readonly postScript?: string;
}

/** The environment that tells an OP where it runs: the workflow's name, and the step's key when steps pass one. */
function opflowEnv(compiler: TemplateCompiler, template: Template): EnvVar[] {
  const env: EnvVar[] = [{ name: OPFLOW_ENV.workflowName, value: "{{workflow.name}}" }];
  if (compiler.takesKey?.(template)) env.push({ name: OPFLOW_ENV.stepKey, value: `{{inputs.parameters.${KEY_PARAMETER}}}` });
  return env;
}

/** Where the local engine runs an OP template in-process (see {@link OPTemplateOptions.thread}). */
export type OPThread = "engine" | "worker";

function checkThread(op: OPDefinition, thread: unknown): OPThread {
  if (thread === undefined || thread === "engine") return "engine";
  if (thread !== "worker") throw new ValidationError(`OP template "${op.name}": option "thread" must be "engine" or "worker", got ${JSON.stringify(thread)}`);
  workerModule(op);
  return "worker";
}

/** The default image of OP templates. */
export const DEFAULT_OP_IMAGE = "node:20-slim";

/**
 * An OP as a template.
 *
 * @example
 * const hello = OPTemplate.fromOp(Hello, { image: "ghcr.io/me/ops:1.0", retry: 3 });
 */
export class OPTemplate<I extends Signature = Signature, O extends Signature = Signature> extends PodTemplate<I, O> {
  readonly op: OPDefinition<I, O>;
  private readonly code: OPCodeSettings;
  /** Where the local engine runs it. */
  readonly thread: OPThread;
  /** Shell lines run before and after the OP runner ({@link OPTemplateOptions.preScript}). */
  readonly prePost: PrePost;

  private constructor(op: OPDefinition<I, O>, options: OPTemplateOptions) {
    const { thread, code, externals, module, command, preScript, postScript, ...podOptions } = options;
    super(options.name ?? op.name, op.inputs, op.outputs, { image: DEFAULT_OP_IMAGE, ...podOptions });
    this.op = op;
    this.thread = checkThread(op as unknown as OPDefinition, thread);
    this.code = opCodeSettings(op as unknown as OPDefinition, { code, externals, module, command });
    this.prePost = checkPrePost(`OP template "${this.name}"`, { preScript, postScript });
    if (hasPrePost(this.prePost)) checkModuleFile(op as unknown as OPDefinition, this.name);
  }

  /** Makes a template of an OP (a class extending `OP`, or the result of `defineOp`). */
  static fromOp<I extends Signature, O extends Signature>(
    op: OPDefinition<I, O> | OPClass<I, O>,
    options: OPTemplateOptions = {},
  ): OPTemplate<I, O> {
    return new OPTemplate(toOPDefinition(op), options);
  }

  protected override defaultRetryOn(): RetryOn {
    return "transient-error";
  }

  /** The OP runner validates outputs itself. */
  protected override checksOutputsWhenRead(): boolean {
    return false;
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const { tmpl, container } = this.renderBase(compiler, [...this.contractEnv(), ...opflowEnv(compiler, this)]);
    const c = { ...container };
    renderOPCommand(compiler, this.code, this.op.name, tmpl, c);
    wrapCommand(c, this.name, this.prePost);
    tmpl.container = compact(c);
    // The runner writes the catalog of every list, record and nested output beside it.
    const catalogs = splitSignature(this.op.outputs as Signature).artifacts.filter(([, spec]) => spec.shape !== "path");
    if (catalogs.length) {
      const outputs = { ...(tmpl.outputs ?? {}) };
      outputs.parameters = [
        ...(outputs.parameters ?? []),
        ...catalogs.map(([name, spec]) => ({
          name: catalogParameter(name),
          valueFrom: { path: contractPath("outputs", "parameters", catalogParameter(name)), default: emptyCatalog(spec.shape as "list" | "record" | "nested", spec.layout) },
        })),
      ];
      tmpl.outputs = outputs;
    }
    return [orderTemplate(tmpl)];
  }

  override recordsCatalog(name: string): boolean {
    const spec = (this.op.outputs as Signature)[name];
    return spec?.kind === "artifact" && spec.shape !== "path";
  }

  /**
   * The variant of this template that runs slices of a fan-out (see `Step.sliced`): sliced
   * inputs arrive as whole lists, outputs leave stacked.
   */
  sliced(spec: SliceSpec): SlicedOPTemplate {
    return new SlicedOPTemplate(this.op as unknown as OPDefinition, spec, this.pod, this.code, this.thread, this.prePost);
  }

  override localBinding(): LocalBinding {
    const op = this.op as unknown as OPDefinition;
    const codeFile = op.modulePath ? { codeFile: op.modulePath.startsWith("file:") ? fileURLToPath(op.modulePath) : op.modulePath } : {};
    if (hasPrePost(this.prePost)) return Object.assign(wrappedBinding(op, this.name, this.prePost), codeFile);
    if (this.thread === "worker") return Object.assign(workerBinding(op), codeFile);
    const binding: LocalBinding = (task) =>
      runOp(op, {
        root: task.root,
        parameters: task.parameters,
        env: opflowEnvOf(task.env),
        workdir: path.join(task.root, "workdir"),
        progress: (done, total) => task.progress(done, total),
        log: (text) => task.log(text),
        signal: task.signal,
      });
    return Object.assign(binding, codeFile);
  }
}

/** The file of the module that defines `op`, which a pre or post script needs (the OP then runs in a child process locally). */
function checkModuleFile(op: OPDefinition, template: string): string {
  if (!op.modulePath) {
    throw new ValidationError(`OP template "${template}": preScript and postScript need the module that defines OP "${op.name}" (the local engine runs it in a child process); define it in a module of its own`);
  }
  return op.modulePath.startsWith("file:") ? fileURLToPath(op.modulePath) : op.modulePath;
}

/** Wraps the runner's command in `sh -c` with the pre and post scripts around it. */
function wrapCommand(c: NonNullable<ArgoTemplate["container"]>, template: string, parts: PrePost): void {
  if (!hasPrePost(parts)) return;
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  c.command = ["sh", "-c", shellAround(template, parts, '"$@"'), "opflow-op"];
  c.args = argv;
}

/** The local engine's binding of an OP template with pre or post scripts: the pod's shell text around `opflow execute`. */
function wrappedBinding(op: OPDefinition, template: string, parts: PrePost): LocalBinding {
  const file = checkModuleFile(op, template);
  const wrapper = shellAround(template, parts, '"$@"');
  // Loaded when such a step runs: only the local engine runs it (a pod runs the wrapper itself).
  return async (task) => (await import("./_op-process.ts")).runWrappedOp(task, wrapper, file, op.name);
}

function slicedSignatures(op: OPDefinition, spec: SliceSpec): { inputs: Signature; outputs: Signature; stacksArtifacts: boolean } {
  const inputs: Record<string, IOSpec> = {};
  for (const [name, io] of Object.entries(op.inputs as Signature)) {
    if (spec.parameters.includes(name)) {
      if (io.kind !== "parameter" || io.big) throw new ValidationError(`OP "${op.name}": only parameters can be sliced as parameters; "${name}" is not one`);
      inputs[name] = param(z.array(io.schema));
    } else if (spec.artifacts.includes(name)) {
      if (io.kind !== "artifact" || io.shape !== "path") throw new ValidationError(`OP "${op.name}": only single-path artifacts can be sliced; "${name}" is not one`);
      inputs[name] = artifact.list();
    } else inputs[name] = io;
  }
  inputs[SLICE_INDICES_PARAMETER] = param(z.string());
  const outputs: Record<string, IOSpec> = {};
  let stacksArtifacts = false;
  for (const [name, io] of Object.entries(op.outputs as Signature)) {
    if (io.kind === "parameter") {
      if (io.big) throw new ValidationError(`OP "${op.name}": big parameter output "${name}" cannot be stacked by slices`);
      outputs[name] = param(z.array(io.schema.optional()));
    } else {
      if (io.shape !== "path") throw new ValidationError(`OP "${op.name}": only single-path output artifacts can be stacked; "${name}" is a ${io.shape}`);
      outputs[name] = artifact.list({ optional: io.optional });
      stacksArtifacts = true;
    }
  }
  if (stacksArtifacts) inputs[STACK_KEY_PARAMETER] = param(z.string());
  return { inputs, outputs, stacksArtifacts };
}

/**
 * An OP template running slices of a fan-out: the runner picks each child's items out of the
 * sliced lists and writes stacked outputs; output artifacts are saved under a key shared by
 * all children (`opflow-stack-key`), each item under its index, so that together they form
 * one list artifact.
 */
export class SlicedOPTemplate extends PodTemplate<Signature, Signature> {
  /** Whether it stacks output artifacts (and so takes the stack key). */
  readonly stacksArtifacts: boolean;

  constructor(
    readonly op: OPDefinition,
    readonly spec: SliceSpec,
    podOptions: PodTemplateOptions,
    private readonly code: OPCodeSettings,
    /** Where the local engine runs it. */
    readonly thread: OPThread = "engine",
    /** Shell lines run before and after the OP runner. */
    readonly prePost: PrePost = {},
  ) {
    const sig = slicedSignatures(op, spec);
    super(`${(podOptions.name ?? op.name).slice(0, 120)}-sliced`, sig.inputs, sig.outputs, { ...podOptions, name: undefined });
    this.stacksArtifacts = sig.stacksArtifacts;
  }

  protected override defaultRetryOn(): RetryOn {
    return "transient-error";
  }

  /** The OP runner validates outputs itself. */
  protected override checksOutputsWhenRead(): boolean {
    return false;
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    const { tmpl, container } = this.renderBase(compiler, [...this.contractEnv(), ...opflowEnv(compiler, this), { name: SLICES_ENV, value: JSON.stringify(this.spec) }]);
    const c = { ...container };
    renderOPCommand(compiler, this.code, this.op.name, tmpl, c);
    wrapCommand(c, this.name, this.prePost);
    tmpl.container = compact(c);
    for (const a of tmpl.outputs?.artifacts ?? []) {
      a.archive = { none: {} };
      a.s3 = { key: `{{inputs.parameters.${STACK_KEY_PARAMETER}}}/${a.name}` };
    }
    // The runner writes each child's part of the stacked lists' catalogs: [index, path] pairs.
    const stacked = splitSignature(this.outputs).artifacts;
    if (stacked.length) {
      tmpl.outputs = {
        ...(tmpl.outputs ?? {}),
        parameters: [
          ...(tmpl.outputs?.parameters ?? []),
          ...stacked.map(([name]) => ({ name: catalogParameter(name), valueFrom: { path: contractPath("outputs", "parameters", catalogParameter(name)), default: "[]" } })),
        ],
      };
    }
    return [orderTemplate(tmpl)];
  }

  override recordsCatalog(name: string): boolean {
    return this.outputs[name]?.kind === "artifact";
  }

  override localBinding(): LocalBinding {
    const op = this.op;
    const slices = this.spec;
    const codeFile = op.modulePath ? { codeFile: op.modulePath.startsWith("file:") ? fileURLToPath(op.modulePath) : op.modulePath } : {};
    if (hasPrePost(this.prePost)) return Object.assign(wrappedBinding(op, this.name, this.prePost), codeFile);
    if (this.thread === "worker") return Object.assign(workerBinding(op, slices), codeFile);
    const binding: LocalBinding = (task) =>
      runOp(op, {
        root: task.root,
        parameters: task.parameters,
        env: opflowEnvOf(task.env),
        slices,
        workdir: path.join(task.root, "workdir"),
        progress: (done, total) => task.progress(done, total),
        log: (text) => task.log(text),
        signal: task.signal,
      });
    return Object.assign(binding, codeFile);
  }
}
