import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Executor, PodEnd, PodSpec } from "../executors/executor.ts";
import { LocalProcessExecutor } from "../executors/local-process.ts";
import { manifest, node, outParam, workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

/** Records the specs it is given; runs them as local processes unless `end` says how they end. */
class RecordingExecutor implements Executor {
  readonly name = "recording";
  readonly specs: PodSpec[] = [];
  private readonly local = new LocalProcessExecutor(false);
  constructor(
    readonly mounts: Executor["mounts"] = "never",
    private readonly end?: PodEnd,
  ) {}
  run(spec: PodSpec): Promise<PodEnd> {
    this.specs.push(spec);
    return this.end ? Promise.resolve(this.end) : this.local.run(spec);
  }
}

describe("the Executor seam", () => {
  it("gives the executor the resolved pod spec and collects the outputs from the step's folder", async () => {
    const executor = new RecordingExecutor();
    const wf = manifest("seam", [
      {
        name: "main",
        inputs: { parameters: [{ name: "x", value: "7" }] },
        outputs: { parameters: [{ name: "y", valueFrom: { path: "/tmp/y" } }] },
        activeDeadlineSeconds: 60,
        container: {
          image: "alpine:3",
          command: ["sh", "-c"],
          args: ['echo "{{inputs.parameters.x}}" > {{outputs.parameters.y.path}}; echo hi'],
          env: [{ name: "E", value: "e" }],
          resources: { limits: { cpu: 2, memory: "1Gi" } },
        },
      },
    ]);
    const { status, dir } = await runWorkflow(wf, { workdir: await workdir(), executor });
    expect(status.phase).toBe("Succeeded");
    const pod = node(status, "seam");
    expect(outParam(pod, "y")).toBe("7");
    expect(pod.outputs?.result).toBe("hi");
    expect(executor.specs).toHaveLength(1);
    const spec = executor.specs[0] as PodSpec;
    expect(spec).toMatchObject({ name: pod.id, template: "main", image: "alpine:3", resources: { limits: { cpu: "2", memory: "1Gi" } }, timeoutMs: 60_000, mounts: [], parameters: { x: "7" } });
    expect(path.dirname(spec.dir)).toBe(dir);
    expect(spec.command).toEqual(["sh", "-c", `echo "7" > ${path.join(spec.dir, "y")}; echo hi`]);
    expect(spec.env).toMatchObject({ E: "e", OPFLOW_ROOT: spec.dir });
    expect(spec.workingDir).toBe(path.join(spec.dir, "workdir"));
    expect(spec.logFile).toBe(path.join(spec.dir, "log.txt"));
  });

  it("mounts the step's folder on /tmp for an executor that always mounts, and paths are the pod's", async () => {
    const executor = new RecordingExecutor("always", { exitCode: 0, stdout: "", timedOut: false, aborted: false });
    const wf = manifest("mounted", [{ name: "main", script: { image: "alpine:3", command: ["sh"], source: "cat {{inputs.parameters.x}}" }, inputs: { parameters: [{ name: "x", value: "v" }] } }]);
    const { status } = await runWorkflow(wf, { workdir: await workdir(), executor });
    expect(status.phase).toBe("Succeeded");
    const spec = executor.specs[0] as PodSpec;
    expect(spec.command).toEqual(["sh", "/tmp/script"]);
    expect(spec.mounts).toContainEqual({ source: spec.dir, target: "/tmp" });
    expect(spec.env).toMatchObject({ OPFLOW_ROOT: "/tmp", ARGO_PROGRESS_FILE: "/tmp/progress" });
    expect(spec.workingDir).toBe("/tmp/workdir");
    expect(await fs.readFile(path.join(spec.dir, "script"), "utf8")).toBe("cat v");
  });

  it("ends the step Error when the executor cannot start the pod, and Failed with its message when it fails", async () => {
    const cannot = new RecordingExecutor("never", { exitCode: 1, stdout: "", timedOut: false, aborted: false, startError: "no such image" });
    const a = await runWorkflow(manifest("cannot", [{ name: "main", container: { image: "x", command: ["true"] } }]), { workdir: await workdir(), executor: cannot });
    expect(node(a.status, "cannot")).toMatchObject({ phase: "Error", message: "no such image" });
    const fails = new RecordingExecutor("never", { exitCode: 2, stdout: "", timedOut: false, aborted: false, message: "out of memory" });
    const b = await runWorkflow(manifest("fails", [{ name: "main", container: { image: "x", command: ["true"] } }]), { workdir: await workdir(), executor: fails });
    expect(node(b.status, "fails")).toMatchObject({ phase: "Failed", message: "out of memory" });
    expect(node(b.status, "fails").outputs?.exitCode).toBe("2");
  });
});
