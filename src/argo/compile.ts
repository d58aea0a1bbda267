/**
 * The compiler: templates (OP, container, script, Steps, DAG) → the `templates` of an Argo v4
 * manifest. It collects every template reachable from the roots, names them (deduplicating
 * identical ones, renaming different ones that share a name), checks that every reference is
 * in scope, and keeps the result inside Argo's structural limits.
 *
 * Departure from DESIGN.md's table: this module imports the `Template` *type* from `template/`
 * (the interface it compiles, with its `calls()` and `references()`). It imports no
 * implementation from there.
 */
import type { LocalBinding } from "../contract.ts";
import { CompileError, type Issue, IssuesError, OpflowError } from "../errors.ts";
import { isSourced } from "../expr/refs.ts";
import type { RenderContext, Variable } from "../expr/tree.ts";
import type { Template, TemplateCompiler } from "../template/template.ts";
import { layOutDag } from "./dag-split.ts";
import { ArgoLimits } from "./limits.ts";
import type { Template as ArgoTemplate, Artifact } from "./model.ts";

/** What compiling templates gives. */
export interface CompiledTemplates {
  /** Argo templates, roots first, then in discovery order. */
  readonly templates: ArgoTemplate[];
  /** Manifest name of each template object. */
  readonly nameOf: (t: Template) => string;
  /** In-process implementations by manifest template name. */
  readonly bindings: Map<string, LocalBinding>;
  /** Output signature of each template, by manifest template name (to decode step outputs). */
  readonly outputSignatures: ReadonlyMap<string, Template["outputs"]>;
  /** Artifact sources the templates pass (local files to upload before running). */
  readonly sources: ReadonlySet<object>;
  readonly warnings: string[];
}

function describeVar(v: Variable): string {
  return v.describe();
}

/** Collects templates reachable from `roots`, depth-first, each once. */
function collect(roots: readonly Template[]): Template[] {
  const seen = new Set<Template>();
  const order: Template[] = [];
  const stack = [...roots].reverse();
  while (stack.length) {
    const t = stack.pop() as Template;
    if (seen.has(t)) continue;
    seen.add(t);
    order.push(t);
    const refs = t.references();
    for (let i = refs.length - 1; i >= 0; i--) if (!seen.has(refs[i] as Template)) stack.push(refs[i] as Template);
  }
  return order;
}

/** Gathers issues, each once. */
export class IssueList {
  readonly items: Issue[] = [];
  private readonly seen = new Set<string>();

