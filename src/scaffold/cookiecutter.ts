/**
 * Renders a cookiecutter template — the subset that `cookiecutter-op/` uses, so that the same
 * folder works with plain `cookiecutter` and with `opflow new-op`: `cookiecutter.json` holds the
 * variables and their defaults (a default may use earlier variables), the one top folder and
 * every path and file below it use `{{cookiecutter.<name>}}` placeholders. Jinja statements
 * (`{% … %}`) and filters are refused rather than half-rendered.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ValidationError } from "../errors.ts";

const PLACEHOLDER = /\{\{\s*cookiecutter\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Variable values by name. */
export type TemplateContext = Readonly<Record<string, string>>;

/** Replaces every `{{cookiecutter.x}}` in `text`; `where` names the text in errors. */
export function renderText(text: string, context: TemplateContext, where: string): string {
  const statement = /\{%|\{\{(?!\s*cookiecutter\.[A-Za-z_][A-Za-z0-9_]*\s*\}\})/.exec(text);
  if (statement) {
    const line = text.slice(0, statement.index).split("\n").length;
    throw new ValidationError(`${where}:${line}: only {{cookiecutter.<name>}} placeholders are supported, found ${JSON.stringify(text.slice(statement.index, statement.index + 24))}`);
  }
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = context[name];
    if (value === undefined) throw new ValidationError(`${where}: unknown variable cookiecutter.${name} (cookiecutter.json defines ${Object.keys(context).join(", ")})`);
    return value;
  });
}

/**
 * The variables of a template: `cookiecutter.json`'s defaults, overridden by `values`, each
 * default rendered with the variables before it.
 */
export async function templateContext(templateDir: string, values: TemplateContext = {}): Promise<Record<string, string>> {
  const file = path.join(templateDir, "cookiecutter.json");
  let defaults: unknown;
  try {
    defaults = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (error) {
    throw new ValidationError(`${file}: cannot be read as JSON: ${(error as Error).message}`);
  }
  if (typeof defaults !== "object" || defaults === null || Array.isArray(defaults)) throw new ValidationError(`${file}: must hold an object of variables`);
  const context: Record<string, string> = {};
  for (const [name, value] of Object.entries(defaults)) {
    if (name.startsWith("_")) continue;
    if (typeof value !== "string") throw new ValidationError(`${file}: variable "${name}" must be a string, got ${JSON.stringify(value)}`);
    context[name] = values[name] ?? renderText(value, context, `${file} (${name})`);
  }
  for (const name of Object.keys(values)) {
    if (!(name in context)) throw new ValidationError(`${file}: no variable named "${name}" (variables: ${Object.keys(context).join(", ")})`);
  }
  return context;
}

/**
 * Renders `templateDir` (a folder with cookiecutter.json and one `{{cookiecutter.…}}` folder)
 * into `outputParent`; returns the created folder. Refuses to write into a folder that exists
 * and is not empty.
 *
 * @example
 * const dir = await renderTemplate("cookiecutter-op", ".", { project_slug: "my-ops" });
 */
export async function renderTemplate(templateDir: string, outputParent: string, values: TemplateContext = {}): Promise<string> {
  const context = await templateContext(templateDir, values);
  const roots = (await fs.readdir(templateDir, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name.includes("{{"));
  if (roots.length !== 1) throw new ValidationError(`${templateDir}: expected one {{cookiecutter.…}} folder, found ${roots.length}`);
  const rootName = (roots[0] as { name: string }).name;
  const target = path.resolve(outputParent, renderText(rootName, context, path.join(templateDir, rootName)));
  const existing = await fs.readdir(target).catch(() => undefined);
  if (existing && existing.length > 0) throw new ValidationError(`${target}: already exists and is not empty; choose another name or remove it`);
  await copyRendered(path.join(templateDir, rootName), target, context);
  return target;
}

async function copyRendered(from: string, to: string, context: TemplateContext): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const dest = path.join(to, renderText(entry.name, context, source));
    if (entry.isDirectory()) await copyRendered(source, dest, context);
    else if (entry.isFile()) {
      const text = await fs.readFile(source, "utf8");
      await fs.writeFile(dest, renderText(text, context, source));
      await fs.chmod(dest, (await fs.stat(source)).mode & 0o777);
    }
  }
}
