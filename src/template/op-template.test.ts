import { describe, expect, it } from "vitest";
import type { Template as ArgoTemplate } from "../argo/model.ts";
import { Steps } from "../steps/steps.ts";
import { Step } from "../steps/step.ts";
import { Workflow } from "../workflow/workflow.ts";
import { exclaim, upper } from "../../test/fixtures/bundle-ops.ts";
import { OPTemplate } from "./op-template.ts";

function chain(upperT: OPTemplate<typeof upper.inputs, typeof upper.outputs>, exclaimT: OPTemplate<typeof exclaim.inputs, typeof exclaim.outputs>): Workflow {
  const main = new Steps({ name: "main" });
  const a = main.add(new Step("a", upperT, { parameters: { text: "hi" } }));
  main.add(new Step("b", exclaimT, { parameters: { text: a.outputs.parameters.text } }));
  return new Workflow({ name: "chain", entrypoint: main });
}

const template = (templates: readonly ArgoTemplate[], name: string): ArgoTemplate => templates.find((t) => t.name === name) as ArgoTemplate;

describe("OP templates in bundle mode (the default)", () => {
  it("run their module's bundle, brought by a content-addressed input artifact; one bundle serves the module's OPs", () => {
    const { manifest, bundles } = chain(OPTemplate.fromOp(upper), OPTemplate.fromOp(exclaim)).prepare({ warn: () => {} });
    expect(bundles).toHaveLength(1);
    const b = bundles[0]!;
    expect(b.key).toMatch(/^opflow-bundles\/[0-9a-f]{20}\.mjs$/);
    for (const name of ["upper", "exclaim"]) {
      const t = template(manifest.spec.templates ?? [], name);
      expect(t.container?.image).toBe("node:20-slim");
      expect(t.container?.command).toEqual(["node", `/tmp/opflow/${b.bundle.hash}.mjs`]);
      expect(t.container?.args).toEqual(["--op", name]);
      expect(t.inputs?.artifacts).toEqual([{ name: "opflow-bundle", path: `/tmp/opflow/${b.bundle.hash}.mjs`, s3: { key: b.key } }]);
    }
    // The manifest names the bundle; it never carries it.
    expect(JSON.stringify(manifest).length).toBeLessThan(4000);
  });

  it("render their installed-mode command when compiled without bundles", () => {
    const { manifest, bundles } = chain(OPTemplate.fromOp(upper), OPTemplate.fromOp(exclaim)).prepare({ warn: () => {}, bundles: false });
    expect(bundles).toEqual([]);
    const t = template(manifest.spec.templates ?? [], "upper");
    expect(t.container?.command).toEqual(["npx", "--no-install", "opflow", "execute"]);
    expect(t.container?.args).toEqual(["--module", "test/fixtures/bundle-ops.ts", "--op", "upper"]);
    expect(t.inputs?.artifacts).toBeUndefined();
  });
});

describe("OP templates in installed mode", () => {
  it("run opflow execute from the image's package, and are chosen by code, module or command", () => {
    const cases: [OPTemplate<typeof upper.inputs, typeof upper.outputs>, string[], string][] = [
      [OPTemplate.fromOp(upper, { code: "installed" }), ["npx", "--no-install", "opflow", "execute"], "test/fixtures/bundle-ops.ts"],
      [OPTemplate.fromOp(upper, { module: "my-ops" }), ["npx", "--no-install", "opflow", "execute"], "my-ops"],
      [OPTemplate.fromOp(upper, { command: ["opflow", "execute"] }), ["opflow", "execute"], "test/fixtures/bundle-ops.ts"],
    ];
    for (const [t, command, module] of cases) {
      const { manifest, bundles } = chain(t, OPTemplate.fromOp(exclaim, { code: "installed" })).prepare({ warn: () => {} });
      expect(bundles).toEqual([]);
      const u = template(manifest.spec.templates ?? [], "upper");
      expect(u.container?.command).toEqual(command);
      expect(u.container?.args).toEqual(["--module", module, "--op", "upper"]);
      expect(u.inputs?.artifacts).toBeUndefined();
    }
  });

  it("refuses an unknown code, externals outside bundle mode, and names that are not packages", () => {
    // @ts-expect-error: only "bundle" and "installed"
    expect(() => OPTemplate.fromOp(upper, { code: "docker" })).toThrow('OP template "upper": option "code" must be "bundle" or "installed", got "docker"');
    expect(() => OPTemplate.fromOp(upper, { code: "installed", externals: ["sharp"] })).toThrow(
      'OP template "upper": option "externals" applies to bundle mode; in installed mode the image has every package (got code "installed" and externals sharp)',
    );
    expect(() => OPTemplate.fromOp(upper, { externals: ["../x"] })).toThrow('OP template "upper": option "externals": "../x" is not an npm package name');
    const anonymous = { ...upper, modulePath: undefined };
    expect(() => OPTemplate.fromOp(anonymous)).toThrow(/OP "upper": cannot tell which module defines it, so it cannot be bundled/);
  });
});

describe("what cannot be bundled", () => {
  it("fails the compile, naming the package and the way out", () => {
    // This test file imports vitest, which loads modules by computed names (vite's module runner).
    const local = OPTemplate.fromOp({ ...upper, name: "local-upper", modulePath: import.meta.url });
    const wf = new Workflow({ name: "local", entrypoint: local, parameters: { text: "x" } });
    expect(() => wf.compile({ warn: () => {} })).toThrow(/package "vite" imports a module whose name is computed at run time .* Way out: list the package in the OP template's `externals` option .* or use installed mode/s);
    expect(wf.compile({ warn: () => {}, bundles: false }).spec.templates?.[0]?.container?.command?.[0]).toBe("npx");
  });
});