  add(issue: Issue): void {
    const key = `${issue.path.join("\u0000")}\u0001${issue.rule}\u0001${issue.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(issue);
  }

  /** Adds the issues of an opflow error under `path` (other errors are rethrown). */
  addError(path: readonly (string | number)[], error: unknown): void {
    if (error instanceof IssuesError) for (const i of error.issues) this.add({ ...i, path: [...path, ...i.path] });
    else if (error instanceof OpflowError) this.add({ path, rule: "invalid", message: error.message });
    else throw error;
  }

  /** Throws one CompileError listing every issue, if there is any. */
  throwIfAny(): void {
    if (this.items.length) throw new CompileError([...this.items]);
  }
}

/** A bundle of an OP module as the compiler sees it (opflow's `BundleArtifact` is one). */
export interface CompilableBundle {
  /** The OP template's input artifact that brings the bundle to the pod. */
  toInputArtifact(): Artifact;
  /** The file the pod runs with `node`. */
  readonly podEntry: string;
}

/** Options of {@link compileTemplates}. */
export interface CompileTemplatesOptions {
  /**
   * Makes the bundle of an OP module (called once per module and externals; the result is one
   * of the compile's artifact sources, to upload before running).
   * @default none: OP templates render their installed-mode command
   */
  readonly bundler?: (moduleUrl: string, externals: readonly string[]) => CompilableBundle;
}

/**
 * Compiles the templates reachable from `roots`. Every problem found (references out of
 * scope, bad dependencies, Argo's limits, …) is gathered; one CompileError lists them all.
 *
 * @param issues - where to gather problems instead of throwing (the caller throws). @default throw when done
 * @example
 * const { templates } = compileTemplates([main]);
 */
export function compileTemplates(
  roots: readonly Template[],
  warn: (message: string) => void = () => {},
  issues?: IssueList,
  options: CompileTemplatesOptions = {},
): CompiledTemplates {
  const problems = issues ?? new IssueList();
  const result = gatherTemplates(roots, warn, problems, options);
  if (!issues) problems.throwIfAny();
  return result;
}

function gatherTemplates(roots: readonly Template[], warn: (message: string) => void, structural: IssueList, options: CompileTemplatesOptions): CompiledTemplates {
  const all = collect(roots);
  const warnings: string[] = [];
  const note = (m: string): void => {
    warnings.push(m);
    warn(m);
  };
  const calls = all.flatMap((t) => t.calls());
  const skippable = new Set<Template>(calls.filter((c) => c.conditional).map((c) => c.template));
  const keyed = new Set<Template>(calls.filter((c) => c.keyed).map((c) => c.template));

  const names = new Map<Template, string>();
  for (const t of all) names.set(t, t.name);

  const sources = new Set<object>();
  // One bundle per module (and externals), made once even when rendering runs again.
  const bundles = new Map<string, CompilableBundle>();
  const bundler = options.bundler;
  const bundleOf = bundler
    ? (moduleUrl: string, externals: readonly string[]) => {
        const id = `${moduleUrl}\0${[...externals].sort().join(",")}`;
        let b = bundles.get(id);
        if (!b) {
          b = bundler(moduleUrl, externals);
          bundles.set(id, b);
        }
        sources.add(b);
        return { input: b.toInputArtifact(), entry: b.podEntry };
      }
    : undefined;
  const contexts = new Map<Template, RenderContext>();
  const contextOf = (t: Template): RenderContext => {
    let ctx = contexts.get(t);
    if (!ctx) {
      const dangling = (v: Variable, message: string): void => rendering.add({ path: [names.get(t) ?? t.name], rule: "reference-scope", message, value: describeVar(v) });
      ctx = {
        template: t.name,
        onArtifactSource: (s) => sources.add(s),
        resolve: (v, path) => {
          if (!isSourced(v)) return path;
          const s = v.source;
          if (s.type === "input" && s.owner !== t) {
            dangling(v, `template "${t.name}": reads ${describeVar(v)}, which is not an input of this template; pass it in as an input`);
          }
          if (s.type === "output") {
            const parent = s.producer.parentTemplate;
            if (!parent) {
              dangling(v, `template "${t.name}": reads ${describeVar(v)}, but that ${s.producer.scope === "steps" ? "step" : "task"} was never added to a Steps or DAG template`);
            } else if (parent !== t) {
              dangling(v, `template "${t.name}": reads ${describeVar(v)}, which belongs to template "${parent.name}"; pass it through that template's outputs`);
            }
          }
          return path;
        },
      };
      contexts.set(t, ctx);
    }
    return ctx;
  };

  // Problems found while rendering; rendering runs again after renames, so they are per pass.
  let rendering = new IssueList();
  const render = (): Map<Template, ArgoTemplate[]> => {
    rendering = new IssueList();
    const compiler: TemplateCompiler = {
      nameOf: (t) => {
        const n = names.get(t);
        if (n === undefined) throw new CompileError(`template "${t.name}" is referenced but was not collected`);
        return n;
      },
      context: contextOf,
      warn: note,
      outputMayBeSkipped: (t) => skippable.has(t),
      takesKey: (t) => keyed.has(t),
      ...(bundleOf ? { bundle: bundleOf } : {}),
      report: (t, issue) => rendering.add({ ...issue, path: [names.get(t) ?? t.name, ...issue.path] }),
      layOutDag: (dag) => layOutDag(dag, compiler),
    };
    const out = new Map<Template, ArgoTemplate[]>();
    for (const t of all) {
      try {
        out.set(t, t.toArgo(compiler));
      } catch (e) {
        rendering.addError([names.get(t) ?? t.name], e);
        out.set(t, []);
      }
    }
    return out;
  };

  let rendered = render();
  // Same name, different content: rename the later ones deterministically (name-2, name-3, …).
  const byName = new Map<string, { t: Template; json: string }[]>();
  for (const t of all) {
    const json = JSON.stringify(rendered.get(t));
    const group = byName.get(t.name) ?? [];
    group.push({ t, json });
    byName.set(t.name, group);
  }
  let renamed = false;
  const taken = new Set(all.map((t) => t.name));
  for (const [name, group] of byName) {
    const variants: string[] = [];
    for (const { t, json } of group) {
      let i = variants.indexOf(json);
      if (i < 0) {
        variants.push(json);
        i = variants.length - 1;
      }
      if (i > 0) {
        let candidate = `${name}-${i + 1}`;
        while (taken.has(candidate) && ![...names.values()].includes(candidate)) candidate = `${candidate}-x`;
        if (candidate.length > ArgoLimits.nameLength) {
          structural.add({
            path: [name],
            rule: "name",
            message: `template "${name}": two different templates share this name and a unique name would exceed ${ArgoLimits.nameLength} characters; give them distinct names`,
            value: candidate,
          });
          continue;
        }
        names.set(t, candidate);
        taken.add(candidate);
        renamed = true;
        note(`template "${name}": ${group.length} different templates share this name; renamed one to "${candidate}" (give distinct names to silence this)`);
      }
    }
  }
  if (renamed) rendered = render();

  const templates: ArgoTemplate[] = [];
  const emitted = new Map<string, string>();
  const bindings = new Map<string, LocalBinding>();
  for (const t of all) {
    const list = rendered.get(t) ?? [];
    for (const at of list) {
      const json = JSON.stringify(at);
      const prior = emitted.get(at.name);
      if (prior !== undefined) {
        if (prior !== json) structural.add({ path: [at.name], rule: "name", message: `template name "${at.name}" is produced twice with different content`, value: at.name });
        continue;
      }
      emitted.set(at.name, json);
      templates.push(at);
    }
    const b = t.localBinding();
    if (b) bindings.set(names.get(t) as string, b);
  }
  for (const i of rendering.items) structural.add(i);
  for (const i of limitIssues(templates, note)) structural.add(i);
  const outputSignatures = new Map<string, Template["outputs"]>();
  for (const t of all) outputSignatures.set(names.get(t) ?? t.name, t.outputs);
  return { templates, nameOf: (t) => names.get(t) ?? t.name, bindings, outputSignatures, warnings, sources };
}

