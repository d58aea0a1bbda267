/**
 * The ten dflow reference workflows ported in examples/dflow/: each runs on the local engine and
 * gives what dflow's original gives; each renders to a manifest that passes the upstream CRD
 * check, and that `Workflow.fromManifest` and `opflow codegen` rebuild.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeStatus } from "../../src/argo/model.ts";
import { loadWorkflow } from "../../src/cli/load.ts";
import { canonicalManifest } from "../../src/workflow/manifest-equality.ts";
import { Workflow } from "../../src/workflow/workflow.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";

const dflowDir = fileURLToPath(new URL("../dflow", import.meta.url));
const ports = ["hello", "steps", "dag", "slices", "conditional", "retry", "recursive", "reuse", "wide-slices", "long-chains"];

let workdir: string;
beforeAll(async () => {
  workdir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-dflow-"));
});
afterAll(async () => {
  await fs.rm(workdir, { recursive: true, force: true });
});

async function run(example: string) {
  const mod = (await import(`../dflow/${example}.ts`)) as { default: Workflow };
  const result = await mod.default.run({ workdir, warn: () => {} });
  const nodes = Object.values(result.status.nodes ?? {});
  const out = (n: NodeStatus | undefined, p: string): string | undefined => n?.outputs?.parameters?.find((x) => x.name === p)?.value;
  const byName = (displayName: string): NodeStatus[] => nodes.filter((n) => n.displayName === displayName);
  /** A file a step wrote as an output artifact, from the run's state tree (`[i].<step>/outputs/artifacts/<name>`). */
  const artifact = async (step: string, name: string, file = ""): Promise<string> => {
    const dirs = await fs.readdir(result.dir);
    const dir = dirs.find((d) => d === step || d.endsWith(`.${step}`));
    if (!dir) throw new Error(`no folder of step ${step} in ${result.dir}: ${dirs.join(", ")}`);
    return fs.readFile(path.join(result.dir, dir, "outputs", "artifacts", name, file), "utf8");
  };
  return { result, nodes, out, byName, artifact };
}

