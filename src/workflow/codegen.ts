/**
 * Code generation (`opflow codegen`): a TypeScript module, written with opflow's DSL, whose
 * default export is a `Workflow` that compiles to the given manifest. It prints what
 * `Workflow.fromManifest` builds (the same plan, `manifest-plan.ts`): `Steps` and `DAG` objects
 * with their steps and tasks, `ManifestTemplate`s for templates kept verbatim.
 */
import { type ManifestPlan, type PlanArtifactSource, type PlanGlobal, type PlanGraph, type PlanHook, type PlanParam, type PlanStep, calledBy, planManifest } from "./manifest-plan.ts";

/** Options of {@link generateWorkflowCode}. */
export interface CodegenOptions {
  /** Where the module imports opflow from. @default "@opflow/core" */
  readonly importFrom?: string;
  /** Where the manifest came from, named in the module's header comment. @default none */
  readonly source?: string;
}

const RESERVED = new Set(["z", "argo", "default", "new", "class", "function", "delete", "var", "let", "const", "import", "export", "in", "of", "do", "if", "for", "while", "switch", "case", "return", "this", "void", "typeof", "enum", "with", "yield", "await", "try", "catch", "finally", "throw", "super", "extends", "null", "true", "false", "workflow"]);

/** A JavaScript identifier for a template name (camelCase), unique among `taken`. */
function identifier(name: string, taken: Set<string>): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  let id = parts.map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p.charAt(0).toUpperCase() + p.slice(1))).join("") || "template";
  if (/^[0-9]/.test(id)) id = `t${id}`;
  if (RESERVED.has(id)) id = `${id}Template`;
  let unique = id;
  for (let i = 2; taken.has(unique); i++) unique = `${id}${i}`;
  taken.add(unique);
  return unique;
}

const str = (s: string): string => JSON.stringify(s);
/** A property key: bare when it is an identifier, quoted otherwise. */
const key = (k: string): string => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k));
/**
 * A JSON value as TypeScript source: identifier keys bare, short lists and objects on one line,
 * the rest one entry a line, indented from `indent`.
 */
