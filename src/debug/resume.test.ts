import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import type { Workflow } from "../argo/model.ts";
import { node, outParam } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";
import { LOCK_FILE, RunLockedError } from "./run-lock.ts";
import { StateTree } from "./state-tree.ts";
import { readRunStatus } from "./run-folder.ts";

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
    const before = await readRunStatus(path.join(workdir, "resume-kill"));
    expect(before.status.phase).toBe("Running");
    expect(before.engineAlive).toBe(false);
    // …and its lock, naming the dead engine: the next engine takes it over.
    const stale = JSON.parse(await fs.readFile(path.join(workdir, "resume-kill", LOCK_FILE), "utf8")) as { pid: number };
    expect(stale.pid).toBe(engine.pid);

    const { status, reusedNodes, resume } = await runWorkflow(YAML.parse(await fs.readFile(file, "utf8")) as Workflow, {
      workdir,
      name: "resume-kill",
      parameters: { wait: "0" },
    });
    expect(status.phase).toBe("Succeeded");
    // The steps that had succeeded, unchanged, are taken over; the rest (containers and s3) runs.
    expect(resume.reused.map((r) => [r.name, r.how])).toEqual([
      ["resume-kill[0].s1", "resumed"],
      ["resume-kill[1].s2", "resumed"],
    ]);
    expect(reusedNodes).toBe(2);
    expect(resume.rerun).toEqual([]);
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
    await expect(fs.access(path.join(workdir, "resume-kill", LOCK_FILE))).rejects.toThrow();
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
    // Every step is taken over (Steps and group nodes are walked again, which runs nothing).
    expect(second.reusedNodes).toBe(3);
    expect(second.resume.reused.map((r) => r.how)).toEqual(["resumed", "resumed", "resumed"]);
    expect(Object.keys(second.status.nodes ?? {}).sort()).toEqual(Object.keys(first.status.nodes ?? {}).sort());
    expect((await fs.readFile(journal, "utf8")).split("\n").filter((l) => l.startsWith("start"))).toHaveLength(3);
    expect(second.status.outputs?.parameters).toEqual([{ name: "final", value: "15" }]);
    await fs.rm(base, { recursive: true, force: true });
  });

  it("refuses a second engine on the same run at once, naming the first one's pid and host", async () => {
    const base = await fs.mkdtemp("/var/tmp/opflow-resume-");
    const journal = path.join(base, "journal.txt");
    const file = path.join(base, "chain.yaml");
    await fs.writeFile(file, YAML.stringify(chain(journal)));
    const workdir = path.join(base, "runs");
    const engine = spawn(process.execPath, [path.join(repo, "bin/opflow.mjs"), "run", file, "--name", "twin", "--workdir", workdir, "-p", "wait=60", "--quiet"], { cwd: base, stdio: "ignore" });
    try {
      const read = async (): Promise<string[]> => (await fs.readFile(journal, "utf8").catch(() => "")).split("\n").filter(Boolean);
      await waitFor(async () => (await read()).includes("start s3"), 20_000);
      const started = Date.now();
      const err = await runWorkflow(chain(journal), { workdir, name: "twin" }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err).toBeInstanceOf(RunLockedError);
      expect((err as Error).message).toMatch(new RegExp(`run "twin" is being run by another engine \\(pid ${engine.pid} on host `));
      // The refused engine touched nothing: no step ran twice, the first engine's files stand.
      expect((await read()).filter((l) => l === "start s1")).toHaveLength(1);
      expect((await fs.readFile(path.join(workdir, "twin", "engine.pid"), "utf8")).trim().split(" ")[0]).toBe(String(engine.pid));
      // The same from the command line: exit code 1 and the message.
      const cli = spawn(process.execPath, [path.join(repo, "bin/opflow.mjs"), "run", file, "--name", "twin", "--workdir", workdir, "--quiet"], { cwd: base, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      cli.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise((r) => cli.once("exit", r));
      expect(code).not.toBe(0);
      expect(stderr).toContain(`is being run by another engine (pid ${engine.pid} on host`);
    } finally {
      engine.kill("SIGKILL");
      await new Promise((r) => engine.once("exit", r));
      await fs.rm(base, { recursive: true, force: true });
    }
  }, 60_000);
});
