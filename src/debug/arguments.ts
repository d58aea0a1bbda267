/**
 * Arguments and scopes: binding an invocation's arguments to a template's inputs (Argo's
 * `processArgs`), resolving step and task arguments (parameter values, artifact `from`,
 * `fromExpression`), the variables a scope offers, and the outputs a Steps/DAG template reads
 * from its scope.
 */
import path from "node:path";
import type { Arguments, Artifact, NodeStatus, Outputs, Parameter, Template, WorkflowStep } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import { evaluateExpression, expandScope, substituteTags, substituteTagsDeep } from "./_expr.ts";
import { messageOf, type Inputs, type ResolvedArgs } from "./_context.ts";
import type { ArtifactRef } from "./artifact-io.ts";
import type { Globals } from "./globals.ts";
import type { NodeBook } from "./node-book.ts";
import { Scope, substituteStrict, type Vars } from "./scope.ts";
import type { Templates } from "./templates.ts";
import { ABSENT_ARGUMENT } from "./absent-arguments.ts";
import { configMapParameter, type LocalObjects } from "./local-objects.ts";

/** Fields of a step that are not substituted with it (they run later, in their own scope). */
export const STEP_SKIP: ReadonlySet<string> = new Set(["inline", "hooks", "onExit"]);

/** Applies tags to every string in `value`; `keep` leaves unknown tags for a later pass. */
export function substituteAll<T>(value: T, vars: Vars, onMissing: "error" | "keep", skip: ReadonlySet<string> = new Set()): T {
  const substitute = (text: string): string => (onMissing === "error" ? substituteStrict(text, vars) : substituteTags(text, vars, { onMissing }));
  // Artifact references (`from`) name artifacts, not strings: resolved by resolveArgs.
  return substituteTagsDeep(value, substitute, { skip, keep: (k, v) => k === "from" && typeof v === "string" });
}

/** The template's input parameters as variables. */
function withInputParameters(vars: Vars, parameters: readonly Parameter[]): Vars {
  for (const p of parameters) vars[`inputs.parameters.${p.name}`] = p.value ?? "";
  return vars;
}

/** Argo's processArgs: binds arguments to the template's declared inputs. */
export function bindInputs(globals: Globals, tmpl: Template, args: ResolvedArgs, where: string, objects?: LocalObjects): Inputs {
  const parameters: Parameter[] = [];
  for (const decl of tmpl.inputs?.parameters ?? []) {
    let value = decl.value ?? decl.default;
    const arg = args.parameters.get(decl.name);
    if (arg === ABSENT_ARGUMENT) {
      // The output of a step that did not run: as if not supplied (Argo's ProcessArgs).
      value ??= decl.valueFrom?.default;
      if (value === undefined) throw new EngineError(`${where}: inputs.parameters.${decl.name}: its argument references the output of a skipped or omitted step, which has no default, and the input has no default either`);
    } else if (arg !== undefined) value = arg;
    if (value === undefined) value = configMapParameter(decl.valueFrom, objects, `${where}: inputs.parameters.${decl.name}`);
    if (value === undefined && decl.valueFrom?.default !== undefined) value = decl.valueFrom.default;
    if (value === undefined) throw new EngineError(`${where}: inputs.parameters.${decl.name} was not supplied`);
    value = substituteTags(value, globals.vars, { onMissing: "keep" });
    if (decl.enum && decl.enum.length > 0 && !decl.enum.includes(value)) {
      throw new EngineError(`${where}: inputs.parameters.${decl.name}: value ${JSON.stringify(value)} is not in enum ${JSON.stringify(decl.enum)}`);
    }
    parameters.push({ name: decl.name, value });
  }
  const artifacts = new Map<string, ArtifactRef>();
  for (const decl of tmpl.inputs?.artifacts ?? []) {
    const arg = args.artifacts.get(decl.name);
    if (arg) artifacts.set(decl.name, arg);
    else if (decl.raw || decl.s3?.key) {
      // Argo substitutes the template's inputs into its declared artifacts (raw data, keys).
      const vars = withInputParameters({ ...globals.vars }, parameters);
      const artifact: Artifact = { ...decl };
      if (decl.raw) artifact.raw = { data: substituteTags(decl.raw.data, vars, { onMissing: "keep" }) };
      if (decl.s3?.key) artifact.s3 = { ...decl.s3, key: substituteTags(decl.s3.key, vars, { onMissing: "keep" }) };
      artifacts.set(decl.name, { artifact });
    } else if (decl.http || decl.git) throw new EngineError(`${where}: inputs.artifacts.${decl.name}: http and git artifacts are not supported by the local engine`);
    else if (!decl.optional) throw new EngineError(`${where}: inputs.artifacts.${decl.name} was not supplied`);
  }
  return { parameters, artifacts };
}

