/**
 * The OP runner: executes one OP against the runtime contract (DESIGN.md). The same code runs
 * inside a container (`opflow execute`, root `/tmp`) and in-process in the local engine
 * (root = the step's directory), so both give the same state tree.
 *
 * Artifact layout under `inputs/artifacts/<name>` and `outputs/artifacts/<name>`:
 * - one path: the file or directory itself;
 * - a list: `<name>/<index>/<basename>` for each item, in order;
 * - a record: `<name>/<key>/<basename>` for each entry;
 * - a list joined from lists (`joined-list.ts`): `<name>/<part>/…`, described by `opflow-join-<name>`;
 * - a nested tree: levels of both, each level directory marked (`_nested-files.ts`).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ExitCode, type InProcessResult, KEY_PARAMETER, OPFLOW_ENV, contractPaths } from "../contract.ts";
import { FatalError, OpflowError, TransientError, ValidationError } from "../errors.ts";
import { withConsoleTo } from "./console-capture.ts";
import { atomicWrite, pathExists } from "../files.ts";
import type { OPContext, OPDefinition } from "./op.ts";
import { validateInput, validateOneOutput, validateOutput } from "./op.ts";
import { decodeParameter, encodeParameter } from "./parameter-codec.ts";
import { catalogParameter } from "./catalog.ts";
import { existingOutputPath } from "./output-path.ts";
import { joinParameter, parseJoinedParts, readJoinedList } from "./joined-list.ts";
import { onlyEntry } from "./_item-entry.ts";
import { readNested, writeNested } from "./_nested-files.ts";
import type { NestedPaths } from "../expr/nested-layout.ts";
import type { ArtifactSpec, Signature } from "./signature.ts";
import { SLICES_ENV, SLICE_INDICES_PARAMETER, type SliceSpec, parseSliceIndices, parseSliceSpec, shuffledOrder } from "./slices.ts";
import { z } from "zod";

/** Options of {@link runOp}. */
export interface RunOpOptions {
  /** Contract root (`/tmp` in a container). */
  readonly root: string;
  /**
   * Input parameter values as strings. Parameters missing here are read from
   * `<root>/inputs/parameters/<name>`, then from the environment variable of the same name.
   * @default read from files and environment
   */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Environment to read parameters from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Scratch directory for `execute`; relative output paths resolve against it. @default `<root>/workdir` */
  readonly workdir?: string;
  readonly progress?: (done: number, total: number) => void;
  readonly log?: (text: string) => void;
  readonly signal?: AbortSignal;
  /**
   * Run as a slice of a fan-out: sliced inputs arrive as whole lists, the items to process
   * are named by the `opflow-slice-indices` input, and outputs are written stacked.
   * @default read from `$OPFLOW_SLICES`; none when unset
   */
  readonly slices?: SliceSpec;
}

async function readArtifact(dir: string, spec: ArtifactSpec, name: string): Promise<unknown> {
  if (!(await pathExists(dir))) return undefined;
  if (spec.shape === "path") return dir;
  if (spec.shape === "nested") return readNested(dir, spec.layout, onlyEntry, `input artifact "${name}"`);
  const entries = (await fs.readdir(dir)).filter((e) => !e.startsWith("."));
  const single = (sub: string): Promise<string> => onlyEntry(path.join(dir, sub), `artifact directory ${path.join(dir, sub)}`);
  if (spec.shape === "list") {
    const indices = entries.filter((e) => /^\d+$/.test(e)).sort((a, b) => Number(a) - Number(b));
    return Promise.all(indices.map(single));
  }
  const out: Record<string, string> = {};
  for (const key of entries.sort()) out[key] = await single(key);
  return out;
}

async function copyInto(src: string, dest: string): Promise<void> {
  await fs.rm(dest, { recursive: true, force: true });
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.cp(src, dest, { recursive: true, verbatimSymlinks: true });
}

/**
 * Writes an output artifact; returns the catalog of a list or record (see `catalog.ts`): the
 * relative path of each item inside the artifact.
 */
