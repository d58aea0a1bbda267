/**
 * Init containers run, in order, before the main container and sidecars run beside it until it
 * ends, when Argo kills them (docs/walk-through/sidecars.md, docs/init-container? — upstream
 * examples/init-container.yaml, sidecar.yaml; workflow/executor kills sidecars once main ends).
 * They share the pod's files: here the step's folder and its volumes.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { manifest, node, outParam, removeWorkdirs, workdir } from "../../test/helpers/engine.ts";
import { namespacesAvailable } from "../executors/local-process.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

describe("init containers and sidecars", () => {
  it("runs init containers first, in order, and a sidecar beside the main container until it ends", async () => {
    const wf = manifest("pod-extra", [
      {
        name: "main",
        initContainers: [
          { name: "first", image: "alpine", command: ["sh", "-c", 'echo one > "$OPFLOW_ROOT/init"; echo init says hi'] },
          { name: "second", image: "alpine", command: ["sh", "-c", 'echo two >> "$OPFLOW_ROOT/init"'] },
        ],
        sidecars: [{ name: "helper", image: "alpine", command: ["sh", "-c", 'echo up > "$OPFLOW_ROOT/sidecar-up"; exec sleep 60'] }],
        container: {
          image: "alpine",
          command: ["sh", "-c", 'for i in $(seq 100); do [ -f "$OPFLOW_ROOT/sidecar-up" ] && break; sleep 0.1; done; cat "$OPFLOW_ROOT/init" "$OPFLOW_ROOT/sidecar-up"'],
        },
      },
    ]);
    const started = Date.now();
    const { status, dir } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "pod-extra").outputs?.result).toBe("one\ntwo\nup");
    // The sidecar was stopped when the main container ended, not after its 60 s.
    expect(Date.now() - started).toBeLessThan(20_000);
    // Each container logs to a file of its own.
    expect(await fs.readFile(path.join(dir, "_root", "init-first.log"), "utf8")).toBe("init says hi\n");
  });

  it("fails the pod when an init container fails, and never starts the main container", async () => {
    const wf = manifest("pod-init-fail", [
      { name: "main", initContainers: [{ name: "setup", image: "alpine", command: ["sh", "-c", "exit 3"] }], container: { image: "alpine", command: ["sh", "-c", 'touch "$OPFLOW_ROOT/ran"'] } },
    ]);
    const { status, dir } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    expect(node(status, "pod-init-fail").message).toBe('init container "setup" failed: exit code 3');
    await expect(fs.access(path.join(dir, "_root", "ran"))).rejects.toThrow();
  });
});

// Each container of a pod has its own root file system (the image's); only volumes are shared.
describe.skipIf(!namespacesAvailable())("containers of a pod with paths outside /tmp and /mnt", () => {
  it("give each container its own root at once, and read the outputs from the main container's", async () => {
    const out = `/opflow-canary-${process.pid}-${Date.now().toString(36)}`;
    const wf = manifest("pod-roots", [
      {
        name: "main",
        initContainers: [{ name: "setup", image: "alpine", command: ["sh", "-c", `echo init > ${out}`] }],
        sidecars: [{ name: "helper", image: "alpine", command: ["sh", "-c", `echo sidecar > ${out}; touch "$OPFLOW_ROOT/sidecar-up"; exec sleep 60`] }],
        container: {
          image: "alpine",
          command: ["sh", "-c", `for i in $(seq 100); do [ -f "$OPFLOW_ROOT/sidecar-up" ] && break; sleep 0.1; done; cat ${out} 2>/dev/null || echo none; echo main > ${out}`],
        },
        outputs: { parameters: [{ name: "o", valueFrom: { path: out } }] },
      },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    const n = node(status, "pod-roots");
    expect(n.phase, n.message).toBe("Succeeded");
    expect(n.outputs?.result).toBe("none");
    expect(outParam(n, "o")).toBe("main");
    expect(existsSync(out)).toBe(false);
  });
});
