import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { NodeStatus } from "../argo/model.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Workflow } from "../workflow/workflow.ts";
import { aggregatedJsonList } from "./scope.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

describe("aggregated outputs of loops", () => {
  it("lists scalars as strings, objects and lists as themselves", () => {
    expect(aggregatedJsonList(["1", "2"])).toBe('["1","2"]');
    expect(aggregatedJsonList(['{"a":1}', "[2]"])).toBe('[{"a":1},[2]]');
    expect(aggregatedJsonList(['{"a":1}', "3"])).toBe('["{\\"a\\":1}","3"]');
  });

  it("leave out iterations that did not succeed, as Argo's processAggregateNodeOutputs does", async () => {
    // Writes y = 10x, then fails on x = 2: the failed iteration has outputs, which Argo ignores.
    const tenfold = new ShellOPTemplate({
      name: "tenfold",
      inputs: { x: param(z.number()) },
      outputs: { y: param(z.number()) },
      source: ["set -eu", "mkdir -p /tmp/outputs/parameters", "echo $((x * 10)) > /tmp/outputs/parameters/y", '[ "$x" != 2 ]'].join("\n"),
    });
    const main = new Steps({ name: "main", outputs: { ys: param(z.array(z.number())) } });
    const s = main.add(new Step("each", tenfold, { parameters: (item) => ({ x: item }), withItems: [1, 2, 3], continueOn: { failed: true } }));
    main.setOutputs({ parameters: { ys: s.outputs.parameters.y as never } });
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-aggregate-"));
    dirs.push(workdir);
    const result = await new Workflow({ generateName: "aggregate-", entrypoint: main }).run({ workdir });
    const nodes = Object.values(result.status.nodes ?? {});
    expect(nodes.filter((n) => n.type === "Pod").map((n) => [n.displayName, n.phase])).toEqual(
      expect.arrayContaining([
        ["each(0:1)", "Succeeded"],
        ["each(1:2)", "Failed"],
        ["each(2:3)", "Succeeded"],
      ]),
    );
    const root = nodes.find((n) => n.name === result.name) as NodeStatus;
    expect(root.outputs?.parameters?.find((p) => p.name === "ys")?.value).toBe('["10","30"]');
  }, 60_000);
});
