import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";
import { ResourceTemplate, type ResourceAction } from "./resource-template.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

function job() {
  return new ResourceTemplate({
    name: "pi-job",
    action: "create",
    setOwnerReference: true,
    inputs: { n: param(z.number().int()), who: param(z.string()) },
    outputs: { job: param(z.string()), succeeded: param(z.number().int()) },
    outputFrom: { job: { jsonPath: "{.metadata.name}" }, succeeded: { jqFilter: ".status.succeeded" } },
    manifest: (io) => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { generateName: "pi-", labels: { who: io.parameters.who } },
      spec: { completions: io.parameters.n, template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl", command: ["perl", "-e", "print 1"] }] } } },
    }),
    successCondition: "status.succeeded > 0",
    failureCondition: "status.failed > 3",
  });
}

function build() {
  const main = new Steps({ name: "main" });
  main.add(new Step("job", job(), { parameters: { n: 3, who: "ada" } }));
  const del = new ResourceTemplate({ name: "cleanup", action: "delete", manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scratch\n", flags: ["--ignore-not-found"] });
  main.add(new Step("cleanup", del));
  return new Workflow({ name: "resource-wf", entrypoint: main });
}

describe("ResourceTemplate", () => {
  it("renders Argo's resource template: the manifest as YAML with typed tags, outputs from jsonPath and jqFilter", () => {
    const t = build().compile().spec.templates?.find((x) => x.name === "pi-job");
    expect(t?.outputs).toEqual({
      parameters: [
        { name: "job", valueFrom: { jsonPath: "{.metadata.name}" } },
        { name: "succeeded", valueFrom: { jqFilter: ".status.succeeded" } },
      ],
    });
    expect(t?.resource).toMatchObject({ action: "create", successCondition: "status.succeeded > 0", failureCondition: "status.failed > 3", setOwnerReference: true });
    const manifest = t?.resource?.manifest ?? "";
    // A number stays a number once Argo fills the tag in; text stays quoted.
    expect(manifest).toContain("completions: {{inputs.parameters.n}}\n");
    expect(manifest).toContain('who: "{{inputs.parameters.who}}"\n');
    expect(manifest).toContain("kind: Job\n");
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build().compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("is refused by the local engine, which says why", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-resource-"));
    dirs.push(workdir);
    const r = await build().run({ workdir });
    expect(r.status.phase).not.toBe("Succeeded");
    const jobNode = Object.values(r.status.nodes ?? {}).find((n) => n.displayName === "job");
    expect(jobNode?.message).toMatch(/resource template \(it needs a Kubernetes API server\)/);
  }, 60_000);

  it("refuses bad options, naming the template and the field", () => {
    const manifest = "kind: ConfigMap";
    expect(() => new ResourceTemplate({ name: "r", action: "explode" as ResourceAction, manifest })).toThrow(/template "r": action must be one of get, create, apply, delete, replace, patch; got "explode"/);
    expect(() => new ResourceTemplate({ name: "r", action: "get", manifest: "" })).toThrow(/template "r": manifest is required/);
    expect(() => new ResourceTemplate({ name: "r", action: "get", manifest, outputs: { x: param(z.string()) } })).toThrow(/template "r": output "x" needs outputFrom\.x/);
    expect(() => new ResourceTemplate({ name: "r", action: "get", manifest, outputFrom: { y: { jsonPath: "{.a}" } } })).toThrow(/template "r": outputFrom names "y", which is not an output/);
    expect(() => new ResourceTemplate({ name: "r", action: "apply", manifest, mergeStrategy: "merge" })).toThrow(/template "r": mergeStrategy applies to action "patch" only/);
  });
});
