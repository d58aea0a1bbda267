/**
 * The OP runner: executes one OP against the runtime contract (DESIGN.md). The same code runs
 * inside a container (`opflow execute`, root `/tmp`) and in-process in the local engine
 * (root = the step's directory), so both give the same state tree.
 *
 * Artifact layout under `inputs/artifacts/<name>` and `outputs/artifacts/<name>`:
 * - one path: the file or directory itself;
 * - a list: `<name>/<index>/<basename>` for each item, in order;
 * - a record: `<name>/<key>/<basename>` for each entry.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ExitCode, type InProcessResult, contractPaths } from "../contract.ts";
import { FatalError, TransientError, ValidationError } from "../errors.ts";
import type { OPContext, OPDefinition } from "./op.ts";
import { validateInput, validateOutput } from "./op.ts";
import { decodeParameter, encodeParameter } from "./parameter-codec.ts";
import type { ArtifactSpec, Signature } from "./signature.ts";

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
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

async function readArtifact(dir: string, spec: ArtifactSpec): Promise<unknown> {
  if (!(await exists(dir))) return undefined;
  if (spec.shape === "path") return dir;
  const entries = (await fs.readdir(dir)).filter((e) => !e.startsWith("."));
  const single = async (sub: string): Promise<string> => {
    const inner = await fs.readdir(path.join(dir, sub));
    if (inner.length !== 1) {
      throw new ValidationError(`artifact directory ${path.join(dir, sub)} must hold exactly one entry, has ${inner.length}`);
    }
    return path.join(dir, sub, inner[0] as string);
  };
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

async function writeArtifact(workdir: string, dest: string, spec: ArtifactSpec, value: unknown): Promise<void> {
  const abs = (p: string): string => path.resolve(workdir, p);
  const check = async (p: string, what: string): Promise<string> => {
    const full = abs(p);
    if (!(await exists(full))) throw new ValidationError(`${what} ${JSON.stringify(p)} does not exist`);
    return full;
  };
  if (spec.shape === "path") {
    const src = await check(value as string, "output artifact path");
    if (path.resolve(src) !== path.resolve(dest)) await copyInto(src, dest);
    return;
  }
  const tmp = `${dest}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  const items: [string, string][] =
    spec.shape === "list"
      ? (value as string[]).map((p, i) => [String(i), p])
      : Object.entries(value as Record<string, string>);
  for (const [slot, p] of items) {
    const src = await check(p, `output artifact item ${slot}`);
    await copyInto(src, path.join(tmp, slot, path.basename(src)));
  }
  await fs.rm(dest, { recursive: true, force: true });
  await fs.rename(tmp, dest);
}

/** Reads the inputs of `op` from the contract root, decoded and validated. */
export async function readInputs(op: OPDefinition, options: RunOpOptions): Promise<Record<string, unknown>> {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(op.inputs as Signature)) {
    if (spec.kind === "parameter") {
      let text: string | undefined = options.parameters?.[name];
      const file = path.join(options.root, spec.big ? contractPaths.inputArtifact(name) : contractPaths.inputParameter(name));
      if (text === undefined && (await exists(file))) text = await fs.readFile(file, "utf8");
      if (text === undefined && !spec.big) text = env[name];
      if (text !== undefined) {
        raw[name] = decodeParameter(spec.schema, text);
        if (!spec.big && !(await exists(file))) await writeAtomic(file, text);
      }
    } else {
      const value = await readArtifact(path.join(options.root, contractPaths.inputArtifact(name)), spec);
      if (value !== undefined) raw[name] = value;
    }
  }
  return raw;
}

/** Writes `output` to the contract root. */
export async function writeOutputs(op: OPDefinition, output: Record<string, unknown>, options: RunOpOptions): Promise<void> {
  const workdir = options.workdir ?? path.join(options.root, "workdir");
  for (const [name, spec] of Object.entries(op.outputs as Signature)) {
    const value = output[name];
    if (value === undefined) continue;
    if (spec.kind === "parameter") {
      const file = path.join(options.root, spec.big ? contractPaths.outputArtifact(name) : contractPaths.outputParameter(name));
      await writeAtomic(file, encodeParameter(value));
    } else {
      await writeArtifact(workdir, path.join(options.root, contractPaths.outputArtifact(name)), spec, value);
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
  const context: OPContext = {
    progress: options.progress ?? (() => {}),
    log: (message) => log(message.endsWith("\n") ? message : `${message}\n`),
    signal: options.signal ?? controller.signal,
    workdir,
  };
  try {
    await fs.mkdir(workdir, { recursive: true });
    const raw = await readInputs(op, options);
    const input = validateInput(op.name, op.inputs, raw);
    const output = validateOutput(op.name, op.outputs, await op.execute(input, context));
    await writeOutputs(op, output as Record<string, unknown>, options);
    return { exitCode: ExitCode.Success };
  } catch (error) {
    const message = errorText(error);
    log(`${message}\n`);
    return { exitCode: exitCodeOf(error), message };
  }
}