/** The `inputs` Argo records on a node. */
export function recordInputs(inputs: Inputs): Partial<NodeStatus> {
  if (inputs.parameters.length === 0 && inputs.artifacts.size === 0) return {};
  const rec: NonNullable<NodeStatus["inputs"]> = {};
  if (inputs.parameters.length > 0) rec.parameters = inputs.parameters.map((p) => ({ name: p.name, value: p.value ?? "" }));
  if (inputs.artifacts.size > 0) rec.artifacts = [...inputs.artifacts].map(([name, ref]) => ({ ...ref.artifact, name }));
  return { inputs: rec };
}

/** Globals and the template's input parameters (a copy). */
export function varsWithInputs(globals: Globals, inputs: Inputs): Vars {
  return withInputParameters({ ...globals.vars }, inputs.parameters);
}

/** The scope of a Steps/DAG template's body: globals and its inputs. */
export function scopeFor(globals: Globals, inputs: Inputs): Scope {
  const scope = new Scope(globals.vars);
  for (const p of inputs.parameters) scope.set(`inputs.parameters.${p.name}`, p.value ?? "");
  for (const [name, ref] of inputs.artifacts) scope.artifacts.set(`inputs.artifacts.${name}`, ref);
  return scope;
}

/** Variables visible at a scope: globals, then the scope's own, then `extra` (item variables). */
export function varsOf(scope: Scope, extra?: Vars): Vars {
  const base = scope.vars;
  if (!extra) return base;
  // Item variables on top of the shared scope, without copying it (lookups follow the prototype).
  const v = Object.create(base) as Vars;
  for (const k in extra) v[k] = extra[k] as string;
  return v;
}

/** The artifact a `{{name}}` reference names, in the scope or among the global ones. */
function artifactNamed(globals: Globals, reference: string, scope: Scope): ArtifactRef | undefined {
  const key = /^\{\{\s*(.+?)\s*\}\}$/.exec(reference.trim())?.[1];
  return key ? (scope.artifacts.get(key) ?? globals.artifacts.get(key)) : undefined;
}

/**
 * Argo's `fromExpression`: an expression over the scope whose value is an artifact. Artifacts
 * enter the expression as tokens that name them; the value names the artifact chosen.
 */
function artifactFromExpression(globals: Globals, expression: string, scope: Scope, where: string): ArtifactRef | undefined {
  const token = (key: string): string => `\u0000artifact:${key}`;
  const extra: Vars = {};
  for (const key of [...globals.artifacts.keys(), ...scope.artifacts.keys()]) extra[key] = token(key);
  let v: unknown;
  try {
    v = evaluateExpression(expression, expandScope(varsOf(scope, extra)));
  } catch (err) {
    throw new EngineError(`${where}: ${messageOf(err)}`);
  }
  if (typeof v !== "string" || !v.startsWith(token(""))) return undefined;
  const key = v.slice(token("").length);
  return scope.artifacts.get(key) ?? globals.artifacts.get(key);
}

/** Resolves step/task arguments: parameter values (tags applied) and artifact `from`s. */
export function resolveArgs(globals: Globals, args: Arguments | undefined, scope: Scope, where: string): ResolvedArgs {
  const parameters = new Map<string, string>();
  const artifacts = new Map<string, ArtifactRef>();
  for (const p of args?.parameters ?? []) {
    if (p.value !== undefined) parameters.set(p.name, p.value);
    else if (p.valueFrom?.default !== undefined) parameters.set(p.name, p.valueFrom.default);
    else if (p.valueFrom?.expression) parameters.set(p.name, evalExpressionString(p.valueFrom.expression, scope, `${where}: arguments.parameters.${p.name}.valueFrom.expression`));
  }
  for (const a of args?.artifacts ?? []) {
    let ref: ArtifactRef | undefined;
    if (a.from) {
      ref = artifactNamed(globals, a.from, scope);
      if (!ref && !a.optional) throw new EngineError(`${where}: arguments.artifacts.${a.name}: from ${JSON.stringify(a.from)} does not name an artifact in scope`);
    } else if (a.fromExpression) {
      ref = artifactFromExpression(globals, a.fromExpression, scope, `${where}: arguments.artifacts.${a.name}.fromExpression`);
      if (!ref && !a.optional) throw new EngineError(`${where}: arguments.artifacts.${a.name}: fromExpression ${JSON.stringify(a.fromExpression)} names no artifact in scope`);
    } else if (a.raw || a.s3?.key) {
      ref = { artifact: a };
    } else if (!a.optional) {
      throw new EngineError(`${where}: arguments.artifacts.${a.name} has no from, raw or s3 key`);
    }
    if (ref) artifacts.set(a.name, a.subPath ? { artifact: { ...ref.artifact, subPath: a.subPath }, ...(ref.localPath ? { localPath: path.join(ref.localPath, a.subPath) } : {}) } : ref);
  }
  return { parameters, artifacts };
}

