/**
 * What Argo refuses before it runs anything, checked the same way for the local engine: the
 * CRD's structure (strict on unknown fields, see {@link crdProblems}), then the semantic rules
 * of Argo's controller (`workflow/validate/validate.go`): template and reference names, one
 * template kind each, unique step/task/parameter names, DAG cycles and dangling dependencies,
 * DAG targets, `{{…}}` references to inputs, steps, tasks and workflow parameters that cannot
 * resolve, output `valueFrom` kinds, fields valid only on leaf or only on Steps/DAG templates.
 */
import { dependsTasks } from "../expr/depends.ts";
import { type Issue, ValidationError } from "../errors.ts";
import { crdProblems } from "./crd-schema.ts";
import type { Arguments, DAGTask, Parameter, Template, Workflow, WorkflowStep } from "./model.ts";

/** The rule a problem breaks, from its wording (stable codes for {@link Issue.rule}). */
const RULES: readonly (readonly [RegExp, string])[] = [
  [/unknown field/, "unknown-field"],
  [/dependency cycle/, "cycle"],
  [/failed to resolve/, "unresolved-reference"],
  [/is not defined|depends on task|without depending/, "undefined-reference"],
  [/is not unique/, "duplicate-name"],
  [/is invalid|must match/, "name"],
  [/expects|must be one of|must be at/, "schema"],
  [/was not supplied|is required|required field/, "required"],
];