describe("the dflow ports run on the local engine and give dflow's results", () => {
  it("has the ten ports", async () => {
    const files = (await fs.readdir(dflowDir)).filter((f) => f.endsWith(".ts")).map((f) => f.replace(/\.ts$/, ""));
    expect(files.sort()).toEqual([...ports].sort());
  });

  it("hello: msg × 3, the file × 3, the directory's files × 3", async () => {
    const { result, byName, out, artifact } = await run("hello");
    expect(result.status.phase).toBe("Succeeded");
    expect(out(byName("step")[0], "msg")).toBe("HelloHelloHello");
    expect(await artifact("step", "bar")).toBe("HiHiHi");
    expect(await artifact("step", "odir", "f1")).toBe("foofoofoo");
    expect(await artifact("step", "odir", "f2")).toBe("barbarbar");
  });

  it("steps: 1 → 2 → 4 in parallel, the file doubled each time", async () => {
    const { result, byName, out, artifact } = await run("steps");
    expect(result.status.phase).toBe("Succeeded");
    expect(out(byName("hello1")[0], "msg")).toBe("2");
    for (const s of ["hello2", "hello3"]) {
      expect(out(byName(s)[0], "msg")).toBe("4");
      expect(await artifact(s, "bar")).toBe("Hello\n".repeat(4));
    }
  });

  it("dag: hello1 depends on hello0 by the data it reads", async () => {
    const { result, byName, out } = await run("dag");
    expect(result.status.phase).toBe("Succeeded");
    const [h0, h1] = [byName("hello0")[0], byName("hello1")[0]];
    expect(out(h1, "msg")).toBe("2");
    expect(Date.parse(h1?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(h0?.finishedAt ?? ""));
  });

  it("slices: one step per file name, the stacked files read in item order", async () => {
    const { result, byName, out } = await run("slices");
    expect(result.status.phase).toBe("Succeeded");
    const check = byName("check")[0];
    expect(JSON.parse(out(check, "contents") ?? "[]")).toEqual(["foo", "foo"]);
    expect(JSON.parse(out(check, "names") ?? "[]")).toEqual(["f1.txt", "f2.txt"]);
    expect(byName("hello(0:0)").length + byName("hello(1:1)").length).toBe(2);
  });

  it("conditional: msg and res follow the same toss", async () => {
    const mod = (await import("../dflow/conditional.ts")) as typeof import("../dflow/conditional.ts");
    const r = await mod.default.run({ workdir, warn: () => {} });
    expect(r.status.phase).toBe("Succeeded");
    const outputs = r.outputs;
    expect(["head", "tail"]).toContain(outputs.msg);
    const file = await outputs.res.download(path.join(workdir, `res-${r.name}`));
    expect(await fs.readFile(file, "utf8")).toBe(outputs.msg);
  });

  it("retry: a transient error and a timeout are retried once and passed over; a fatal error is not retried and fails the workflow", async () => {
    const { result, nodes } = await run("retry");
    expect(result.status.phase).toBe("Failed");
    const attempts = (step: string): NodeStatus[] => {
      const retry = nodes.find((n) => n.displayName === step && n.type === "Retry");
      return nodes.filter((n) => retry?.children?.includes(n.id) && n.type === "Pod");
    };
    expect(attempts("hello0").map((n) => n.phase)).toEqual(["Failed", "Failed"]);
    expect(attempts("hello1").map((n) => n.phase)).toEqual(["Failed", "Failed"]);
    expect(attempts("hello1").every((n) => /deadline|timed out|timeout/i.test(n.message ?? ""))).toBe(true);
    expect(attempts("hello2")).toHaveLength(1);
    expect(attempts("hello2")[0]?.message).toMatch(/Goodbye/);
  }, 60_000);

  it("recursive: plus1 runs for 0, 1 and 2; the last gives 3", async () => {
    const { result, byName, out } = await run("recursive");
    expect(result.status.phase).toBe("Succeeded");
    const runs = byName("hello").filter((n) => n.type === "Pod");
    expect(runs.map((n) => out(n, "iter")).sort()).toEqual(["1", "2", "3"]);
    expect(byName("next").filter((n) => n.phase === "Skipped")).toHaveLength(1);
  });

  it("reuse: the second run takes over iter-0 and iter-1 (its output replaced by 3) and runs only iter-3 and iter-4", async () => {
    const { reuseDemo } = (await import("../dflow/reuse.ts")) as typeof import("../dflow/reuse.ts");
    const { first, second } = await reuseDemo({ workdir });
    expect(await first.phase()).toBe("Succeeded");
    expect(await second.phase()).toBe("Succeeded");
    const steps = async (h: typeof first) =>
      (await h.querySteps({ name: "plus1", type: "Pod" }))
        .map((s) => ({ key: s.key, reused: s.message?.startsWith("reused") ?? false, iter: s.outputs.parameters["iter"] }))
        .sort((a, b) => String(a.key).localeCompare(String(b.key)));
    expect((await steps(first)).map((s) => s.key)).toEqual(["iter-0", "iter-1", "iter-2", "iter-3", "iter-4"]);
    expect(await steps(second)).toEqual([
      { key: "iter-0", reused: true, iter: "1" },
      { key: "iter-1", reused: true, iter: "3" },
      { key: "iter-3", reused: false, iter: "4" },
      { key: "iter-4", reused: false, iter: "5" },
    ]);
  }, 60_000);

  it("wide slices: 100 files, one per step, measured and summed", async () => {
    const { result, nodes } = await run("wide-slices");
    expect(result.status.phase).toBe("Succeeded");
    expect((result.outputs as unknown as { sum: number }).sum).toBe(5050);
    expect(nodes.filter((n) => n.type === "Pod" && n.displayName?.startsWith("measure(")).length).toBe(100);
  }, 120_000);

  it("long chains: 100 steps one after another; the last gives 100", async () => {
    const { result, nodes } = await run("long-chains");
    expect(result.status.phase).toBe("Succeeded");
    expect((result.outputs as unknown as { last: number }).last).toBe(100);
    expect(nodes.filter((n) => n.type === "Pod")).toHaveLength(100);
  }, 120_000);
});

describe("the dflow ports' manifests", () => {
  it.skipIf(!haveArgoCheck)("pass the upstream CRD check (needs ../shared/argo)", async () => {
    const manifests = await Promise.all(ports.map(async (f) => (await loadWorkflow(path.join(dflowDir, `${f}.ts`))).manifest));
    const r = await argoCheck(manifests);
    expect(r.output).toMatch(new RegExp(`${ports.length} passed, 0 failed`));
  }, 180_000);

  it("round-trip through Workflow.fromManifest", async () => {
    for (const f of ports) {
      const { manifest } = await loadWorkflow(path.join(dflowDir, `${f}.ts`), { bundles: false });
      expect(canonicalManifest(Workflow.fromManifest(manifest).compile({ warn: () => {}, bundles: false })), f).toEqual(canonicalManifest(manifest));
    }
  }, 120_000);
});

describe("the dflow ports rebuilt from their manifests", () => {
  // The bindings of the prepare() that made a manifest let its OP templates run in-process again.
  for (const f of ["steps", "dag", "slices", "recursive", "long-chains"]) {
    it(`${f}: Workflow.fromManifest(manifest, { bindings }) runs as the original`, async () => {
      const mod = (await import(`../dflow/${f}.ts`)) as { default: Workflow };
      const { manifest, bindings } = mod.default.prepare({ bundles: false, warn: () => {} });
      const summary = (r: Awaited<ReturnType<Workflow["run"]>>): unknown => ({
        phase: r.status.phase,
        pods: Object.values(r.status.nodes ?? {})
          .filter((n) => n.type === "Pod")
          .map((n) => `${n.displayName}=${JSON.stringify(n.outputs?.parameters?.map((p) => p.value))}`)
          .sort(),
      });
      const original = await mod.default.run({ workdir, warn: () => {} });
      const rebuilt = await Workflow.fromManifest(manifest, { bindings }).run({ workdir, warn: () => {} });
      expect(summary(rebuilt)).toEqual(summary(original));
      expect(original.status.phase).toBe("Succeeded");
    }, 120_000);
  }
});

