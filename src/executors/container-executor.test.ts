/**
 * The container executor (podman) runs workflows as Argo pods would: every example in
 * examples/ on the local Node image, which has no opflow inside (OP templates go through their
 * bundles), with the same outputs as in-process; and Argo's upstream examples in busybox-style
 * images. Skipped, saying why, where podman cannot run containers.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeStatus, Workflow as ArgoWorkflow } from "../argo/model.ts";
import { runWorkflow } from "../debug/run.ts";
import { ContainerExecutor, defaultPodman, imageExists, parseImageMap } from "./container.ts";
import { BUSYBOX_IMAGE, NODE_IMAGE, PYTHON_IMAGE, ensureImage, podmanSkipReason } from "./_test-images.ts";
import type { Workflow } from "../workflow/workflow.ts";
import { EXAMPLES_DIR, exampleFiles } from "../../test/example-files.ts";
import { SHARED_ARGO_DIR } from "../../test/fake-kube-server.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const examples = exampleFiles();
const upstreamDir = path.join(SHARED_ARGO_DIR, "examples");
const upstream = fs.existsSync(upstreamDir) ? fs.readdirSync(upstreamDir).filter((f) => f.endsWith(".yaml")).sort() : [];
if (upstream.length === 0) console.warn(`upstream examples skipped: ${upstreamDir} is absent`);

const skip = podmanSkipReason();
if (skip) console.warn(`container executor tests skipped: ${skip}`);

let workdir: string;
beforeAll(() => {
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-container-run-"));
  if (!skip) {
    ensureImage(NODE_IMAGE);
    ensureImage(BUSYBOX_IMAGE);
    ensureImage(PYTHON_IMAGE);
  }
}, 300_000);
afterAll(() => fs.rmSync(workdir, { recursive: true, force: true }));

/** What a run produced, comparable across executors: every pod's phase and parameters, and the output artifact files. */
function outcome(dir: string, nodes: readonly NodeStatus[]): string[] {
  const lines: string[] = [];
  for (const n of nodes.filter((x) => x.type === "Pod")) lines.push(`${n.displayName} ${n.phase} ${JSON.stringify(n.outputs?.parameters ?? [])}`);
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p, r);
      else if (e.isFile() && /\/outputs\/artifacts\//.test(r)) lines.push(`${r}: ${fs.readFileSync(p, "utf8")}`);
    }
  };
  walk(dir, "");
  return lines.sort();
}

