import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { parseYamlDocuments } from "./parse-yaml.ts";

// Go's YAML parser (and so Argo) accepts these; upstream examples/sidecar.yaml and secrets.yaml
// close a multi-line quoted flow scalar at the parent's indentation.
describe("parseYamlDocuments", () => {
  it("reads a multi-line double-quoted scalar closed at the parent's indentation (upstream sidecar.yaml)", () => {
    const text = ["spec:", "  c:", "    args: [\"", "      apk update &&", "      echo \\\"hi\\\" ;", "    done", "    \"]", "    image: x", ""].join("\n");
    expect(parseYamlDocuments(text, "t.yaml")).toEqual([{ spec: { c: { args: [" apk update && echo \"hi\" ; done "], image: "x" } } }]);
  });

  it("reads a multi-line single-quoted scalar closed at the parent's indentation (upstream secrets.yaml)", () => {
    const text = ["a:", "  args: ['", "    echo \"x: `cat f`\";", "    it''s", "  ']", "  b: 1", ""].join("\n");
    expect(parseYamlDocuments(text, "t.yaml")).toEqual([{ a: { args: [" echo \"x: `cat f`\"; it's "], b: 1 } }]);
  });

  it("reads continuation lines at the key's own indentation", () => {
    const text = ["a:", "  b:", "    c: \"line one", "    line two\"", "    d: 2", ""].join("\n");
    expect(parseYamlDocuments(text, "t.yaml")).toEqual([{ a: { b: { c: "line one line two", d: 2 } } }]);
  });

  it("leaves several documents and block scalars alone", () => {
    expect(parseYamlDocuments("a: |\n  x \"\n---\nb: 2\n", "t.yaml")).toEqual([{ a: 'x "\n' }, { b: 2 }]);
  });

  it("still refuses a quote that is never closed, naming the file and the first error", () => {
    expect(() => parseYamlDocuments("a: \"open\nb: 1\n", "bad.yaml")).toThrow(ValidationError);
    expect(() => parseYamlDocuments("a: \"open\nb: 1\n", "bad.yaml")).toThrow(/^bad\.yaml: not valid YAML: Missing closing "quote/);
  });
});

describe("parseYamlDocuments reads scalars as Go's YAML 1.1 parser does", () => {
  it("reads 0755 as octal (upstream examples/input-artifact-http.yaml: mode: 0755)", () => {
    expect(parseYamlDocuments("mode: 0755\n", "t.yaml")).toEqual([{ mode: 493 }]);
  });
  it("keeps times and dates as strings", () => {
    expect(parseYamlDocuments("t: 10:30\nd: 2024-01-02\n", "t.yaml")).toEqual([{ t: "10:30", d: "2024-01-02" }]);
  });
  it("reads a lone dot as a string and 1.5 / .5 as numbers (upstream examples/k8s-jobs.yaml: jqFilter: .)", () => {
    expect(parseYamlDocuments("j: .\nf: 1.5\ng: .5\nb: on\n", "t.yaml")).toEqual([{ j: ".", f: 1.5, g: 0.5, b: true }]);
  });
});
