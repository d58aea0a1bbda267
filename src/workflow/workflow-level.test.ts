/**
 * Workflow-level settings: lifecycle hooks (`spec.hooks`), global parameters
 * (`globalParam`, `{{workflow.parameters.x}}`), workflow retries, workflow metadata and the
 * pass-through pod settings — their manifest, the upstream CRD check, local engine runs, and
 * the refusal of bad input.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { NodeStatus } from "../argo/model.ts";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import { opflow } from "../../test/cli-capture.ts";
import { LocalObjects } from "../debug/local-objects.ts";
import { param } from "../op/signature.ts";
import { ShellOPTemplate } from "../template/script-template.ts";
import { Step, lifecycleHook } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { globalParam } from "./global-param.ts";
import { Workflow } from "./workflow.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function workdir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-wflevel-"));
  dirs.push(d);
  return d;
}
const quiet = { warn: () => {}, bundles: false } as const;

const work = new ShellOPTemplate({ name: "work", inputs: { fail: param(z.boolean()) }, source: 'sleep 1.5; [ "$fail" = true ] && exit 1; true' });
const notify = new ShellOPTemplate({ name: "notify", inputs: { what: param(z.string()) }, source: 'echo "$what"; date +%s%N' });

function hooked(fail: boolean, name: string): Workflow {
  const main = new Steps({ name: "main" });
  main.add(new Step("a", work, { parameters: { fail } }));
  return new Workflow({
    name,
    entrypoint: main,
    hooks: {
      running: lifecycleHook(notify, { when: (w) => w.status.eq("Running"), parameters: { what: "running" } }),
      succeeded: lifecycleHook(notify, { when: (w) => w.status.eq("Succeeded"), parameters: { what: "succeeded" } }),
      failed: lifecycleHook(notify, { when: (w) => w.status.eq("Failed"), parameters: { what: "failed" } }),
      exit: lifecycleHook(notify, { parameters: { what: "exit" } }),
    },
  });
}

const byName = (nodes: Record<string, NodeStatus> | undefined, name: string): NodeStatus[] => Object.values(nodes ?? {}).filter((n) => n.displayName === name);
const stamp = (n: NodeStatus | undefined): bigint => BigInt((n?.outputs?.result ?? "").split("\n")[1] ?? "0");

describe("workflow lifecycle hooks", () => {
  it("compile to spec.hooks with expr-lang conditions on workflow.status; hooks.exit is the exit handler", () => {
    const spec = hooked(false, "hooks-m").compile(quiet).spec;
    expect(spec.hooks).toEqual({
      running: { template: "notify", expression: '(workflow.status == "Running")', arguments: { parameters: [{ name: "what", value: "running" }] } },
      succeeded: { template: "notify", expression: '(workflow.status == "Succeeded")', arguments: { parameters: [{ name: "what", value: "succeeded" }] } },
      failed: { template: "notify", expression: '(workflow.status == "Failed")', arguments: { parameters: [{ name: "what", value: "failed" }] } },
      exit: { template: "notify", arguments: { parameters: [{ name: "what", value: "exit" }] } },
    });
    expect(spec.templates?.map((t) => t.name).sort()).toEqual(["main", "notify", "work"]);
  });

  for (const fail of [false, true]) {
    it(`run on the local engine as Argo runs them: the main tree ${fail ? "fails" : "succeeds"}`, async () => {
      const { status } = await hooked(fail, `hooks-${fail ? "f" : "s"}`).run({ workdir: await workdir() });
      expect(status.phase).toBe(fail ? "Failed" : "Succeeded");
      const nodes = status.nodes;
      // Each hook fires once: one node by its name, whatever the reconciles in between.
      const running = byName(nodes, `hooks-${fail ? "f" : "s"}.hooks.running`);
      expect(running).toHaveLength(1);
      expect(running[0]?.outputs?.result?.split("\n")[0]).toBe("running");
      const end = byName(nodes, `hooks-${fail ? "f" : "s"}.hooks.${fail ? "failed" : "succeeded"}`);
      expect(end).toHaveLength(1);
      expect(end[0]?.phase).toBe("Succeeded");
      expect(byName(nodes, `hooks-${fail ? "f" : "s"}.hooks.${fail ? "succeeded" : "failed"}`)).toHaveLength(0);
      // The exit handler runs after the end hook (it waits for the hooks that fired).
      const exit = byName(nodes, `hooks-${fail ? "f" : "s"}.onExit`)[0];
      expect(exit?.outputs?.result?.split("\n")[0]).toBe("exit");
      expect(stamp(exit)).toBeGreaterThan(stamp(end[0]));
      // The running hook ran while the main tree did: before it ended.
      const a = Object.values(nodes ?? {}).find((n) => n.displayName === "a");
      expect(Date.parse(running[0]?.startedAt ?? "")).toBeLessThanOrEqual(Date.parse(a?.finishedAt ?? ""));
    }, 60_000);
  }

  it("a failing hook leaves the workflow's phase alone", async () => {
    const bad = new ShellOPTemplate({ name: "bad", source: "exit 3" });
    const main = new Steps({ name: "main" });
    main.add(new Step("a", work, { parameters: { fail: false } }));
    const wf = new Workflow({ name: "hook-fails", entrypoint: main, hooks: { done: lifecycleHook(bad, { when: (w) => w.status.eq("Succeeded") }) } });
    const { status } = await wf.run({ workdir: await workdir() });
    expect(byName(status.nodes, "hook-fails.hooks.done")[0]?.phase).toBe("Failed");
    expect(status.phase).toBe("Succeeded");
  }, 60_000);

  it("a hook expression that cannot be evaluated errors the workflow, as Argo does; the exit handler still runs", async () => {
    const main = new Steps({ name: "main" });
    main.add(new Step("a", work, { parameters: { fail: false } }));
    const wf = new Workflow({
      name: "hook-bad-expr",
      entrypoint: main,
      hooks: { odd: lifecycleHook(notify, { when: 'nosuch == "x"', parameters: { what: "odd" } }), exit: lifecycleHook(notify, { parameters: { what: "exit" } }) },
    });
    const { status } = await wf.run({ workdir: await workdir() });
    expect(status.phase).toBe("Error");
    expect(status.message).toMatch(/spec\.hooks\.odd: expression "nosuch == \\"x\\"": .*unknown name nosuch/);
    expect(byName(status.nodes, "hook-bad-expr.onExit")[0]?.phase).toBe("Succeeded");
  }, 60_000);

  it("refuse bad hooks, naming the workflow and the hook", () => {
    const main = new Steps({ name: "main" });
    expect(() => new Workflow({ entrypoint: main, hooks: { later: lifecycleHook(notify, { parameters: { what: "x" } }) } })).toThrow(/Workflow: hook "later" needs a condition/);
    expect(() => new Workflow({ entrypoint: main, hooks: { Bad: lifecycleHook(notify, { when: "true", parameters: { what: "x" } }) } })).toThrow(/Workflow: hook name "Bad" is invalid/);
    expect(() => new Workflow({ entrypoint: main, onExit: notify, hooks: { exit: lifecycleHook(notify, { parameters: { what: "x" } }) } })).toThrow(/onExit and hooks.exit are both given/);
    // A step's output is out of a workflow hook's scope.
    const a = new Step("a", work, { parameters: { fail: false } });
    main.add(a);
    const wf = new Workflow({ entrypoint: main, hooks: { x: lifecycleHook(notify, { when: a.status.eq("Failed"), parameters: { what: "x" } }) } });
    expect(() => wf.compile(quiet)).toThrow(/Workflow: hooks: refers to status of step "a", which is out of scope/);
  });
});

const echo = new ShellOPTemplate({ name: "echo", inputs: { n: param(z.number()), region: param(z.string()) }, source: 'echo "$region:$n"' });

function withGlobals(values: { n?: number; region?: "eu" | "us" } = {}) {
  const n = globalParam("n", z.number().int(), { default: 2, description: "how many" });
  const region = globalParam("region", z.enum(["eu", "us"]), { default: "eu" });
  const main = new Steps({ name: "main" });
  main.add(new Step("show", echo, { parameters: { n, region } }));
  main.add(new Step("big", echo, { parameters: { n, region: "x" }, when: n.gt(3) }));
  return new Workflow({
    name: "globals",
    entrypoint: main,
    globals: [values.n !== undefined ? n.withValue(values.n) : n, values.region ? region.withValue(values.region) : region],
  });
}

describe("global parameters", () => {
  it("are declared in spec.arguments with their values and read as workflow.parameters.* anywhere", () => {
    const spec = withGlobals({ region: "us" }).compile(quiet).spec;
    expect(spec.arguments?.parameters).toEqual([
      { name: "n", value: "2", description: "how many" },
      { name: "region", value: "us", enum: ["eu", "us"] },
    ]);
    const steps = spec.templates?.find((t) => t.name === "main")?.steps;
    expect(steps?.[0]?.[0]?.arguments?.parameters).toEqual([
      { name: "n", value: "{{workflow.parameters.n}}" },
      { name: "region", value: "{{workflow.parameters.region}}" },
    ]);
    expect(steps?.[1]?.[0]?.when).toBe("{{=(asInt(workflow.parameters.n) > 3)}}");
  });

  it("run on the local engine, with the engine's parameters (opflow run -p) overriding them", async () => {
    const first = await withGlobals().run({ workdir: await workdir() });
    expect(first.status.phase).toBe("Succeeded");
    expect(byName(first.status.nodes, "show")[0]?.outputs?.result).toBe("eu:2");
    expect(byName(first.status.nodes, "big")[0]?.phase).toBe("Skipped");
    const second = await withGlobals().run({ workdir: await workdir(), parameters: { n: "5", region: "us" } });
    expect(byName(second.status.nodes, "show")[0]?.outputs?.result).toBe("us:5");
    expect(byName(second.status.nodes, "big")[0]?.phase).toBe("Succeeded");
    // Argo's enum: a value outside it is refused.
    const bad = await withGlobals().run({ workdir: await workdir(), parameters: { region: "mars" } });
    expect(bad.status.phase).toBe("Error");
    expect(bad.status.message).toMatch(/parameter "region" must be one of \["eu","us"\], got "mars"/);
  }, 60_000);

  it("refuse bad declarations, naming the parameter", () => {
    expect(() => globalParam("bad name", z.string())).toThrow(/global parameter name "bad name" is invalid/);
    expect(() => globalParam("n", z.number(), { default: "x" as never })).toThrow(/global parameter "n": default "x" does not match the schema/);
    const n = globalParam("n", z.number());
    expect(() => n.withValue("x" as never)).toThrow(/global parameter "n": value "x" does not match/);
    const main = new Steps({ name: "main" });
    expect(() => new Workflow({ entrypoint: main, globals: [n] })).toThrow(/global parameter "n": has no value/);
    expect(() => new Workflow({ entrypoint: main, globals: [n.withValue(1), n.withValue(2)] })).toThrow(/global parameter "n" is listed twice/);
    // Used but not listed in globals: the compiler warns.
    const used = new Steps({ name: "main" });
    used.add(new Step("show", echo, { parameters: { n, region: "x" } }));
    const warnings: string[] = [];
    new Workflow({ entrypoint: used }).compile({ bundles: false, warn: (w) => warnings.push(w) });
    expect(warnings).toContain("Workflow: templates read {{workflow.parameters.n}}, which the workflow does not declare (Argo refuses that unless -p gives it); list the globalParam in `globals`");
    const takesN = new Steps({ name: "takes", inputs: { n: param(z.number()) } });
    expect(() => new Workflow({ entrypoint: takesN, parameters: { n: 1 }, globals: [n.withValue(1)] })).toThrow(/global parameter "n" has the name of an input of the entrypoint "takes"/);
  });

  it("opflow run -p overrides them; an unknown name is refused, naming the globals", async () => {
    const repo = fileURLToPath(new URL("../..", import.meta.url));
    // Inside the repository, so that the module resolves zod.
    const dir = await fs.mkdtemp(path.join(repo, ".wflevel-test-"));
    dirs.push(dir);
    const file = path.join(dir, "globals.ts");
    await fs.writeFile(
      file,
      `import { z } from "zod";
import { ShellOPTemplate, Step, Steps, Workflow, globalParam } from ${JSON.stringify(path.join(repo, "src/index.ts"))};
const n = globalParam("n", z.number().int(), { default: 2 });
const main = new Steps({ name: "main" });
main.add(new Step("big", new ShellOPTemplate({ name: "fail", source: "exit 3" }), { when: n.gt(5) }));
export default new Workflow({ generateName: "g-", entrypoint: main, globals: [n] });
`,
    );
    const wd = await workdir();
    const small = await opflow("run", file, "--workdir", wd, "-q");
    expect(small.code, small.stderr).toBe(0);
    const big = await opflow("run", file, "--workdir", wd, "-q", "-p", "n=7");
    expect(big.code).toBe(1);
    const typo = await opflow("run", file, "--workdir", wd, "-q", "-p", "m=7");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('-p m: the workflow takes no parameter "m"; it takes: n');
  }, 120_000);

  it("may come from a ConfigMap key, with a default; the local engine reads it from its objects", async () => {
    const g = globalParam("msg", z.string(), { default: "hi", fromConfigMap: { name: "cm", key: "msg" } });
    expect(g.toArgoParameter()).toEqual({ name: "msg", valueFrom: { configMapKeyRef: { name: "cm", key: "msg" }, default: "hi" } });
    const say = new ShellOPTemplate({ name: "say", inputs: { m: param(z.string()) }, source: 'echo "$m"' });
    const build = () => {
      const main = new Steps({ name: "main" });
      main.add(new Step("say", say, { parameters: { m: g } }));
      return new Workflow({ name: "from-cm", entrypoint: main, globals: [g] });
    };
    const cm = new LocalObjects([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { msg: "from the map" } }]);
    const withMap = await build().run({ workdir: await workdir(), objects: cm });
    expect(byName(withMap.status.nodes, "say")[0]?.outputs?.result).toBe("from the map");
    const without = await build().run({ workdir: await workdir() });
    expect(byName(without.status.nodes, "say")[0]?.outputs?.result).toBe("hi");
  }, 60_000);
});

describe("workflow retries, metadata and pod settings", () => {
  const build = () => {
    const main = new Steps({ name: "main" });
    const region = globalParam("region", z.string(), { default: "eu" });
    main.add(new Step("a", new ShellOPTemplate({ name: "lbl", source: 'echo "{{workflow.labels.team}}/{{workflow.labels.region}}"' }), {}));
    return new Workflow({
      name: "fields",
      entrypoint: main,
      globals: [region],
      retry: { limit: 2, on: "error" },
      workflowMetadata: { labels: { team: "ml" }, labelsFrom: { region } },
      podMetadata: { labels: { app: "x" }, annotations: { note: "y" } },
      nodeSelector: { disk: "ssd" },
      tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
      affinity: { nodeAffinity: {} },
      securityContext: { runAsNonRoot: true, runAsUser: 8737 },
      podPriorityClassName: "high",
      priority: 3,
      hostAliases: [{ ip: "127.0.0.1", hostnames: ["foo.local"] }],
      dnsConfig: { nameservers: ["1.2.3.4"] },
      dnsPolicy: "None",
      podDisruptionBudget: { minAvailable: 1 },
      archiveLogs: true,
      synchronization: { mutexes: [{ name: "one-at-a-time" }] },
      volumeClaimTemplates: [{ metadata: { name: "work" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
    });
  };

  it("compile to the spec fields", () => {
    const spec = build().compile(quiet).spec;
    expect(spec.retryStrategy).toEqual({ limit: 2, retryPolicy: "OnError" });
    expect(spec.workflowMetadata).toEqual({ labels: { team: "ml" }, labelsFrom: { region: { expression: "workflow.parameters.region" } } });
    expect(spec.podMetadata).toEqual({ labels: { app: "x" }, annotations: { note: "y" } });
    expect(spec.priority).toBe(3);
    expect(spec.podDisruptionBudget).toEqual({ minAvailable: 1 });
    expect(spec.synchronization).toEqual({ mutexes: [{ name: "one-at-a-time" }] });
  });

  it.skipIf(!haveArgoCheck)("hooks, globals and the fields pass the upstream CRD check (needs ../shared/argo)", async () => {
    expect((await argoCheck([build().compile(quiet), hooked(true, "crd-hooks").compile(quiet), withGlobals().compile(quiet)])).output).toMatch(/3 passed, 0 failed/);
  }, 120_000);

  it("workflowMetadata's labels are the workflow's labels to the local engine", async () => {
    const { status } = await build().run({ workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(byName(status.nodes, "a")[0]?.outputs?.result).toBe("ml/eu");
  }, 60_000);

  it("refuse bad values, naming the field", () => {
    const main = new Steps({ name: "main" });
    expect(() => new Workflow({ entrypoint: main, priority: 1.5 })).toThrow(/Workflow: priority must be an integer, got 1.5/);
    expect(() => new Workflow({ entrypoint: main, tolerations: ["gpu" as never] })).toThrow(/Workflow: tolerations must be a list of objects/);
    expect(() => new Workflow({ entrypoint: main, nodeSelector: { disk: 1 as never } })).toThrow(/Workflow: nodeSelector must map names to strings/);
    expect(() => new Workflow({ entrypoint: main, podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } })).toThrow(/takes one of minAvailable, maxUnavailable/);
    expect(() => new Workflow({ entrypoint: main, volumeClaimTemplates: [{ spec: {} }] })).toThrow(/volumeClaimTemplates\[0\] needs metadata.name/);
    expect(() => new Workflow({ entrypoint: main, retry: -1 })).toThrow(/retry limit must be a non-negative integer/);
    expect(() => new Workflow({ entrypoint: main, workflowMetadata: { labels: { a: 1 as never } } })).toThrow(/workflowMetadata.labels.a must be a string/);
  });
});