/** A problem line (`field.path: what is wrong`) as an {@link Issue}. */
function issueOf(problem: string): Issue {
  const colon = problem.indexOf(": ");
  const where = colon > 0 ? problem.slice(0, colon).replace(/ \(template "[^"]*"\)/, "") : "";
  const path = where.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return { path, rule: RULES.find(([re]) => re.test(problem))?.[1] ?? "invalid", message: problem };
}

/** A manifest Argo would refuse; {@link problems} lists every problem found, each naming its field. */
export class ManifestError extends ValidationError {
  override readonly name: string = "ManifestError";
  constructor(
    readonly workflow: string,
    readonly problems: readonly string[],
  ) {
    super(
      `workflow ${JSON.stringify(workflow)}: Argo would refuse this manifest (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      { issues: problems.map(issueOf) },
    );
  }
}

/** Options of {@link validateManifest}. */
export interface ValidateOptions {
  /**
   * Names of workflow arguments whose values are supplied at submission (`-p name=value`), so a
   * parameter without `value` in the manifest is not a problem.
   * @default none
   */
  readonly suppliedParameters?: Iterable<string>;
}

const FIELD_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9]*$/;
const IO_NAME = /^[-a-zA-Z0-9_]+$/;
const MAX_FIELD_NAME = 128;
const MAX_OBJECT_NAME = 63;
const KINDS = ["container", "containerSet", "steps", "script", "resource", "dag", "suspend", "data", "http", "plugin"] as const;
const LEAF_IO_KINDS = new Set(["container", "script", "containerSet"]);
/** A simple `{{…}}` tag (not an `{{=…}}` expression). */
const TAG = /\{\{\s*([^=\s}][^}]*?)\s*\}\}/g;
/** What validate.go's `isParameter` calls a parameter: a tag standing for a value known later. */
const PARAMETER_TAG = /\{\{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*\}\}/;

function kindOf(t: Template): string | undefined {
  return KINDS.find((k) => t[k] !== undefined);
}

function isLeaf(t: Template): boolean {
  return t.steps === undefined && t.dag === undefined;
}

/** Every string inside `value` (object values and array items, not keys). */
function strings(value: unknown, out: string[] = [], skipKeys: ReadonlySet<string> = new Set()): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out, skipKeys);
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) if (!skipKeys.has(k)) strings(v, out, skipKeys);
  }
  return out;
}

function tags(value: unknown, skipKeys?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const s of strings(value, [], skipKeys)) for (const m of s.matchAll(TAG)) out.push(m[1] as string);
  return out;
}

/** Checks names of a list of named things: present, valid, unique. */
function checkNames(where: string, items: readonly { name?: unknown }[] | undefined, pattern: RegExp, rule: string, out: string[]): void {
  const seen = new Set<string>();
  (items ?? []).forEach((item, i) => {
    const name = item.name;
    if (typeof name !== "string" || name === "") out.push(`${where}[${i}].name: is required`);
    else {
      if (!pattern.test(name) || name.length > MAX_FIELD_NAME) out.push(`${where}[${i}].name: ${JSON.stringify(name)} is invalid: ${rule}`);
      if (seen.has(name)) out.push(`${where}[${i}].name: ${JSON.stringify(name)} is not unique`);
      seen.add(name);
    }
  });
}

const FIELD_RULE = `a name consists of letters, digits or '-', starts with a letter or digit, and has at most ${MAX_FIELD_NAME} characters`;
const IO_RULE = "a parameter or artifact name consists of letters, digits, '_' or '-'";

function checkArguments(where: string, args: Arguments | undefined, supplied: ReadonlySet<string> | undefined, out: string[]): void {
  checkNames(`${where}.parameters`, args?.parameters, IO_NAME, IO_RULE, out);
  checkNames(`${where}.artifacts`, args?.artifacts, IO_NAME, IO_RULE, out);
  for (const p of args?.parameters ?? []) {
    const at = `${where}.parameters.${p.name}`;
    if (p.value === undefined && p.valueFrom === undefined && !supplied?.has(p.name)) out.push(`${at}: value or valueFrom is required`);
    if (p.valueFrom) {
      const vf = p.valueFrom as Record<string, unknown>;
      if (vf["configMapKeyRef"] === undefined && vf["event"] === undefined && vf["supplied"] === undefined) {
        out.push(`${at}.valueFrom: only default, configMapKeyRef and supplied are allowed in arguments`);
      } else if (["path", "jsonPath", "parameter", "expression"].some((k) => vf[k] !== undefined)) {
        out.push(`${at}.valueFrom: only default, configMapKeyRef and supplied are allowed in arguments`);
      }
    }
    if (p.enum !== undefined) {
      if (p.enum.length === 0) out.push(`${at}.enum: should contain at least one value`);
      else if (p.value !== undefined && !p.enum.map(String).includes(String(p.value))) {
        out.push(`${at}.value: ${JSON.stringify(p.value)} is not one of the enum values ${JSON.stringify(p.enum)}`);
      }
    }
  }
  for (const a of args?.artifacts ?? []) {
    const at = `${where}.artifacts.${a.name}`;
    const rec = a as unknown as Record<string, unknown>;
    const hasLocation = ["s3", "git", "http", "artifactory", "hdfs", "raw", "oss", "gcs", "azure", "plugin"].some((k) => rec[k] !== undefined);
    if (a.from === undefined && rec["fromExpression"] === undefined && !hasLocation && rec["key"] === undefined) out.push(`${at}: from, an artifact location, or key is required`);
    if (a.from !== undefined && rec["fromExpression"] !== undefined) out.push(`${at}: has both from and fromExpression`);
  }
}

function checkOutputParameter(at: string, p: Parameter, kind: string | undefined, out: string[]): void {
  if (p.value !== undefined && p.valueFrom !== undefined) {
    out.push(`${at}: has both value and valueFrom; choose one`);
    return;
  }
  if (p.value !== undefined) return;
  if (p.valueFrom === undefined) {
    out.push(`${at}: has neither value nor valueFrom`);
    return;
  }
  const vf = p.valueFrom as Record<string, unknown>;
  const kinds = ["path", "jqFilter", "jsonPath", "parameter", "expression", "supplied"].filter((k) => vf[k] !== undefined && vf[k] !== "");
  if (kinds.length === 0) out.push(`${at}.valueFrom: unspecified; choose one of path, jqFilter, jsonPath, parameter, expression, supplied`);
  else if (kinds.length > 1) out.push(`${at}.valueFrom: several kinds (${kinds.join(", ")}); choose one`);
  if (kind && LEAF_IO_KINDS.has(kind) && vf["path"] === undefined) out.push(`${at}.valueFrom.path: must be set for ${kind} templates`);
  if ((kind === "steps" || kind === "dag") && vf["parameter"] === undefined && vf["expression"] === undefined) {
    out.push(`${at}.valueFrom: parameter or expression must be set for ${kind} templates`);
  }
}

interface Context {
  readonly templates: ReadonlyMap<string, Template>;
  readonly workflowParameters: ReadonlySet<string>;
  readonly hasWorkflowTemplateRef: boolean;
  readonly defaults: Template | undefined;
}

/**
 * Every input of `callee` gets a value: its own value or default, or an argument (Argo's
 * ProcessArgs, run by validate.go with the step's arguments: "inputs.parameters.x was not supplied").
 */
function checkSupplied(at: string, callee: Template, args: Arguments | undefined, supplied: ReadonlySet<string>, out: string[]): void {
  for (const p of callee.inputs?.parameters ?? []) {
    const arg = args?.parameters?.find((a) => a.name === p.name);
    const has = p.value !== undefined || p.default !== undefined || (arg !== undefined && (arg.value !== undefined || arg.valueFrom !== undefined)) || supplied.has(p.name);
    if (!has && !(p.valueFrom as Record<string, unknown> | undefined)?.["configMapKeyRef"]) {
      out.push(`${at}: inputs.parameters.${p.name} of template ${JSON.stringify(callee.name)} was not supplied`);
    }
  }
  for (const a of callee.inputs?.artifacts ?? []) {
    const rec = a as unknown as Record<string, unknown>;
    const located = ["s3", "git", "http", "artifactory", "hdfs", "raw", "oss", "gcs", "azure", "plugin", "key"].some((k) => rec[k] !== undefined);
    if (a.optional || located) continue;
    if (!args?.artifacts?.some((x) => x.name === a.name)) out.push(`${at}: inputs.artifacts.${a.name} of template ${JSON.stringify(callee.name)} was not supplied`);
  }
}

/** The template a step or task calls: by name (must exist), by reference, or inline. */
function checkCall(at: string, s: WorkflowStep, ctx: Context, out: string[]): Template | undefined {
  const calls = [s.template !== undefined, s.templateRef !== undefined, s.inline !== undefined].filter(Boolean).length;
  if (calls === 0) out.push(`${at}: names no template (template, templateRef or inline)`);
  else if (calls > 1) out.push(`${at}: template, templateRef and inline exclude each other`);
  if (s.template !== undefined) {
    const t = ctx.templates.get(s.template);
    if (!t && !PARAMETER_TAG.test(s.template)) out.push(`${at}.template: template ${JSON.stringify(s.template)} is not defined`);
    if (t) checkSupplied(at, t, s.arguments, new Set(), out);
    return t;
  }
  if (s.templateRef) {
    if (!s.templateRef.name) out.push(`${at}.templateRef.name: is required`);
    if (!s.templateRef.template) out.push(`${at}.templateRef.template: is required`);
  }
  if (s.inline) checkTemplate(`${at}.inline`, s.inline, ctx, out);
  return s.inline;
}

function checkLoop(at: string, s: WorkflowStep, out: string[]): void {
  const loops = [s.withItems !== undefined && s.withItems.length > 0, s.withParam !== undefined && s.withParam !== "", s.withSequence !== undefined].filter(Boolean).length;
  if (loops > 1) out.push(`${at}: only one of withItems, withParam, withSequence can be set`);
  if (s.withSequence && s.withSequence.count !== undefined && s.withSequence.end !== undefined) out.push(`${at}.withSequence: only one of count or end can be set`);
}

/** `{{inputs.…}}`, `{{workflow.parameters.…}}` tags of `value` that the template's scope cannot resolve. */
function checkScopeTags(at: string, value: unknown, t: Template, ctx: Context, out: string[], skipKeys?: ReadonlySet<string>): void {
  const params = new Set((t.inputs?.parameters ?? []).map((p) => p.name));
  const arts = new Set((t.inputs?.artifacts ?? []).map((a) => a.name));
  const reported = new Set<string>();
  for (const tag of tags(value, skipKeys)) {
    const parts = tag.split(".");
    let bad = false;
    if (parts[0] === "inputs") {
      // `{{inputs.parameters}}` (all, as JSON) always resolves: Argo substitutes it before validating.
      if (parts[1] === "parameters") bad = parts.length > 2 && !params.has(parts[2] as string);
      else if (parts[1] === "artifacts") bad = parts.length === 2 || !arts.has(parts[2] as string);
      else bad = true;
    } else if (parts[0] === "workflow" && parts[1] === "parameters" && parts.length >= 3 && !ctx.hasWorkflowTemplateRef) {
      bad = !(parts.length === 3 && parts[2] === "json") && !ctx.workflowParameters.has(parts.slice(2).join("."));
    }
    if (bad && !reported.has(tag)) {
      reported.add(tag);
      out.push(`${at}: failed to resolve {{${tag}}}`);
    }
  }
}

function checkSteps(at: string, t: Template, ctx: Context, out: string[]): void {
  const names = new Set<string>();
  const all = (t.steps ?? []).flat();
  const stepNames = new Set(all.map((s) => s.name));
  (t.steps ?? []).forEach((group, i) => {
    for (const s of group ?? []) {
      const sat = `${at}.steps[${i}].${s.name ?? "?"}`;
      if (!s.name) out.push(`${at}.steps[${i}].name: is required`);
      else {
        if (names.has(s.name)) out.push(`${at}.steps[${i}].name: ${JSON.stringify(s.name)} is not unique`);
        if (!FIELD_NAME.test(s.name) || s.name.length > MAX_FIELD_NAME) out.push(`${at}.steps[${i}].name: ${JSON.stringify(s.name)} is invalid: ${FIELD_RULE}`);
        names.add(s.name);
      }
      checkLoop(sat, s, out);
      checkArguments(`${sat}.arguments`, s.arguments, undefined, out);
      checkCall(sat, s, ctx, out);
      for (const tag of tags(s, new Set(["inline"]))) {
        const parts = tag.split(".");
        if (parts[0] === "steps" && parts.length >= 2 && parts[1] !== "name" && !stepNames.has(parts[1] as string)) {
          out.push(`${sat}: failed to resolve {{${tag}}} (no step ${JSON.stringify(parts[1])} in template ${JSON.stringify(t.name)})`);
        } else if (parts[0] === "steps" && parts.length >= 3 && !isNodeReference(parts.slice(2))) {
          out.push(`${sat}: failed to resolve {{${tag}}} (${NODE_REFERENCE_RULE})`);
        }
      }
    }
  });
}

/** The tasks a task waits for (`dependencies`, or those named in `depends`). */
function taskDependencies(at: string, task: DAGTask, out: string[]): string[] {
  if (task.dependencies) return task.dependencies;
  if (task.depends) {
    try {
      return dependsTasks(task.depends);
    } catch (e) {
      out.push(`${at}.depends: ${(e as Error).message}`);
    }
  }
  return [];
}

function checkDag(at: string, t: Template, ctx: Context, out: string[]): void {
  const tasks = t.dag?.tasks ?? [];
  if (tasks.length === 0) out.push(`${at}.dag.tasks: must have at least one task`);
  checkNames(`${at}.dag.tasks`, tasks, FIELD_NAME, FIELD_RULE, out);
  const byName = new Map(tasks.map((x) => [x.name, x]));
  const usingDepends = tasks.some((x) => x.depends !== undefined && x.depends !== "");
  const deps = new Map<string, string[]>();
  for (const task of tasks) {
    const tat = `${at}.dag.tasks.${task.name}`;
    const d = taskDependencies(tat, task, out);
    deps.set(task.name, d);
    if ((usingDepends || (task.dependencies?.length ?? 0) > 0) && /^[0-9]/.test(task.name ?? "")) {
      out.push(`${tat}: a task name cannot begin with a digit when the DAG uses depends or dependencies`);
    }
    if (usingDepends && (task.dependencies?.length ?? 0) > 0) out.push(`${tat}: depends and dependencies cannot both be used in one DAG template`);
    if (usingDepends && task.continueOn !== undefined) out.push(`${tat}.continueOn: cannot be used with depends (use "dep.Failed" / "dep.Errored" in depends instead)`);
    for (const dep of d) if (!byName.has(dep)) out.push(`${tat}: depends on task ${JSON.stringify(dep)}, which is not defined in this DAG`);
    checkLoop(tat, task, out);
    checkArguments(`${tat}.arguments`, task.arguments, undefined, out);
    checkCall(tat, task, ctx, out);
  }
  // Cycles: depth-first; the first one found is reported with its path.
  const state = new Map<string, 1 | 2>();
  let cycle: string[] | undefined;
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 1);
    stack.push(name);
    for (const dep of deps.get(name) ?? []) {
      if (!byName.has(dep)) continue;
      if (state.get(dep) === 1) cycle ??= [...stack.slice(stack.indexOf(dep)), dep];
      else if (state.get(dep) === undefined) visit(dep);
    }
    stack.pop();
    state.set(name, 2);
  };
  for (const task of tasks) if (state.get(task.name) === undefined) visit(task.name);
  if (cycle) out.push(`${at}.dag.tasks: dependency cycle ${cycle.join(" -> ")}`);
  // Ancestors, for arguments that take a task's outputs.
  const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
    for (const dep of deps.get(name) ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      ancestors(dep, seen);
    }
    return seen;
  };
  for (const task of tasks) {
    const tat = `${at}.dag.tasks.${task.name}`;
    const mine = ancestors(task.name);
    for (const p of task.arguments?.parameters ?? []) {
      const v = p.value === undefined ? "" : String(p.value);
      const m = /^\{\{tasks\.([^.}]+)\./.exec(v);
      if (m && byName.has(m[1] as string) && !mine.has(m[1] as string)) out.push(`${tat}.arguments.parameters.${p.name}: takes the outputs of task ${JSON.stringify(m[1])} without depending on it`);
    }
    for (const a of task.arguments?.artifacts ?? []) {
      const m = /^\{\{tasks\.([^.}]+)\./.exec(a.from ?? "");
      if (m && byName.has(m[1] as string) && !mine.has(m[1] as string)) out.push(`${tat}.arguments.artifacts.${a.name}: takes the outputs of task ${JSON.stringify(m[1])} without depending on it`);
    }
    for (const tag of tags(task, new Set(["inline"]))) {
      const parts = tag.split(".");
      if (parts[0] === "tasks" && parts.length >= 2 && parts[1] !== "name" && !byName.has(parts[1] as string)) {
        out.push(`${tat}: failed to resolve {{${tag}}} (no task ${JSON.stringify(parts[1])} in template ${JSON.stringify(t.name)})`);
      } else if (parts[0] === "tasks" && parts.length >= 3 && !isNodeReference(parts.slice(2))) {
        out.push(`${tat}: failed to resolve {{${tag}}} (${NODE_REFERENCE_RULE})`);
      }
    }
  }
  const target = t.dag?.target;
  if (target && !PARAMETER_TAG.test(target)) {
    for (const name of target.split(" ").filter(Boolean)) if (!byName.has(name)) out.push(`${at}.dag.target: task ${JSON.stringify(name)} is not defined`);
  }
}

function checkTemplate(at: string, t: Template, ctx: Context, out: string[]): void {
  const present = KINDS.filter((k) => t[k] !== undefined);
  if (present.length === 0) out.push(`${at}: no template kind; choose one of ${KINDS.join(", ")}`);
  else if (present.length > 1) out.push(`${at}: several template kinds (${present.join(", ")}); choose one`);
  const kind = kindOf(t);
  const leaf = isLeaf(t);
  checkNames(`${at}.inputs.parameters`, t.inputs?.parameters, IO_NAME, IO_RULE, out);
  checkNames(`${at}.inputs.artifacts`, t.inputs?.artifacts, IO_NAME, IO_RULE, out);
  checkNames(`${at}.outputs.parameters`, t.outputs?.parameters, IO_NAME, IO_RULE, out);
  checkNames(`${at}.outputs.artifacts`, t.outputs?.artifacts, IO_NAME, IO_RULE, out);
  for (const a of t.inputs?.artifacts ?? []) {
    if (!leaf && a.path !== undefined) out.push(`${at}.inputs.artifacts.${a.name}.path: only valid in container and script templates`);
    if (a.from !== undefined) out.push(`${at}.inputs.artifacts.${a.name}.from: not valid in inputs`);
  }
  for (const a of t.outputs?.artifacts ?? []) {
    if (!leaf && a.path !== undefined) out.push(`${at}.outputs.artifacts.${a.name}.path: only valid in container and script templates`);
  }
  for (const p of t.outputs?.parameters ?? []) checkOutputParameter(`${at}.outputs.parameters.${p.name}`, p, kind, out);
  if (!leaf && t.activeDeadlineSeconds !== undefined) out.push(`${at}.activeDeadlineSeconds: only valid for leaf templates (not ${kind})`);
  if (leaf && t.activeDeadlineSeconds !== undefined) {
    const v = t.activeDeadlineSeconds;
    const ok = typeof v === "number" ? v >= 0 : /^\d+$/.test(v) || PARAMETER_TAG.test(v) || /^\{\{=/.test(v);
    if (!ok) out.push(`${at}.activeDeadlineSeconds: must be a positive integer or an Argo variable, got ${JSON.stringify(v)}`);
  }
  if (leaf && t.parallelism !== undefined) out.push(`${at}.parallelism: only valid for steps and dag templates`);
  if (t.timeout !== undefined && t.timeout !== "") {
    if (!leaf) out.push(`${at}.timeout: ${kind} templates do not support timeout`);
    else if (/^-?\d+$/.test(t.timeout)) out.push(`${at}.timeout: ${JSON.stringify(t.timeout)} is not a duration (write "${t.timeout}s")`);
  }
  if (t.container && !t.container.image && !ctx.defaults?.container?.image) out.push(`${at}.container.image: may not be empty`);
  if (t.script && !t.script.image && !ctx.defaults?.script?.image) out.push(`${at}.script.image: may not be empty`);
  (t.initContainers ?? []).forEach((c, i) => {
    if (!c.name) out.push(`${at}.initContainers[${i}].name: is required`);
  });
  const skip = new Set(["steps", "dag", "inline"]);
  checkScopeTags(at, t, t, ctx, out, skip);
  if (t.steps) {
    checkSteps(at, t, ctx, out);
    for (const s of t.steps.flat()) checkScopeTags(`${at}.steps.${s.name}`, s, t, ctx, out, new Set(["inline"]));
  }
  if (t.dag) {
    checkDag(at, t, ctx, out);
    for (const task of t.dag.tasks ?? []) checkScopeTags(`${at}.dag.tasks.${task.name}`, task, t, ctx, out, new Set(["inline"]));
    checkScopeTags(`${at}.dag.target`, t.dag.target, t, ctx, out);
  }
}

/** `spec.templates[i]` → `spec.templates[i] (template "name")` for a reader. */
function nameTemplates(problem: string, manifest: unknown): string {
  return problem.replace(/^spec\.templates\[(\d+)\]/, (whole, i: string) => {
    const name = (manifest as { spec?: { templates?: { name?: unknown }[] } }).spec?.templates?.[Number(i)]?.name;
    return typeof name === "string" ? `${whole} (template ${JSON.stringify(name)})` : whole;
  });
}

/**
 * Every reason Argo would refuse `manifest` (a parsed Workflow), each naming the field path;
 * empty when it would accept it. Structure first: semantic rules are checked only on a
 * manifest whose structure is valid.
 *
 * @example
 * ```ts
 * manifestProblems(parsedYaml);
 * // ['templates.main.dag.tasks: dependency cycle a -> b -> a']
 * ```
 */
export function manifestProblems(manifest: unknown, options: ValidateOptions = {}): string[] {
  const out: string[] = [];
  const m = manifest as Partial<Workflow> | null;
  if (m === null || typeof m !== "object" || Array.isArray(m)) return [`manifest: expects an object, got ${JSON.stringify(manifest)}`];
  if (m.apiVersion !== "argoproj.io/v1alpha1") out.push(`apiVersion: expects "argoproj.io/v1alpha1", got ${JSON.stringify(m.apiVersion)}`);
  if (m.kind !== "Workflow") out.push(`kind: expects "Workflow", got ${JSON.stringify(m.kind)}`);
  out.push(...crdProblems(manifest).map((p) => nameTemplates(p, manifest)));
  if (out.length > 0) return out;
  const wf = m as Workflow;
  const name = wf.metadata?.name ?? wf.metadata?.generateName;
  if (!name) out.push("metadata: name or generateName is required");
  if (wf.metadata?.name && wf.metadata.name.length > MAX_OBJECT_NAME) {
    out.push(`metadata.name: ${JSON.stringify(wf.metadata.name)} has ${wf.metadata.name.length} characters; at most ${MAX_OBJECT_NAME} are allowed`);
  }
  const spec = wf.spec;
  const templates = spec.templates ?? [];
  const hasWorkflowTemplateRef = spec.workflowTemplateRef !== undefined;
  if (hasWorkflowTemplateRef && templates.length > 0) out.push("spec.templates: must be empty when spec.workflowTemplateRef is set");
  checkNames("spec.templates", templates, FIELD_NAME, FIELD_RULE, out);
  const supplied = new Set(options.suppliedParameters ?? []);
  checkArguments("spec.arguments", spec.arguments, supplied, out);
  const ctx: Context = {
    templates: new Map(templates.map((t) => [t.name, t])),
    workflowParameters: new Set([...(spec.arguments?.parameters ?? []).map((p) => p.name), ...supplied]),
    hasWorkflowTemplateRef,
    defaults: spec.templateDefaults as Template | undefined,
  };
  if (!hasWorkflowTemplateRef) {
    if (!spec.entrypoint) out.push("spec.entrypoint: is required");
    else if (!ctx.templates.has(spec.entrypoint)) out.push(`spec.entrypoint: template ${JSON.stringify(spec.entrypoint)} is not defined`);
    else checkSupplied("spec.entrypoint", ctx.templates.get(spec.entrypoint) as Template, spec.arguments, supplied, out);
  }
  if (spec.onExit && !hasWorkflowTemplateRef && !ctx.templates.has(spec.onExit)) out.push(`spec.onExit: template ${JSON.stringify(spec.onExit)} is not defined`);
  // The workflow's hooks (validate.go validateHooks): an expression on all but `exit`.
  for (const [h, hook] of Object.entries(spec.hooks ?? {})) {
    if (h !== "exit" && !hook.expression) out.push(`spec.hooks.${h}: Expression required (only the hook named exit runs without one)`);
    if (hook.template && !hasWorkflowTemplateRef && !ctx.templates.has(hook.template)) out.push(`spec.hooks.${h}.template: template ${JSON.stringify(hook.template)} is not defined`);
  }
  for (const t of templates) checkTemplate(`templates.${t.name}`, t, ctx, out);
  return out;
}

/**
 * Throws a {@link ManifestError} listing every reason Argo would refuse `manifest` (see
 * {@link manifestProblems}); returns it, typed, when there is none.
 *
 * @example
 * ```ts
 * const wf = validateManifest(YAML.parse(text));   // throws on `comand:` or a DAG cycle
 * ```
 */
export function validateManifest(manifest: unknown, options: ValidateOptions = {}): Workflow {
  const problems = manifestProblems(manifest, options);
  if (problems.length > 0) {
    const md = (manifest as { metadata?: { name?: unknown; generateName?: unknown } } | null)?.metadata;
    throw new ManifestError(String(md?.name ?? md?.generateName ?? "(unnamed)"), problems);
  }
  return manifest as Workflow;
}

/** What follows `steps.<name>.` or `tasks.<name>.` in Argo's scope (util/variables/keys: node references and loop aggregates). */
const NODE_REFERENCE_RULE =
  "a step or task is referenced by id, status, startedAt, finishedAt, ip, hostNodeName, exitCode, outputs.result, outputs.parameters, outputs.parameters.<name> or outputs.artifacts.<name>";

function isNodeReference(rest: readonly string[]): boolean {
  const [first, second, third] = rest;
  if (rest.length === 1) return ["id", "status", "startedAt", "finishedAt", "ip", "hostNodeName", "exitCode"].includes(first as string);
  if (first !== "outputs") return false;
  if (rest.length === 2) return second === "result" || second === "parameters";
  return (second === "parameters" || second === "artifacts") && third !== undefined && third !== "";
}
