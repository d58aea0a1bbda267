import fs from "node:fs/promises";
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { manifest, node, outParam, removeWorkdirs, sh, workdir } from "../../test/helpers/engine.ts";
import { namespacesAvailable } from "../executors/local-process.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

// Argo's executor reads outputs from the container's own file system (workflow/executor/executor.go
// SaveParameters / saveArtifact), whose root is the default working directory of most images:
// upstream examples/conditional-artifacts.yaml writes "result.txt" and declares /result.txt.
describe("outputs declared outside /tmp and /mnt", () => {
  it("are found where the step wrote them relative to its working directory", async () => {
    const wf = manifest("outside-test", [
      sh("main", "echo 42 > output && mkdir -p data && echo it > data/x && printf heads > result.txt", {
        outputs: {
          parameters: [{ name: "p", valueFrom: { path: "/output" } }],
          artifacts: [
            { name: "r", path: "/result.txt" },
            { name: "d", path: "/data" },
          ],
        },
      }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    const n = node(status, "outside-test");
    expect(outParam(n, "p")).toBe("42");
    expect(n.outputs?.artifacts?.map((a) => a.name)).toEqual(["r", "d"]);
  });

  it("still fails a step whose declared output is nowhere, naming the path", async () => {
    const wf = manifest("outside-missing", [sh("main", "true", { outputs: { parameters: [{ name: "p", valueFrom: { path: "/opflow-no-such-output-7c1" } }] } })]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Error");
    expect(node(status, "outside-missing").message).toContain("/opflow-no-such-output-7c1 does not exist and has no default");
  });
});

// A container's file system is its own: `/output` written by the command is the container's,
// read by Argo's executor from there (workflow/executor/executor.go), never the node's. With
// private mount namespaces a local process gets its own root too, backed by <step>/fs.
const NAMESPACES = namespacesAvailable();
describe.skipIf(!NAMESPACES)(`paths outside /tmp and /mnt written literally${NAMESPACES ? "" : " (skipped: needs root and unshare)"}`, () => {
  it("are the pod's own: outputs read from the step's folder, inputs laid out there, this machine's files untouched", async () => {
    const canary = await fs.mkdtemp("/var/tmp/opflow-out-canary-");
    const absent = `/opflow-canary-${process.pid}-${Date.now().toString(36)}`;
    try {
      await fs.writeFile(`${canary}/out.txt`, "host's");
      const before = (await fs.stat(`${canary}/out.txt`)).mtimeMs;
      const wf = manifest("literal", [
        {
          name: "main",
          steps: [[{ name: "write", template: "write" }], [{ name: "read", template: "read", arguments: { artifacts: [{ name: "in", from: "{{steps.write.outputs.artifacts.made}}" }] } }]],
        },
        sh("write", `echo pod > ${canary}/out.txt && echo 42 > ${absent}`, {
          outputs: { parameters: [{ name: "p", valueFrom: { path: `${canary}/out.txt` } }, { name: "q", valueFrom: { path: absent } }], artifacts: [{ name: "made", path: absent }] },
        }),
        sh("read", `cat ${absent}-in`, { inputs: { artifacts: [{ name: "in", path: `${absent}-in` }] } }),
      ]);
      const { status } = await runWorkflow(wf, { workdir: await workdir() });
      expect(status.phase, JSON.stringify(Object.values(status.nodes ?? {}).map((n) => n.message).filter(Boolean))).toBe("Succeeded");
      expect(outParam(node(status, "write"), "p")).toBe("pod");
      expect(outParam(node(status, "write"), "q")).toBe("42");
      expect(node(status, "read").outputs?.result).toBe("42");
      expect(await fs.readFile(`${canary}/out.txt`, "utf8")).toBe("host's");
      expect((await fs.stat(`${canary}/out.txt`)).mtimeMs).toBe(before);
      expect(existsSync(absent)).toBe(false);
      expect(existsSync(`${absent}-in`)).toBe(false);
    } finally {
      await fs.rm(canary, { recursive: true, force: true });
    }
  });
});