/** Enforces Argo v4's per-template limits; warns near them. Throws one CompileError listing every excess. */
export function checkLimits(templates: readonly ArgoTemplate[], warn: (m: string) => void): void {
  const issues = limitIssues(templates, warn);
  if (issues.length) throw new CompileError(issues);
}

/** Argo v4's per-workflow and per-template limits a list of templates exceeds; warns near them. */
export function limitIssues(templates: readonly ArgoTemplate[], warn: (m: string) => void): Issue[] {
  const issues: Issue[] = [];
  if (templates.length > ArgoLimits.templatesPerWorkflow) {
    issues.push({
      path: [],
      rule: "limit",
      message: `workflow has ${templates.length} templates; Argo v4 allows at most ${ArgoLimits.templatesPerWorkflow}. Reuse templates across steps (one template per OP and options), or move parts into WorkflowTemplates`,
      value: templates.length,
    });
  } else if (templates.length > ArgoLimits.templatesPerWorkflow * ArgoLimits.warnFraction) {
    warn(`workflow has ${templates.length} templates, near Argo v4's limit of ${ArgoLimits.templatesPerWorkflow}`);
  }
  for (const t of templates) {
    const n = t.inputs?.parameters?.length ?? 0;
    if (n > ArgoLimits.inputParametersPerTemplate) {
      issues.push({
        path: [t.name, "inputs", "parameters"],
        rule: "limit",
        message: `template "${t.name}" has ${n} input parameters; Argo v4 allows at most ${ArgoLimits.inputParametersPerTemplate}. Pass related values as one JSON parameter or a big parameter`,
        value: n,
      });
    }
    const tasks = t.dag?.tasks.length ?? 0;
    if (tasks > ArgoLimits.tasksPerDag) {
      issues.push({ path: [t.name, "dag", "tasks"], rule: "limit", message: `template "${t.name}" has ${tasks} DAG tasks; Argo v4 allows at most ${ArgoLimits.tasksPerDag}`, value: tasks });
    }
    if (t.name.length > ArgoLimits.nameLength) {
      issues.push({ path: [t.name], rule: "name", message: `template name "${t.name}" has ${t.name.length} characters; Argo allows at most ${ArgoLimits.nameLength}`, value: t.name });
    }
  }
  return issues;
}

/** Checks the serialised size of a manifest against etcd's ~1 MB object limit. */
export function checkSize(bytes: number, what: string, warn: (m: string) => void): void {
  const issues = sizeIssues(bytes, what, warn);
  if (issues.length) throw new CompileError(issues);
}

/** The size issue of a manifest of `bytes` bytes, if it is too large for etcd; warns near the limit. */
export function sizeIssues(bytes: number, what: string, warn: (m: string) => void): Issue[] {
  if (bytes > ArgoLimits.objectBytes) {
    return [
      {
        path: [],
        rule: "limit",
        message: `${what} is ${bytes} bytes of JSON; Argo stores workflows in etcd, which holds about ${ArgoLimits.objectBytes} bytes. Fan out with withParam over data instead of literal withItems, pass large values as artifacts (bigParameter), or reuse templates`,
        value: bytes,
      },
    ];
  }
  if (bytes > ArgoLimits.objectBytes * ArgoLimits.warnFraction) {
    warn(`${what} is ${bytes} bytes of JSON, near the ~${ArgoLimits.objectBytes} bytes etcd holds per object`);
  }
  return [];
}