async function writeArtifact(op: string, name: string, workdir: string, dest: string, spec: ArtifactSpec, value: unknown): Promise<NestedPaths | undefined> {
  const check = (p: string, what: string): Promise<string> => existingOutputPath(op, what, workdir, p);
  if (spec.shape === "path") {
    const src = await check(value as string, `output artifact "${name}": path`);
    if (path.resolve(src) !== path.resolve(dest)) await copyInto(src, dest);
    return undefined;
  }
  const tmp = `${dest}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  if (spec.shape === "nested") {
    const catalog = await writeNested(tmp, value as NestedPaths, spec.layout, async (given, slot, folder) => {
      const src = await check(given, `output artifact "${name}": leaf "${slot.split("/").join(".")}"`);
      await copyInto(src, path.join(folder, path.basename(src)));
      return src;
    });
    await fs.rm(dest, { recursive: true, force: true });
    await fs.rename(tmp, dest);
    return catalog;
  }
  const items: [string, string][] =
    spec.shape === "list"
      ? (value as string[]).map((p, i) => [String(i), p])
      : Object.entries(value as Record<string, string>);
  const catalog: [string, string][] = [];
  for (const [slot, p] of items) {
    const src = await check(p, `output artifact "${name}": item ${slot}`);
    await copyInto(src, path.join(tmp, slot, path.basename(src)));
    catalog.push([slot, `${slot}/${path.basename(src)}`]);
  }
  await fs.rm(dest, { recursive: true, force: true });
  await fs.rename(tmp, dest);
  return spec.shape === "list" ? catalog.map(([, p]) => p) : Object.fromEntries(catalog);
}

/** Reads the inputs of `op` from the contract root, decoded (sliced inputs as whole lists). */
export async function readInputs(op: OPDefinition, options: RunOpOptions): Promise<Record<string, unknown>> {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = {};
  const sliced = options.slices;
  for (const [name, spec] of Object.entries(op.inputs as Signature)) {
    if (sliced?.parameters.includes(name) && spec.kind === "parameter") {
      const text = await readParameterText(name, options, env);
      if (text === undefined) throw new ValidationError(`OP "${op.name}" input: sliced parameter "${name}" is missing`);
      const list = decodeParameter(z.array(spec.schema), text);
      if (!Array.isArray(list)) throw new ValidationError(`OP "${op.name}" input: sliced parameter "${name}" expects a JSON list, got ${JSON.stringify(text.slice(0, 80))}`);
      raw[name] = list;
      continue;
    }
    if (sliced?.artifacts.includes(name)) {
      raw[name] = path.join(options.root, contractPaths.inputArtifact(name));
      continue;
    }
    if (spec.kind === "parameter") {
      let text: string | undefined = options.parameters?.[name];
      const file = path.join(options.root, spec.big ? contractPaths.inputArtifact(name) : contractPaths.inputParameter(name));
      if (text === undefined && (await pathExists(file))) text = await fs.readFile(file, "utf8");
      if (text === undefined && !spec.big) text = env[name];
      if (text !== undefined) {
        raw[name] = decodeParameter(spec.schema, text);
        if (!spec.big && !(await pathExists(file))) await atomicWrite(file, text, true);
      }
    } else {
      const dir = path.join(options.root, contractPaths.inputArtifact(name));
      // A list joined from parts that are lists: the step says which part is which.
      const joined = spec.shape === "list" ? await readParameterText(joinParameter(name), options, env) : undefined;
      const value = joined ? await readJoinedList(name, dir, parseJoinedParts(name, joined)) : await readArtifact(dir, spec, name);
      if (value !== undefined) raw[name] = value;
    }
  }
  return raw;
}

async function readParameterText(name: string, options: RunOpOptions, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  const given = options.parameters?.[name];
  if (given !== undefined) return given;
  const file = path.join(options.root, contractPaths.inputParameter(name));
  if (await pathExists(file)) return fs.readFile(file, "utf8");
  return env[name];
}

/** Writes `output` to the contract root. */
export async function writeOutputs(op: OPDefinition, output: Record<string, unknown>, options: RunOpOptions): Promise<void> {
  const workdir = options.workdir ?? path.join(options.root, "workdir");
  for (const [name, spec] of Object.entries(op.outputs as Signature)) {
    const value = output[name];
    if (value === undefined) continue;
    if (spec.kind === "parameter") {
      const file = path.join(options.root, spec.big ? contractPaths.outputArtifact(name) : contractPaths.outputParameter(name));
      await atomicWrite(file, encodeParameter(value), true);
    } else {
      const catalog = await writeArtifact(op.name, name, workdir, path.join(options.root, contractPaths.outputArtifact(name)), spec, value);
      if (catalog) await atomicWrite(path.join(options.root, contractPaths.outputParameter(catalogParameter(name))), JSON.stringify(catalog), true);
    }
  }
}

/** Maps an error thrown by `execute` to the exit code of the runtime contract. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof TransientError) return ExitCode.Transient;
  if (error instanceof FatalError) return ExitCode.Fatal;
  if (error instanceof ValidationError) return ExitCode.Validation;
  return ExitCode.Failure;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Executes `op` against the runtime contract under `options.root`: reads and validates the
 * inputs, runs `execute`, validates and writes the outputs. Never throws for a failure of the
 * OP itself: the result carries the exit code (`TransientError` → 75, `FatalError` → 76,
 * validation → 3, anything else → 1) and the message.
 *
 * @example
 * const { exitCode } = await runOp(hello, { root: "/tmp" });
 */
export async function runOp(op: OPDefinition, options: RunOpOptions): Promise<InProcessResult> {
  const log = options.log ?? ((text: string) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`));
  const workdir = options.workdir ?? path.join(options.root, "workdir");
  const controller = new AbortController();
  const env = options.env ?? process.env;
  const workflowName = env[OPFLOW_ENV.workflowName] || undefined;
  const stepKey = options.parameters?.[KEY_PARAMETER] || env[OPFLOW_ENV.stepKey] || undefined;
  // Outputs recorded by setOutput: kept when execute throws, filled in when it returns.
  const setOutputs: Record<string, unknown> = {};
  const context: OPContext = {
    setOutput: (name, value) => {
      setOutputs[name] = validateOneOutput(op.name, op.outputs, name, value);
    },
    progress: options.progress ?? (() => {}),
    log: (message) => log(message.endsWith("\n") ? message : `${message}\n`),
    signal: options.signal ?? controller.signal,
    workdir,
    ...(workflowName ? { workflowName } : {}),
    ...(stepKey ? { stepKey } : {}),
  };
  try {
    await fs.mkdir(workdir, { recursive: true });
    const envSlices = (options.env ?? process.env)[SLICES_ENV];
    const slices = options.slices ?? (envSlices ? parseSliceSpec(envSlices) : undefined);
    if (slices) {
      const all = (): Promise<InProcessResult> => runSlices(op, { ...options, slices }, context, log);
      return await (options.log ? withConsoleTo(log, all) : all());
    }
    const raw = await readInputs(op, options);
    const input = validateInput(op.name, op.inputs, raw);
    // Embedded (engine process, worker thread): the OP's console output goes to its log too.
    const execute = (): Promise<unknown> => Promise.resolve(op.execute(input, context));
    const returned = options.log ? await withConsoleTo(log, execute) : await execute();
    const output = validateOutput(op.name, op.outputs, withSetOutputs(returned, setOutputs));
    await writeOutputs(op, output as Record<string, unknown>, options);
    return { exitCode: ExitCode.Success };
  } catch (error) {
    const message = errorText(error);
    log(`${logText(error)}\n`);
    await writePartialOutputs(op, setOutputs, options, log);
    return { exitCode: exitCodeOf(error), message };
  }
}