function json(v: unknown, indent: string): string {
  const flat = literal(v);
  if (flat.length + indent.length <= 100 || v === null || typeof v !== "object") return flat;
  const inner = `${indent}  `;
  if (Array.isArray(v)) return `[\n${v.map((x) => `${inner}${json(x, inner)},`).join("\n")}\n${indent}]`;
  return `{\n${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${inner}${key(k)}: ${json(x, inner)},`)
    .join("\n")}\n${indent}}`;
}

/** A JSON value as TypeScript source on one line. */
function literal(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(literal).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length ? `{ ${entries.map(([k, x]) => `${key(k)}: ${literal(x)}`).join(", ")} }` : "{}";
  }
  return JSON.stringify(v);
}

function record(entries: readonly [string, string][]): string {
  return entries.length ? `{ ${entries.map(([k, v]) => `${key(k)}: ${v}`).join(", ")} }` : "{}";
}

function paramSpec(p: PlanParam & { readonly globalName?: string }): string {
  const en = p.enum && p.enum.length > 0 && (p.default === undefined || p.enum.includes(p.default)) ? p.enum : undefined;
  const schema = en ? `z.enum(${literal(en)})` : "z.string()";
  const opts: [string, string][] = [];
  if (p.default !== undefined) opts.push(["default", str(p.default)]);
  if (p.description !== undefined) opts.push(["description", str(p.description)]);
  if (p.globalName !== undefined) opts.push(["globalName", str(p.globalName)]);
  return opts.length ? `param(${schema}, ${record(opts)})` : `param(${schema})`;
}

function artifactExpr(s: PlanArtifactSource, use: Set<string>): string {
  if ("from" in s || "fromExpression" in s) {
    const inner = "from" in s ? (use.add("rawArgo"), `rawArgo<ArtifactHandle<"path">>(${str(s.from)})`) : (use.add("rawExpression"), `rawExpression<ArtifactHandle<"path">>(${str(s.fromExpression)})`);
    use.add("type ArtifactHandle");
    if (s.subPath === undefined) return inner;
    use.add("SubPathArtifact");
    // A sub-path of an artifact named by Argo text has no typed form: the cast says so.
    return `new SubPathArtifact(${inner}, ${str(s.subPath)}) as never`;
  }
  if ("raw" in s) return use.add("rawArtifact"), `rawArtifact(${str(s.raw)})`;
  if ("s3" in s) return use.add("s3Artifact"), `s3Artifact(${str(s.s3)})`;
  return use.add("httpArtifact"), `httpArtifact(${str(s.http)})`;
}

/** Lifecycle hooks (of a step, a task or the workflow) as `{ name: lifecycleHook(…) }`. */
function hooksCode(hooks: Readonly<Record<string, PlanHook>>, ids: ReadonlyMap<string, string>, use: Set<string>): string {
  use.add("lifecycleHook");
  const entries = Object.entries(hooks).map(([name, h]) => {
    const o: [string, string][] = [];
    if (h.expression !== undefined) o.push(["when", str(h.expression)]);
    o.push(["parameters", record(Object.entries(h.parameters).map(([k, v]) => [k, str(v)]))]);
    return [name, `lifecycleHook(${ids.get(h.template) as string}, ${record(o)})`] as [string, string];
  });
  return record(entries);
}

/** A global parameter's declaration (string-typed: Argo's values are strings). */
function globalCode(g: PlanGlobal, id: string, use: Set<string>): string {
  use.add("globalParam");
  use.add("z");
  const schema = g.enum ? `z.enum(${literal(g.enum)})` : "z.string()";
  const opts: [string, string][] = [];
  if (g.value !== undefined) opts.push(["default", str(g.value)]);
  if (g.description !== undefined) opts.push(["description", str(g.description)]);
  if (g.configMap) opts.push(["fromConfigMap", literal(g.configMap)]);
  return `const ${id} = globalParam(${str(g.name)}, ${schema}${opts.length ? `, ${record(opts)}` : ""});`;
}

function stepCode(s: PlanStep, task: boolean, ids: ReadonlyMap<string, string>, use: Set<string>, indent: string): string {
  const id = (n: string): string => ids.get(n) as string;
  const opts: [string, string][] = [];
  const params = Object.entries(s.parameters).map(([k, v]) => [k, str(v)] as [string, string]);
  if (params.length) opts.push(["parameters", record(params)]);
  const arts = Object.entries(s.artifacts).map(([k, v]) => [k, artifactExpr(v, use)] as [string, string]);
  if (arts.length) opts.push(["artifacts", record(arts)]);
  if (s.key !== undefined) opts.push(["key", (use.add("rawArgo"), `rawArgo(${str(s.key)})`)]);
  if (s.when !== undefined) opts.push(["when", str(s.when)]);
  if (s.withParam !== undefined) opts.push(["withParam", (use.add("rawArgo"), `rawArgo<unknown[]>(${str(s.withParam)})`)]);
  if (s.withItems !== undefined) opts.push(["withItems", literal(s.withItems)]);
  if (s.withSequence) {
    use.add("argoSequence");
    use.add("rawArgo");
    const q = s.withSequence;
    const parts: [string, string][] = [];
    for (const k of ["count", "start", "end"] as const) if (q[k] !== undefined) parts.push([k, `rawArgo<number>(${str(q[k] as string)})`]);
    if (q.format !== undefined) parts.push(["format", str(q.format)]);
    opts.push(["withSequence", `argoSequence(${record(parts)})`]);
  }
  if (s.continueOn) opts.push(["continueOn", literal(s.continueOn)]);
  if (s.onExit !== undefined) opts.push(["onExit", id(s.onExit)]);
  if (s.hooks) opts.push(["hooks", hooksCode(s.hooks, ids, use)]);
  if (s.depends !== undefined) opts.push(["depends", str(s.depends)]);
  if (s.dependencies !== undefined) opts.push(["dependencies", literal(s.dependencies)]);
  const kind = task ? "Task" : "Step";
  use.add(kind);
  const body = opts.length ? `, {\n${opts.map(([k, v]) => `${indent}  ${key(k)}: ${v},`).join("\n")}\n${indent}}` : "";
  return `new ${kind}(${str(s.name)}, ${id(s.template)}${body})`;
}

function graphDeclaration(p: PlanGraph, id: string, use: Set<string>): string {
  const kind = p.kind === "dag" ? "DAG" : "Steps";
  use.add(kind);
  const opts: [string, string][] = [["name", str(p.name)]];
  const inputs: [string, string][] = [...p.inputs.parameters.map((x) => [x.name, paramSpec(x)] as [string, string]), ...p.inputs.artifacts.map((a) => [a.name, a.optional ? "artifact({ optional: true })" : "artifact()"] as [string, string])];
  const outputs: [string, string][] = [
    ...p.outputs.parameters.map((x) => [x.name, paramSpec(x)] as [string, string]),
    ...p.outputs.artifacts.map((a) => {
      const o: [string, string][] = [];
      if (a.optional) o.push(["optional", "true"]);
      if (a.globalName !== undefined) o.push(["globalName", str(a.globalName)]);
      return [a.name, o.length ? `artifact(${record(o)})` : "artifact()"] as [string, string];
    }),
  ];
  if (inputs.length || outputs.length) use.add("param");
  if ([...inputs, ...outputs].some(([, v]) => v.startsWith("artifact"))) use.add("artifact");
  if (inputs.length) opts.push(["inputs", record(inputs)]);
  if (outputs.length) opts.push(["outputs", record(outputs)]);
  if (p.parallelism !== undefined) opts.push(["parallelism", String(p.parallelism)]);
  if (p.failFast !== undefined) opts.push(["failFast", String(p.failFast)]);
  if (p.annotations) opts.push(["annotations", literal(p.annotations)]);
  if (p.labels) opts.push(["labels", literal(p.labels)]);
  return `const ${id} = new ${kind}({\n${opts.map(([k, v]) => `  ${k}: ${v},`).join("\n")}\n});`;
}

/**
 * A TypeScript module that builds, with opflow's DSL, a workflow compiling to `manifest`: its
 * default export is the `Workflow`.
 * @throws ManifestImportError as `Workflow.fromManifest` does.
 * @example
 * fs.writeFileSync("wf.ts", generateWorkflowCode(YAML.parse(fs.readFileSync("wf.yaml", "utf8"))));
 */
export function generateWorkflowCode(manifest: unknown, options: CodegenOptions = {}): string {
  return planToCode(planManifest(manifest), options);
}

function planToCode(plan: ManifestPlan, options: CodegenOptions): string {
  const use = new Set<string>(["Workflow"]);
  const taken = new Set<string>();
  const ids = new Map(plan.templates.map((t) => [t.name, identifier(t.name, taken)]));
  const id = (n: string): string => ids.get(n) as string;
  const blocks: string[] = [];
  const globalIds = plan.globals.map((g) => identifier(`${g.name}-param`, taken));
  if (plan.globals.length) blocks.push(plan.globals.map((g, i) => globalCode(g, globalIds[i] as string, use)).join("\n"));
  for (const t of plan.templates) {
    if (t.kind === "verbatim") {
      use.add("ManifestTemplate");
      const calls = [...new Set(calledBy(t))];
      const why = t.reason ? `// Kept verbatim: Steps and DAG do not express its ${t.reason}.\n` : "";
      const callsOpt = calls.length ? `, { calls: () => [${calls.map(id).join(", ")}] }` : "";
      blocks.push(`${why}const ${id(t.name)} = new ManifestTemplate(${json(t.argo, "")}${callsOpt});`);
    } else blocks.push(graphDeclaration(t, id(t.name), use));
  }
  for (const t of plan.templates) {
    if (t.kind === "verbatim") continue;
    const lines: string[] = [];
    if (t.kind === "dag") {
      lines.push(`${id(t.name)}.add([\n${(t.groups[0] ?? []).map((s) => `  ${stepCode(s, true, ids, use, "  ")},`).join("\n")}\n]);`);
    } else {
      for (const g of t.groups) {
        if (g.length === 1) lines.push(`${id(t.name)}.add(${stepCode(g[0] as PlanStep, false, ids, use, "")});`);
        else lines.push(`${id(t.name)}.add([\n${g.map((s) => `  ${stepCode(s, false, ids, use, "  ")},`).join("\n")}\n]);`);
      }
    }
    const outP = t.outputs.parameters.map((o) => [o.name, o.parameter !== undefined ? (use.add("rawArgo"), `rawArgo(${str(o.parameter)})`) : (use.add("rawExpression"), `rawExpression(${str(o.expression as string)})`)] as [string, string]);
    const outA = t.outputs.artifacts.map((o) => [o.name, artifactExpr(o.source, use)] as [string, string]);
    if (outP.length || outA.length) {
      const parts: [string, string][] = [];
      if (outP.length) parts.push(["parameters", record(outP)]);
      if (outA.length) parts.push(["artifacts", record(outA)]);
      lines.push(`${id(t.name)}.setOutputs(${record(parts)});`);
    }
    blocks.push(lines.join("\n"));
  }
  const w = plan.workflow;
  const wopts: [string, string][] = [];
  for (const k of ["name", "generateName", "serviceAccountName", "podGC"] as const) if (w[k] !== undefined) wopts.push([k, str(w[k] as string)]);
  wopts.push(["entrypoint", id(plan.entrypoint)]);
  if (plan.onExit !== undefined) wopts.push(["onExit", id(plan.onExit)]);
  if (plan.hooks) wopts.push(["hooks", hooksCode(plan.hooks, ids, use)]);
  if (plan.globals.length) wopts.push(["globals", `[${globalIds.join(", ")}]`]);
  const params = Object.entries(plan.parameters).map(([k, v]) => [k, str(v)] as [string, string]);
  if (params.length) wopts.push(["parameters", record(params)]);
  const arts = Object.entries(plan.artifacts).map(([k, v]) => [k, artifactExpr(v, use)] as [string, string]);
  if (arts.length) wopts.push(["artifacts", record(arts)]);
  for (const k of ["parallelism", "timeout"] as const) if (w[k] !== undefined) wopts.push([k, String(w[k])]);
  for (const k of ["labels", "annotations", "ttl", "artifactRepositoryRef", "volumes", "imagePullSecrets", "templateDefaults", "retry", "workflowMetadata"] as const) {
    if (w[k] !== undefined) wopts.push([k, json(w[k], "  ")]);
  }
  for (const [k, v] of Object.entries(w.fields ?? {})) wopts.push([k, json(v, "  ")]);
  const needsZod = use.delete("z") || [...use].includes("param");
  const names = [...use].sort((a, b) => a.replace(/^type /, "").localeCompare(b.replace(/^type /, "")));
  const header = [
    `// Generated by opflow codegen${options.source ? ` from ${options.source}` : ""}: a workflow written with opflow's DSL that`,
    "// compiles to the manifest it was generated from. Templates kept verbatim are ManifestTemplates.",
    ...(plan.unreachable.length ? [`// Left out (nothing runs them): ${plan.unreachable.join(", ")}.`] : []),
    ...(needsZod ? ['import { z } from "zod";'] : []),
    `import { ${names.join(", ")} } from ${str(options.importFrom ?? "@opflow/core")};`,
  ].join("\n");
  const footer = `export default new Workflow({\n${wopts.map(([k, v]) => `  ${k}: ${v},`).join("\n")}\n});`;
  return `${[header, ...blocks, footer].join("\n\n")}\n`;
}
