import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import type { Workflow } from "../argo/model.ts";
import { node, outParam } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";
import { StateTree } from "./state-tree.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** s1 → s2 → s3, each logging "start"/"end" lines to a journal outside the state tree. */
function chain(journal: string): Workflow {
  const step = (name: string, script: string, extra: object = {}): object => ({
    name,
    ...extra,
    container: { image: "busybox", command: ["sh", "-c", `echo "start ${name}" >> ${journal}; ${script}; echo "end ${name}" >> ${journal}`] },
  });
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { generateName: "resume-" },
    spec: {
      entrypoint: "main",
      arguments: { parameters: [{ name: "wait", value: "0" }] },
      templates: [
        {
          name: "main",
          steps: [
            [{ name: "s1", template: "s1" }],
            [{ name: "s2", template: "s2", arguments: { parameters: [{ name: "v", value: "{{steps.s1.outputs.parameters.v}}" }] } }],
            [{ name: "s3", template: "s3", arguments: { parameters: [{ name: "v", value: "{{steps.s2.outputs.result}}" }] } }],
          ],
        },
        step("s1", "echo 7 > v.txt", { outputs: { parameters: [{ name: "v", valueFrom: { path: "/tmp/workdir/v.txt" } }] } }) as never,
        step("s2", "echo $(( {{inputs.parameters.v}} * 2 ))", { inputs: { parameters: [{ name: "v" }] } }) as never,
        step("s3", "sleep {{workflow.parameters.wait}}; echo $(( {{inputs.parameters.v}} + 1 )) > out.txt", {
          inputs: { parameters: [{ name: "v" }] },
          outputs: { parameters: [{ name: "final", globalName: "final", valueFrom: { path: "/tmp/workdir/out.txt" } }] },
        }) as never,
      ],
    },
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out waiting");
}

describe("resume", () => {
  it("resumes a run killed with SIGKILL: no succeeded step runs twice and the outputs are right", async () => {
    // Outside /tmp, which steps see as their own folder.
    const base = await fs.mkdtemp("/var/tmp/opflow-resume-");
    const journal = path.join(base, "journal.txt");
    const file = path.join(base, "chain.yaml");
    await fs.writeFile(file, YAML.stringify(chain(journal)));
    const workdir = path.join(base, "runs");

    const engine = spawn(process.execPath, [path.join(repo, "bin/opflow.mjs"), "run", file, "--name", "resume-kill", "--workdir", workdir, "-p", "wait=60", "--quiet"], {
      cwd: base,
      stdio: "ignore",
    });
    const read = async (): Promise<string[]> => (await fs.readFile(journal, "utf8").catch(() => "")).split("\n").filter(Boolean);
    await waitFor(async () => (await read()).includes("start s3"), 20_000);
    engine.kill("SIGKILL");
    await new Promise((r) => engine.once("exit", r));

    // The killed engine left a tree that says where it was.
    const before = await StateTree.read(path.join(workdir, "resume-kill"));
    expect(before.status.phase).toBe("Running");
    expect(before.engineAlive).toBe(false);

    const { status, reusedNodes } = await runWorkflow(YAML.parse(await fs.readFile(file, "utf8")) as Workflow, {
      workdir,
      name: "resume-kill",
      parameters: { wait: "0" },
    });
    expect(status.phase).toBe("Succeeded");
    expect(reusedNodes).toBeGreaterThanOrEqual(4);
    const lines = await read();
    const count = (line: string): number => lines.filter((l) => l === line).length;
    expect(count("start s1")).toBe(1);
    expect(count("start s2")).toBe(1);
    expect(count("end s1")).toBe(1);
    expect(count("end s2")).toBe(1);
    // s3 was running when the engine died: it runs again, and its orphan never finished.
    expect(count("start s3")).toBe(2);
    expect(count("end s3")).toBe(1);
    expect(outParam(node(status, "s3"), "final")).toBe("15");
    expect(status.outputs?.parameters).toEqual([{ name: "final", value: "15" }]);
    expect(await fs.readFile(path.join(workdir, "resume-kill", "status"), "utf8")).toBe("Succeeded");
    await fs.rm(base, { recursive: true, force: true });
  }, 60_000);

  it("re-running a finished workflow by name reuses every succeeded step", async () => {
    const base = await fs.mkdtemp("/var/tmp/opflow-resume-");
    const journal = path.join(base, "journal.txt");
    const wf = chain(journal);
    const first = await runWorkflow(wf, { workdir: base, name: "again" });
    expect(first.status.phase).toBe("Succeeded");
    const second = await runWorkflow(wf, { workdir: base, name: "again" });
    expect(second.status.phase).toBe("Succeeded");
    expect(second.reusedNodes).toBe(Object.keys(first.status.nodes ?? {}).length);
    expect((await fs.readFile(journal, "utf8")).split("\n").filter((l) => l.startsWith("start"))).toHaveLength(3);
    expect(second.status.outputs?.parameters).toEqual([{ name: "final", value: "15" }]);
    await fs.rm(base, { recursive: true, force: true });
  });
});
