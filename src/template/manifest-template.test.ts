import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { type ParamSpec, artifact, param } from "../op/signature.ts";
import { ManifestTemplate } from "./manifest-template.ts";

const argo = {
  name: "count",
  inputs: { parameters: [{ name: "opflow-key", default: "" }, { name: "n" }] },
  outputs: { parameters: [{ name: "total", valueFrom: { path: "/tmp/outputs/parameters/total" } }, { name: "note", valueFrom: { path: "/tmp/outputs/parameters/note" } }] },
  container: { image: "busybox", command: ["true"] },
};

describe("ManifestTemplate: its signature read from the template", () => {
  it("reads every output parameter as a string, unless `outputs` gives its spec", () => {
    const plain = new ManifestTemplate(argo);
    expect(plain.outputs["total"]?.kind).toBe("parameter");
    expect(Object.keys(plain.inputs)).toEqual(["n"]);
    const total = param(z.number().int());
    const typed = new ManifestTemplate(argo, { outputs: { total, other: artifact() } });
    expect(typed.outputs["total"]).toBe(total);
    const note = typed.outputs["note"] as ParamSpec;
    expect([note.kind, note.schema.safeParse("x").success, note.schema.safeParse(1).success]).toEqual(["parameter", true, false]);
    expect(typed.outputs["other"]).toBeUndefined();
  });

  it("refuses a spec for a parameter the template does not output", () => {
    expect(() => new ManifestTemplate(argo, { outputs: { totl: param(z.number()) } })).toThrow(
      new ValidationError('template "count": option outputs: "totl" is no output parameter of the template; it has: total, note'),
    );
  });
});
