import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ContainerTemplate } from "../template/container-template.ts";
import { param } from "../op/signature.ts";
import { Step, rawArtifact } from "../steps/step.ts";
import { artifact } from "../op/signature.ts";
import { Workflow } from "./workflow.ts";

const t = new ContainerTemplate({
  name: "echo",
  image: "busybox",
  inputs: { msg: param(z.string()), n: param(z.number(), { default: 1 }), file: artifact({ optional: true }) },
  command: (io) => ["echo", io.parameters.msg],
});

describe("Workflow", () => {
  it("maps workflow options to the manifest's spec", () => {
    const exit = new ContainerTemplate({ name: "cleanup", image: "busybox", command: ["true"] });
    const m = new Workflow({
      name: "run-1",
      entrypoint: t,
      parameters: { msg: "hi" },
      artifacts: { file: rawArtifact("data") },
      labels: { team: "sci" },
      annotations: { note: "x" },
      parallelism: 4,
      timeout: "2h",
      ttl: { afterCompletion: "24h", afterFailure: 3600 },
      podGC: "OnPodSuccess",
      onExit: exit,
      serviceAccountName: "runner",
      artifactRepositoryRef: { configMap: "artifact-repositories", key: "minio" },
      imagePullSecrets: ["regcred"],
    }).compile();
    expect(m.metadata).toEqual({ name: "run-1", labels: { team: "sci" }, annotations: { note: "x" } });
    expect(m.spec).toMatchObject({
      entrypoint: "echo",
      arguments: { parameters: [{ name: "msg", value: "hi" }], artifacts: [{ name: "file", raw: { data: "data" } }] },
      onExit: "cleanup",
      parallelism: 4,
      activeDeadlineSeconds: 7200,
      serviceAccountName: "runner",
      artifactRepositoryRef: { configMap: "artifact-repositories", key: "minio" },
      ttlStrategy: { secondsAfterCompletion: 86400, secondsAfterFailure: 3600 },
      podGC: { strategy: "OnPodSuccess" },
      imagePullSecrets: [{ name: "regcred" }],
    });
    expect(m.spec.templates?.map((x) => x.name)).toEqual(["echo", "cleanup"]);
  });

  it("builds an implicit Steps entrypoint with add(), as dflow does", () => {
    const wf = new Workflow({ generateName: "demo-" });
    wf.add(new Step("a", t, { parameters: { msg: "a" } }));
    wf.add([new Step("b", t, { parameters: { msg: "b" } }), new Step("c", t, { parameters: { msg: "c" } })]);
    const m = wf.compile();
    expect(m.metadata.generateName).toBe("demo-");
    expect(m.spec.entrypoint).toBe("main");
    expect(m.spec.templates?.[0]?.steps?.map((g) => g.map((s) => s.name))).toEqual([["a"], ["b", "c"]]);
  });

  it("rejects invalid names and arguments with the field and the rule", () => {
    expect(() => new Workflow({ name: "Bad_Name", entrypoint: t, parameters: { msg: "x" } })).toThrow(/Workflow name "Bad_Name" is invalid/);
    expect(() => new Workflow({ name: "x".repeat(64), entrypoint: t, parameters: { msg: "x" } })).toThrow(/at most 63/);
    expect(() => new Workflow({ entrypoint: t })).toThrow('Workflow: parameter "msg" of entrypoint "echo" is required');
    // @ts-expect-error unknown parameter
    expect(() => new Workflow({ entrypoint: t, parameters: { msg: "x", bogus: 1 } })).toThrow(/unknown parameter "bogus"/);
    // @ts-expect-error a number is not a string
    expect(() => new Workflow({ entrypoint: t, parameters: { msg: 3 } })).toThrow('Workflow: parameter "msg" expects string, got 3 (number)');
    expect(() => new Workflow({ entrypoint: t, parameters: { msg: "x" }, timeout: "soon" as "1s" })).toThrow(/"soon" is not a duration/);
    expect(() => new Workflow().compile()).toThrow(/no entrypoint/);
  });

  it("serialises to YAML and JSON", () => {
    const wf = new Workflow({ entrypoint: t, parameters: { msg: "hi" } });
    expect(wf.toYaml()).toMatch(/^apiVersion: argoproj.io\/v1alpha1\nkind: Workflow\n/);
    expect(JSON.parse(wf.toJson())).toEqual(wf.compile());
  });
});
