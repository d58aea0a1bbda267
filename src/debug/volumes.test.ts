/**
 * Volumes as folders of the run: an `emptyDir` is a folder of the step, a claim (from
 * `volumeClaimTemplates` or an existing PVC name) a folder shared by the run's steps, mounted at
 * the container's `mountPath` (upstream examples/volumes-emptydir.yaml, volumes-pvc.yaml,
 * volumes-existing.yaml). Needs private mount namespaces (root with `unshare`).
 */
import { afterAll, describe, expect, it } from "vitest";
import { namespacesAvailable } from "../executors/local-process.ts";
import { manifest, node, removeWorkdirs, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);
const can = namespacesAvailable();

it.runIf(!can)("skips the volume tests: private mount namespaces are not available here (root and unshare)", () => {
  expect(can).toBe(false);
});

describe.runIf(can)("volumes", () => {
  it("mounts an emptyDir at its mountPath under /mnt (issue: exit code 125, mount point does not exist)", async () => {
    const wf = manifest(
      "vol-empty",
      [{ name: "main", container: { image: "alpine", command: ["sh", "-c"], args: ["grep -q ' /mnt/vol ' /proc/mounts && echo mounted > /mnt/vol/f && cat /mnt/vol/f"], volumeMounts: [{ name: "workdir", mountPath: "/mnt/vol" }] } }],
      { volumes: [{ name: "workdir", emptyDir: {} }] },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "vol-empty").outputs?.result).toBe("mounted");
  });

  it("shares a claim between the steps of a run", async () => {
    const mount = [{ name: "data", mountPath: "/mnt/data" }];
    const wf = manifest(
      "vol-claim",
      [
        { name: "main", steps: [[{ name: "write", template: "write" }], [{ name: "read", template: "read" }]] },
        { name: "write", container: { image: "alpine", command: ["sh", "-c", "echo shared > /mnt/data/f"], volumeMounts: mount } },
        { name: "read", container: { image: "alpine", command: ["sh", "-c", "cat /mnt/data/f"], volumeMounts: mount } },
      ],
      { volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }] },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "read").outputs?.result).toBe("shared");
  });
});