describe.skipIf(skip !== undefined)(`the container executor${skip ? ` (skipped: ${skip})` : ""}`, () => {
  // The examples name node:20-slim (OP templates), busybox:1.36 and python:3.12-alpine (script-slices.ts).
  const executor = new ContainerExecutor({ images: parseImageMap([`node:20-slim=${NODE_IMAGE}`, `busybox:1.36=${BUSYBOX_IMAGE}`, `python:3.12-alpine=${PYTHON_IMAGE}`]) });

  it(`uses ${NODE_IMAGE}, which has node and no opflow`, () => {
    const conf = defaultPodman().containersConf;
    const probe = "import('opflow').then(() => console.log('opflow found'), () => console.log('no opflow: ' + process.version))";
    const r = spawnSync("podman", ["run", "--rm", "--network=none", NODE_IMAGE, "node", "-e", probe], { encoding: "utf8", env: { ...process.env, ...(conf ? { CONTAINERS_CONF: conf } : {}) } });
    expect(r.stdout.trim()).toBe(`no opflow: ${process.version}`);
  });

  for (const f of examples) {
    it(`runs examples/${f} on ${NODE_IMAGE} (no opflow inside) with the outputs of the in-process run`, async () => {
      const wf = ((await import(path.join(EXAMPLES_DIR, f))) as { default: Workflow }).default;
      const inProcess = await wf.run({ workdir: path.join(workdir, "in-process"), warn: () => {} });
      const contained = await wf.run({ workdir: path.join(workdir, "container"), warn: () => {}, executor });
      expect(inProcess.status.phase).toBe("Succeeded");
      expect(contained.status.phase, JSON.stringify(Object.values(contained.status.nodes ?? {}).map((n) => n.message).filter(Boolean))).toBe("Succeeded");
      expect(outcome(contained.dir, Object.values(contained.status.nodes ?? {}))).toEqual(outcome(inProcess.dir, Object.values(inProcess.status.nodes ?? {})));
      // The pods of OP templates (those the in-process run called as bindings) ran their
      // bundle, brought as an input artifact; script templates ran their scripts.
      const manifest = YAML.parse(fs.readFileSync(path.join(contained.dir, "manifest.yaml"), "utf8")) as ArgoWorkflow;
      const opTemplates = new Set((manifest.spec.templates ?? []).filter((t) => [...(t.container?.command ?? []), ...(t.container?.args ?? [])].some((a) => a.startsWith("/tmp/opflow/"))).map((t) => t.name));
      const pods = Object.values(contained.status.nodes ?? {}).filter((n) => n.type === "Pod" && n.phase === "Succeeded");
      expect(pods.length).toBeGreaterThan(0);
      for (const p of pods.filter((n) => opTemplates.has(n.templateName ?? ""))) expect(p.inputs?.artifacts?.some((a) => a.name === "opflow-bundle" && /^opflow-bundles\/[0-9a-f]{20}\.mjs$/.test(a.s3?.key ?? ""))).toBe(true);
      if (f !== "script-slices.ts") expect(pods.some((n) => opTemplates.has(n.templateName ?? ""))).toBe(true);
    }, 180_000);
  }

  it("gives a pod its template's environment only, its limits, and stops it at its deadline", async () => {
    process.env["OPFLOW_TEST_HOST_ONLY"] = "leaked";
    try {
      const manifest: ArgoWorkflow = {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Workflow",
        metadata: { name: "pod-settings" },
        spec: {
          entrypoint: "main",
          templates: [
            { name: "main", steps: [[{ name: "show", template: "show" }, { name: "slow", template: "slow" }]] },
            {
              name: "show",
              container: {
                image: "busybox",
                command: ["sh", "-c"],
                args: ['echo "host=${OPFLOW_TEST_HOST_ONLY:-none} mine=$MINE"; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'],
                env: [{ name: "MINE", value: "set" }],
                resources: { limits: { memory: "64Mi", cpu: "500m" } },
              },
            },
            { name: "slow", timeout: "2s", container: { image: "busybox", command: ["sleep", "60"] } },
          ],
        },
      };
      const started = Date.now();
      const r = await runWorkflow(manifest, { workdir: path.join(workdir, "settings"), executor: new ContainerExecutor({ images: parseImageMap([`busybox=${BUSYBOX_IMAGE}`]) }) });
      const nodes = Object.values(r.status.nodes ?? {});
      const show = nodes.find((n) => n.displayName === "show");
      expect(show?.phase).toBe("Succeeded");
      expect(show?.outputs?.result).toBe(`host=none mine=set\n${64 * 2 ** 20}`);
      const slow = nodes.find((n) => n.displayName === "slow");
      expect(slow?.phase).toBe("Failed");
      expect(slow?.message).toMatch(/deadline/);
      expect(Date.now() - started).toBeLessThan(40_000);
    } finally {
      delete process.env["OPFLOW_TEST_HOST_ONLY"];
    }
  }, 120_000);

  it("gives a pod its own file system at paths outside /tmp and /mnt: inputs bound there, outputs read from there, never this machine's", async () => {
    const absent = `/opflow-canary-${process.pid}-${Date.now().toString(36)}`;
    const manifest: ArgoWorkflow = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { name: "own-paths" },
      spec: {
        entrypoint: "main",
        templates: [
          { name: "main", steps: [[{ name: "write", template: "write" }], [{ name: "read", template: "read", arguments: { artifacts: [{ name: "in", from: "{{steps.write.outputs.artifacts.dir}}" }] } }]] },
          {
            name: "write",
            container: { image: "busybox", command: ["sh", "-c"], args: [`mkdir -p /output ${absent} && echo x > /output/x && echo 42 > /result && echo deep > ${absent}/deep && ls /bin/sh`] },
            outputs: { parameters: [{ name: "x", valueFrom: { path: "/output/x" } }, { name: "r", valueFrom: { path: "/result" } }], artifacts: [{ name: "dir", path: absent }] },
          },
          { name: "read", inputs: { artifacts: [{ name: "in", path: `${absent}-in` }] }, container: { image: "busybox", command: ["sh", "-c"], args: [`cat ${absent}-in/deep`], workingDir: `${absent}-wd` } },
        ],
      },
    };
    const r = await runWorkflow(manifest, { workdir: path.join(workdir, "own-paths"), executor: new ContainerExecutor({ images: parseImageMap([`busybox=${BUSYBOX_IMAGE}`]) }) });
    const nodes = Object.values(r.status.nodes ?? {});
    expect(r.status.phase, JSON.stringify(nodes.map((n) => n.message).filter(Boolean))).toBe("Succeeded");
    const write = nodes.find((n) => n.displayName === "write");
    expect(write?.outputs?.parameters).toEqual([{ name: "x", value: "x" }, { name: "r", value: "42" }]);
    expect(nodes.find((n) => n.displayName === "read")?.outputs?.result).toBe("deep");
    for (const p of [absent, `${absent}-in`, `${absent}-wd`]) expect(fs.existsSync(p), p).toBe(false);
  }, 120_000);

  const images = parseImageMap([`busybox=${BUSYBOX_IMAGE}`, `alpine:3.23=${BUSYBOX_IMAGE}`, "python:alpine3.23=localhost/opflow-python:3", "argoproj/argosay:v1=localhost/opflow-argosay:v1"]);
  for (const f of upstream) {
    it(`runs Argo's upstream ${f} in busybox-style images`, async () => {
      const text = fs.readFileSync(path.join(upstreamDir, f), "utf8");
      if (/python:|argosay/.test(text) && !(imageExists("localhost/opflow-python:3") && imageExists("localhost/opflow-argosay:v1"))) {
        const r = spawnSync("bash", [path.join(here, "../../scripts/make-upstream-images.sh")], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
      }
      const result = await runWorkflow(YAML.parse(text) as ArgoWorkflow, { workdir: path.join(workdir, "upstream"), executor: new ContainerExecutor({ images }) });
      // retry-backoff fails at random by design (Argo ends it Succeeded or Failed).
      const expected = f === "retry-backoff.yaml" ? ["Succeeded", "Failed"] : ["Succeeded"];
      expect(expected, JSON.stringify(Object.values(result.status.nodes ?? {}).map((n) => n.message).filter(Boolean))).toContain(result.status.phase);
    }, 180_000);
  }
});