/** An expression's value as a parameter string (non-strings as JSON). */
function evalExpressionString(expression: string, scope: Scope, where: string): string {
  let v: unknown;
  try {
    v = evaluateExpression(expression, expandScope(varsOf(scope)));
  } catch (err) {
    throw new EngineError(`${where}: ${messageOf(err)}`);
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Outputs of a Steps/DAG template from its scope (valueFrom.parameter / expression / default, artifact from). */
export function templateOutputs(globals: Globals, tmpl: Template, scope: Scope, where: string): { outputs?: Outputs; artifacts: Map<string, ArtifactRef> } {
  const artifacts = new Map<string, ArtifactRef>();
  const decl = tmpl.outputs;
  if (!decl || (!decl.parameters?.length && !decl.artifacts?.length)) return { artifacts };
  const outputs: Outputs = {};
  const vars = varsOf(scope);
  for (const p of decl.parameters ?? []) {
    let value: string | undefined;
    try {
      if (p.valueFrom?.parameter) value = substituteTags(p.valueFrom.parameter, vars, { onMissing: "error" });
      else if (p.valueFrom?.expression) value = evalExpressionString(p.valueFrom.expression, scope, `${where}: outputs.parameters.${p.name}`);
      else if (p.value !== undefined) value = substituteTags(p.value, vars, { onMissing: "error" });
    } catch (err) {
      if (p.valueFrom?.default === undefined) throw new EngineError(`${where}: outputs.parameters.${p.name}: ${messageOf(err)}`);
    }
    value ??= p.valueFrom?.default;
    if (value === undefined) throw new EngineError(`${where}: outputs.parameters.${p.name}: no value (valueFrom.parameter, expression or default)`);
    (outputs.parameters ??= []).push({ name: p.name, value, ...(p.globalName ? { globalName: p.globalName } : {}) });
  }
  for (const a of decl.artifacts ?? []) {
    const ref = a.fromExpression
      ? artifactFromExpression(globals, a.fromExpression, scope, `${where}: outputs.artifacts.${a.name}.fromExpression`)
      : a.from
        ? artifactNamed(globals, a.from, scope)
        : undefined;
    if (!ref) {
      if (a.optional) continue;
      throw new EngineError(`${where}: outputs.artifacts.${a.name}: ${a.fromExpression ? `fromExpression ${JSON.stringify(a.fromExpression)}` : `from ${JSON.stringify(a.from ?? "")}`} does not name an artifact in scope`);
    }
    const art: Artifact = { ...ref.artifact, name: a.name, ...(a.globalName ? { globalName: a.globalName } : {}) };
    artifacts.set(a.name, { ...ref, artifact: art });
    (outputs.artifacts ??= []).push(art);
  }
  return { outputs, artifacts };
}

/** A skipped or omitted producer's outputs resolve to their `valueFrom.default` (Argo 4.0.7). */
export function exposeSkippedDefaults(templates: Templates, prefix: string, step: WorkflowStep, scope: Scope): void {
  const tmpl = templates.find(step, `step "${step.name}"`);
  if (!tmpl) return;
  for (const p of tmpl.outputs?.parameters ?? []) {
    if (p.valueFrom?.default !== undefined) scope.set(`${prefix}.outputs.parameters.${p.name}`, p.valueFrom.default);
    else scope.absent.add(`${prefix}.outputs.parameters.${p.name}`);
  }
}

/** Ends a Steps/DAG node Succeeded with its template's outputs, or Error when they cannot be read. */
export async function succeedWithOutputs(e: { readonly book: NodeBook; readonly globals: Globals }, node: NodeStatus, tmpl: Template, scope: Scope, where: string): Promise<NodeStatus> {
  try {
    const { outputs, artifacts } = templateOutputs(e.globals, tmpl, scope, where);
    if (outputs) node.outputs = outputs;
    if (artifacts.size > 0) e.book.artifacts.set(node.id, artifacts);
    e.globals.addOutputs(node, artifacts);
  } catch (err) {
    return e.book.finish(node, "Error", messageOf(err));
  }
  return e.book.finish(node, "Succeeded");
}
