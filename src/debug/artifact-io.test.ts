/**
 * Output directories holding symbolic links: Argo's executor archives a directory with tar,
 * which stores links as links (workflow/executor/executor.go saveArtifact → util/archive), so a
 * dangling link or one pointing out of the directory travels as it is and is never followed.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalStorageClient } from "../storage/local.ts";
import { ArtifactIO } from "./artifact-io.ts";
import { manifest, node, removeWorkdirs, sh, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

async function linkedDir(root: string): Promise<string> {
  const dir = path.join(root, "d");
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "real"), "hi\n");
  await fs.symlink("missing", path.join(dir, "dangling"));
  await fs.symlink("real", path.join(dir, "good"));
  return dir;
}

describe("output directories with symbolic links", () => {
  it("stores and restores links as links, dangling ones too, through storage and from the producer's folder", async () => {
    const root = await workdir();
    const dir = await linkedDir(root);
    const io = new ArtifactIO(new LocalStorageClient({ root: path.join(root, "store") }), "wf", path.join(root, "scratch"));
    const ref = await io.saveOutput("wf.a", "wf-1", { name: "d", path: "/tmp/d" }, dir);
    expect(ref?.artifact.s3?.key).toBe("wf/wf-1/d.tgz");
    for (const [label, r] of [["storage", { artifact: ref!.artifact }], ["local", ref!]] as const) {
      const dest = path.join(root, `in-${label}`);
      await io.loadInput("wf.b", "d", r, dest);
      expect(await fs.readlink(path.join(dest, "dangling")), label).toBe("missing");
      expect(await fs.readlink(path.join(dest, "good")), label).toBe("real");
      expect(await fs.readFile(path.join(dest, "good"), "utf8"), label).toBe("hi\n");
    }
  });

  it("passes a directory with a dangling link between steps (issue: ENOENT … stat)", async () => {
    const wf = manifest("links-test", [
      {
        name: "main",
        steps: [[{ name: "make", template: "make" }], [{ name: "use", template: "use", arguments: { artifacts: [{ name: "d", from: "{{steps.make.outputs.artifacts.d}}" }] } }]],
      },
      sh("make", 'mkdir -p "$OPFLOW_ROOT/d" && echo hi > "$OPFLOW_ROOT/d/real" && ln -s missing "$OPFLOW_ROOT/d/dangling" && ln -s ../../.. "$OPFLOW_ROOT/d/up"', {
        outputs: { artifacts: [{ name: "d", path: "/tmp/d" }] },
      }),
      sh("use", "readlink {{inputs.artifacts.d.path}}/dangling {{inputs.artifacts.d.path}}/up; cat {{inputs.artifacts.d.path}}/real", { inputs: { artifacts: [{ name: "d", path: "/tmp/in" }] } }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "use").outputs?.result).toBe("missing\n../../..\nhi");
  });
});
