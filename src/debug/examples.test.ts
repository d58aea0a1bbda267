import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadWorkflow } from "../cli/load.ts";
import { haveCommand, node, phases, removeWorkdirs, useStandIns, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);
// cowsay (whalesay's command) from test/fixtures/bin; Python is not stood in for: its example is skipped, and says so, without it.
useStandIns();
const havePython = haveCommand("python");

// Reads ../shared/argo/examples beside the repository; skipped (and said so) where it is absent.
const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/argo/examples");
const haveExamples = fs.existsSync(examples);
const run = async (file: string, name: string) => runWorkflow((await loadWorkflow(path.join(examples, file))).manifest, { workdir: await workdir(), name });

// The upstream examples end as Argo ends them (a cowsay stand-in plays whalesay).
it.runIf(!haveExamples)("skips the upstream examples: ../shared/argo/examples is absent", () => {
  expect(haveExamples).toBe(false);
});

describe.runIf(haveExamples).concurrent("upstream Argo examples (needs ../shared/argo/examples)", () => {
  it("steps.yaml", async () => {
    const { status } = await run("steps.yaml", "steps");
    expect(status.phase).toBe("Succeeded");
    expect(phases(status)).toEqual({ steps: "Succeeded", "[0]": "Succeeded", hello1: "Succeeded", "[1]": "Succeeded", hello2a: "Succeeded", hello2b: "Succeeded" });
  });

  it("dag-diamond.yaml", async () => {
    const { status } = await run("dag-diamond.yaml", "dag-diamond");
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "D").outputs?.result).toBe("D");
  });

  it("conditionals.yaml", async () => {
    const { status } = await run("conditionals.yaml", "conditional");
    expect(status.phase).toBe("Succeeded");
    for (const s of ["print-hello-govaluate", "print-hello-expr", "print-hello-expr-json"]) expect(node(status, s).outputs?.result).toContain("< hello >");
  });

  it("artifact-passing.yaml", async () => {
    const { status } = await run("artifact-passing.yaml", "artifact-passing");
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "consume-artifact").outputs?.result).toBe("hello world");
  });

  it.runIf(!havePython)("skips loops-param-result.yaml and retry-backoff.yaml: python is not installed", () => {
    expect(havePython).toBe(false);
  });

  it.runIf(havePython)("loops-param-result.yaml", async () => {
    const { status } = await run("loops-param-result.yaml", "loops-param-result");
    expect(status.phase).toBe("Succeeded");
    expect(Object.keys(phases(status)).filter((d) => d.startsWith("sleep("))).toHaveLength(11);
    expect(node(status, "sleep(10:30)").outputs?.result).toBe("sleeping for 30 seconds\ndone");
  }, 120_000);

  it.runIf(havePython)("retry-backoff.yaml", async () => {
    const { status } = await run("retry-backoff.yaml", "retry-backoff");
    expect(["Succeeded", "Failed"]).toContain(status.phase);
    const root = status.nodes?.["retry-backoff"];
    expect(root?.type).toBe("Retry");
    const attempts = (root?.children ?? []).map((id) => status.nodes?.[id]?.displayName);
    expect(attempts).toEqual(attempts.map((_, i) => `retry-backoff(${i})`));
    if (status.phase === "Failed") expect(root?.message).toBe("No more retries left");
    else expect(status.nodes?.[root?.children?.at(-1) ?? ""]?.phase).toBe("Succeeded");
  }, 120_000);
});
