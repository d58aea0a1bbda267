import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus } from "../argo/model.ts";
import { DAG } from "../dag/dag.ts";
import { Task } from "../dag/task.ts";
import type { ArtifactPart } from "../expr/refs.ts";
import { artifact, param } from "../op/signature.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const produce = new ShellOPTemplate({
  name: "produce",
  outputs: { run: artifact() },
  source: ["set -eu", "d=/tmp/outputs/artifacts/run", "mkdir -p $d/metrics", "echo 0.25 > $d/metrics/loss.txt", "echo big > $d/weights.bin"].join("\n"),
});
const read = new ShellOPTemplate({
  name: "read",
  inputs: { f: artifact() },
  outputs: { text: param(z.string()), kind: param(z.string()) },
  source: [
    "set -eu",
    "mkdir -p /tmp/outputs/parameters",
    'if [ -f /tmp/inputs/artifacts/f ]; then echo file > /tmp/outputs/parameters/kind; cat /tmp/inputs/artifacts/f > /tmp/outputs/parameters/text; else echo dir > /tmp/outputs/parameters/kind; ls /tmp/inputs/artifacts/f | tr "\\n" " " > /tmp/outputs/parameters/text; fi',
  ].join("\n"),
});

function build() {
  const dag = new DAG({ name: "main", outputs: { loss: param(z.string()), kind: param(z.string()), listing: param(z.string()) } });
  const p = dag.add(new Task("produce", produce));
  const loss = dag.add(new Task("loss", read, { artifacts: { f: p.outputs.artifacts.run.subPath("metrics/loss.txt") } }));
  const dir = dag.add(new Task("metrics", read, { artifacts: { f: p.outputs.artifacts.run.subPath("./metrics/") } }));
  dag.setOutputs({ parameters: { loss: loss.outputs.parameters.text, kind: loss.outputs.parameters.kind, listing: dir.outputs.parameters.text } });
  return { wf: new Workflow({ generateName: "part-", entrypoint: dag }), p };
}

describe("artifact.subPath()", () => {
  it("is a single-path artifact argument rendered as Argo's subPath, and a data dependency", () => {
    const { wf, p } = build();
    expectTypeOf(p.outputs.artifacts.run.subPath("x")).toEqualTypeOf<ArtifactPart>();
    const m = wf.compile();
    const tasks = m.spec.templates?.find((t) => t.name === "main")?.dag?.tasks ?? [];
    expect(tasks.find((t) => t.name === "loss")).toMatchObject({
      depends: "produce",
      arguments: { artifacts: [{ name: "f", from: "{{tasks.produce.outputs.artifacts.run}}", subPath: "metrics/loss.txt" }] },
    });
    expect(tasks.find((t) => t.name === "metrics")?.arguments?.artifacts?.[0]?.subPath).toBe("metrics");
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build().wf.compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("refuses paths that leave the artifact, naming it", () => {
    const { p } = build();
    for (const bad of ["../x", "/etc/passwd", "", "a/../../b"]) {
      expect(() => p.outputs.artifacts.run.subPath(bad)).toThrow(/output artifact "run" of task "produce": subPath must be a relative path inside the artifact/);
    }
  });

  it("hands the step only that part in the local engine", async () => {
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-part-"));
    dirs.push(workdir);
    const result = await build().wf.run({ workdir });
    const root = Object.values(result.status.nodes ?? {}).find((n) => n.name === result.name) as NodeStatus;
    const out = (n: string) => root.outputs?.parameters?.find((x) => x.name === n)?.value;
    expect(result.status.phase).toBe("Succeeded");
    expect([out("kind"), out("loss"), out("listing")]).toEqual(["file", "0.25", "loss.txt "]);
  });
});