/** What `execute` returned, with the outputs it set and did not return filled in. */
function withSetOutputs(returned: unknown, set: Record<string, unknown>): unknown {
  if (!Object.keys(set).length || typeof returned !== "object" || returned === null || Array.isArray(returned)) return returned;
  const out: Record<string, unknown> = { ...set };
  for (const [k, v] of Object.entries(returned)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Writes the outputs `execute` set before it failed (dflow's `set_output`), each on its own: one
 * that cannot be written (an artifact path gone) is logged and the others are kept.
 */
async function writePartialOutputs(op: OPDefinition, set: Record<string, unknown>, options: RunOpOptions, log: (text: string) => void): Promise<void> {
  for (const [name, value] of Object.entries(set)) {
    const one = { ...op, outputs: { [name]: (op.outputs as Signature)[name] } } as OPDefinition;
    try {
      await writeOutputs(one, { [name]: value }, options);
    } catch (err) {
      log(`output "${name}" set before the failure could not be kept: ${errorText(err)}\n`);
    }
  }
}

/**
 * What the log keeps of a failure: the stack of an error thrown by the OP's code (where it
 * happened), only the message of opflow's own validation errors (their stack is opflow's).
 */
function logText(error: unknown): string {
  const thrownByOp = error instanceof Error && (!(error instanceof OpflowError) || error instanceof TransientError || error instanceof FatalError);
  return thrownByOp && error.stack ? error.stack : errorText(error);
}

/** The item at `index` of a list artifact laid out as `<dir>/<index>/<entry>`. */
function listItem(dir: string, index: number, subPath: boolean): Promise<string> {
  return onlyEntry(subPath ? dir : path.join(dir, String(index)), `sliced artifact: item ${index}`);
}

/** How many items the sliced inputs hold (what a shuffled order permutes). */
async function sliceCount(op: OPDefinition, base: Record<string, unknown>, slices: SliceSpec): Promise<number> {
  const p = slices.parameters[0];
  if (p !== undefined) return (base[p] as unknown[]).length;
  const a = slices.artifacts[0];
  if (a === undefined) throw new ValidationError(`OP "${op.name}": shuffled slices name no sliced input`);
  const entries = await fs.readdir(base[a] as string).catch(() => [] as string[]);
  return entries.filter((e) => /^\d+$/.test(e)).length;
}

/** Runs the items of one slice (a group of indices), `poolSize` at a time, and stacks the outputs. */
async function runSlices(op: OPDefinition, options: RunOpOptions & { slices: SliceSpec }, context: OPContext, log: (text: string) => void): Promise<InProcessResult> {
  const { slices } = options;
  const env = options.env ?? process.env;
  const indexText = await readParameterText(SLICE_INDICES_PARAMETER, options, env);
  if (indexText === undefined) throw new ValidationError(`OP "${op.name}": sliced, but input "${SLICE_INDICES_PARAMETER}" is missing`);
  const positions = parseSliceIndices(indexText);
  const base = await readInputs(op, options);
  // Shuffled: position p of the loop is item order[p] (the same order in every child).
  const order = slices.shuffle ? shuffledOrder(await sliceCount(op, base, slices), slices.shuffle.seed) : undefined;
  const indices = order
    ? positions.map((p) => {
        const i = order[p];
        if (i === undefined) throw new ValidationError(`OP "${op.name}": slice position ${p} is past the ${order.length} items`);
        return i;
      })
    : positions;
  const raise = slices.raiseForGroup !== false;
  const outputs = new Map<number, Record<string, unknown>>();
  const artifactPaths = new Map<number, Record<string, string>>();
  const workdirOf = (i: number): string => (slices.createDir ? path.join(context.workdir, String(i)) : context.workdir);
  let next = 0;
  let stopped = false;
  const failures: { index: number; error: unknown }[] = [];
  const worker = async (): Promise<void> => {
    while (next < indices.length && !stopped && !(raise && failures.length)) {
      const index = indices[next++] as number;
      try {
        const raw: Record<string, unknown> = { ...base };
        for (const p of slices.parameters) {
          const list = base[p] as unknown[];
          if (index >= list.length) throw new ValidationError(`sliced parameter "${p}" has ${list.length} items; item ${index} does not exist`);
          raw[p] = list[index];
        }
        for (const a of slices.artifacts) raw[a] = await listItem(base[a] as string, index, slices.subPath);
        const workdir = workdirOf(index);
        await fs.mkdir(workdir, { recursive: true });
        const input = validateInput(op.name, op.inputs, raw);
        const setOutput = (): never => {
          throw new ValidationError(`OP "${op.name}": setOutput is not available in a sliced run (item ${index}); return the outputs instead`);
        };
        const out = validateOutput(op.name, op.outputs, await op.execute(input, { ...context, workdir, setOutput }));
        if (stopped) return; // the pool timed out: its outputs are no longer written
        const kept: Record<string, unknown> = {};
        const written: Record<string, string> = {};
        for (const [k, v] of Object.entries(out as Record<string, unknown>)) {
          const spec = (op.outputs as Signature)[k];
          if (spec?.kind === "artifact") {
            if (v === undefined) continue;
            if (spec.shape !== "path") throw new ValidationError(`OP "${op.name}": only single-path output artifacts can be stacked; "${k}" is a ${spec.shape}`);
            // Copied at once: the next item of the group may reuse the same paths.
            const src = await existingOutputPath(op.name, `item ${index}: output artifact "${k}": path`, workdir, v as string);
            await copyInto(src, path.join(options.root, contractPaths.outputArtifact(k), String(index), path.basename(src)));
            written[k] = `${index}/${path.basename(src)}`;
          } else kept[k] = v;
        }
        outputs.set(index, kept);
        artifactPaths.set(index, written);
        context.progress(outputs.size, indices.length);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  const pool = Promise.all(Array.from({ length: Math.min(slices.poolSize, indices.length) }, worker));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = slices.poolTimeoutMs
    ? await Promise.race([pool.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), slices.poolTimeoutMs)))])
    : await pool.then(() => false);
  if (timer) clearTimeout(timer);
  if (timedOut) {
    stopped = true;
    const unfinished = indices.filter((i) => !outputs.has(i) && !failures.some((f) => f.index === i));
    const message = `poolTimeout (${slices.poolTimeoutMs} ms) expired with item${unfinished.length === 1 ? "" : "s"} ${unfinished.join(", ")} unfinished`;
    log(`${message}\n`);
    return { exitCode: ExitCode.Failure, message };
  }
  failures.sort((a, b) => indices.indexOf(a.index) - indices.indexOf(b.index));
  const failure = failures[0];
  if (failure && raise) {
    const message = `item ${failure.index}: ${errorText(failure.error)}`;
    log(`${message}\n`);
    return { exitCode: exitCodeOf(failure.error), message };
  }
  for (const f of failures) log(`item ${f.index} failed; raiseForGroup is false, so the group goes on: ${logText(f.error)}\n`);
  for (const [name, spec] of Object.entries(op.outputs as Signature)) {
    if (spec.kind === "parameter") {
      const values = indices.map((i) => outputs.get(i)?.[name]);
      if (values.every((v) => v === undefined) && !failures.length) continue;
      // Shuffled groups hold scattered items: each value travels with its index.
      const stacked = order ? indices.map((i, k) => [String(i), values[k] ?? null]) : values.map((v) => v ?? null);
      await atomicWrite(path.join(options.root, spec.big ? contractPaths.outputArtifact(name) : contractPaths.outputParameter(name)), JSON.stringify(stacked), true);
    } else {
      // This child's part of the stacked list's catalog: [index, path] of each item it wrote.
      const pairs = indices.flatMap((i) => {
        const p = artifactPaths.get(i)?.[name];
        return p === undefined ? [] : [[String(i), p]];
      });
      await atomicWrite(path.join(options.root, contractPaths.outputParameter(catalogParameter(name))), JSON.stringify(pairs), true);
    }
  }
  return { exitCode: ExitCode.Success };
}
