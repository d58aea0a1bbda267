import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { readOps } from "../catalog/read-ops.ts";
import { OPS_TABLE_END, OPS_TABLE_START, opsMarkdown } from "../catalog/render-ops.ts";
import { ValidationError } from "../errors.ts";
import { renderTemplate, renderText, templateContext } from "./cookiecutter.ts";

const template = fileURLToPath(new URL("../../cookiecutter-op", import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-scaffold-"));
  dirs.push(dir);
  return dir;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

describe("cookiecutter-op rendered by opflow new-op", () => {
  it("creates the OP package with every placeholder filled in", async () => {
    const parent = tmp();
    const dir = await renderTemplate(template, parent, { project_slug: "chem-ops", opflow_version: "file:../x.tgz" });
    expect(dir).toBe(path.join(parent, "chem-ops"));
    const files = walk(dir).map((f) => path.relative(dir, f)).sort();
    expect(files).toEqual(
      expect.arrayContaining(["Dockerfile", "README.md", "ci.sh", "package.json", "src/index.ts", "src/ops/greet.ts", "src/workflow.ts", "test/greet.test.ts", "tsconfig.json"]),
    );
    for (const file of walk(dir)) expect(fs.readFileSync(file, "utf8"), file).not.toMatch(/\{\{|\{%/);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "chem-ops", type: "module", dependencies: { "@opflow/core": "file:../x.tgz" } });
    expect(pkg.scripts.docs).toBe("opflow ops --update README.md");
    expect(fs.readFileSync(path.join(dir, "src/workflow.ts"), "utf8")).toContain('image: "chem-ops:latest"');
    expect(fs.statSync(path.join(dir, "ci.sh")).mode & 0o111).not.toBe(0);
  });

  it("keeps the template's README table what `opflow ops --markdown` makes of its OPs", () => {
    const root = path.join(template, "{{cookiecutter.project_slug}}");
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf(OPS_TABLE_START) + OPS_TABLE_START.length + 1, readme.indexOf(OPS_TABLE_END));
    expect(table).toBe(opsMarkdown(readOps(root, { cwd: root })));
  });

  it("refuses a non-empty target folder, unknown variables and Jinja it does not support", async () => {
    const parent = tmp();
    fs.mkdirSync(path.join(parent, "taken"));
    fs.writeFileSync(path.join(parent, "taken", "x"), "");
    await expect(renderTemplate(template, parent, { project_slug: "taken" })).rejects.toThrow(/taken: already exists and is not empty/);
    await expect(templateContext(template, { colour: "red" })).rejects.toThrow(/no variable named "colour"/);
    expect(() => renderText("a {{cookiecutter.nope}}", { x: "1" }, "f.txt")).toThrow(/f\.txt: unknown variable cookiecutter\.nope/);
    expect(() => renderText("a\n{% if x %}", {}, "f.txt")).toThrow(ValidationError);
    expect(() => renderText("a\n{% if x %}", {}, "f.txt")).toThrow(/f\.txt:2: only \{\{cookiecutter\.<name>\}\} placeholders/);
    expect(() => renderText("{{ inputs.parameters.x }}", {}, "g.txt")).toThrow(/g\.txt:1/);
  });

  it("renders a default from the variables before it, as cookiecutter does", async () => {
    const context = await templateContext(template, { project_slug: "abc" });
    expect(context["image"]).toBe("abc:latest");
    expect((await templateContext(template, { project_slug: "abc", image: "ghcr.io/me/abc:1" }))["image"]).toBe("ghcr.io/me/abc:1");
  });
});
