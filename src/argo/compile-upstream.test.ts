/**
 * Golden tests: upstream Argo examples re-expressed with opflow compile to the same manifests
 * after normalisation. Reads ../shared/argo/examples; skips visibly where it is absent.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseExpression } from "../expr/evaluation.ts";
import { upstream } from "../../test/golden/upstream-examples.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const examplesDir = path.resolve(here, "../../../shared/argo/examples");
const haveShared = fs.existsSync(examplesDir);

/** Normalises what Argo treats as equal: template order, int-or-string, key order, expression syntax. */
export function normalise(manifest: unknown): unknown {
  const m = JSON.parse(JSON.stringify(manifest)) as { spec: { templates: { name: string }[] } };
  m.spec.templates.sort((a, b) => a.name.localeCompare(b.name));
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, walk((v as Record<string, unknown>)[k], k)]),
      );
    }
    if (typeof v === "number" && ["limit", "factor", "duration", "cap"].includes(key ?? "")) return String(v);
    if (typeof v === "string" && key === "source") return v.trimEnd();
    if (typeof v === "string") {
      // Expression tags compare by their syntax tree: spacing, quotes and parentheses differ.
      const m = /^\{\{=([\s\S]*)\}\}$/.exec(v.trim());
      if (m) return `{{=${JSON.stringify(parseExpression(m[1] as string), (k, x: unknown) => (k === "pos" ? undefined : x))}}}`;
    }
    return v;
  };
  return walk(m);
}

describe.skipIf(!haveShared)("upstream Argo examples re-expressed with opflow (needs ../shared/argo/examples)", () => {
  for (const [file, build] of Object.entries(upstream)) {
    it(`compiles ${file} to the upstream manifest`, () => {
      const expected = YAML.parse(fs.readFileSync(path.join(examplesDir, file), "utf8")) as unknown;
      const actual = build().compile({ warn: () => {} });
      expect(normalise(actual)).toEqual(normalise(expected));
    });
  }
});

it.runIf(!haveShared)("skips the upstream golden tests: ../shared/argo/examples is absent", () => {
  expect(haveShared).toBe(false);
});
