import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Template } from "../argo/model.ts";
import { ExitCode, type LocalBinding } from "../contract.ts";
import { namespacesAvailable } from "../executors/local-process.ts";
import { manifest, node, outParam, phases, sh, workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { nodeId } from "./node-id.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

const echo = (name: string): Template => ({
  name,
  inputs: { parameters: [{ name: "message" }] },
  container: { image: "busybox", command: ["echo", "{{inputs.parameters.message}}"] },
});

describe("steps", () => {
  it("runs groups in order and the steps of a group together, with Argo's node names and ids", async () => {
    const wf = manifest("steps-test", [
      {
        name: "main",
        steps: [
          [{ name: "hello1", template: "echo", arguments: { parameters: [{ name: "message", value: "one" }] } }],
          [
            { name: "hello2a", template: "echo", arguments: { parameters: [{ name: "message", value: "{{steps.hello1.outputs.result}}-a" }] } },
            { name: "hello2b", template: "echo", arguments: { parameters: [{ name: "message", value: "b" }] } },
          ],
        ],
      },
      echo("echo"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    const root = status.nodes?.["steps-test"];
    expect(root).toMatchObject({ type: "Steps", displayName: "steps-test", phase: "Succeeded", templateName: "main" });
    const sg = node(status, "[1]");
    expect(sg).toMatchObject({ type: "StepGroup", name: "steps-test[1]", id: nodeId("steps-test", "steps-test[1]"), boundaryID: "steps-test" });
    const a = node(status, "hello2a");
    expect(a).toMatchObject({ type: "Pod", name: "steps-test[1].hello2a", templateName: "echo", boundaryID: "steps-test" });
    expect(a.outputs?.result).toBe("one-a");
    expect(a.inputs?.parameters).toEqual([{ name: "message", value: "one-a" }]);
    expect(sg.children).toHaveLength(2);
    expect(Date.parse(a.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(node(status, "hello1").finishedAt as string));
  });

  it("fails the workflow when a step fails and does not start later groups", async () => {
    const wf = manifest("fail-test", [
      { name: "main", steps: [[{ name: "bad", template: "bad" }], [{ name: "never", template: "ok" }]] },
      sh("bad", "echo oops >&2; exit 3"),
      sh("ok", "true"),
    ]);
    const { status, dir } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    const bad = node(status, "bad");
    expect(bad).toMatchObject({ phase: "Failed", message: "Error (exit code 3)" });
    expect(bad.outputs?.exitCode).toBe("3");
    expect(status.message).toContain(`child '${bad.id}' failed`);
    expect(Object.values(status.nodes ?? {}).some((n) => n.displayName === "never")).toBe(false);
    expect(await fs.readFile(path.join(dir, "[0].bad", "log.txt"), "utf8")).toBe("oops\n");
    expect(await fs.readFile(path.join(dir, "status"), "utf8")).toBe("Failed");
  });

  it("skips a step whose when is false, with Argo's message and the condition as written", async () => {
    const wf = manifest("when-test", [
      {
        name: "main",
        inputs: { parameters: [{ name: "go", value: "{{workflow.parameters.go}}" }] },
        steps: [[
          { name: "yes", template: "ok", when: "{{inputs.parameters.go}} == true" },
          { name: "no", template: "ok", when: "{{inputs.parameters.go}} != true" },
        ]],
      },
      sh("ok", "true"),
    ], { arguments: { parameters: [{ name: "go", value: "false" }] } });
    const { status } = await runWorkflow(wf, { workdir: await workdir(), parameters: { go: "true" } });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "yes").phase).toBe("Succeeded");
    expect(node(status, "no")).toMatchObject({ type: "Skipped", phase: "Skipped", message: "when 'true != true' evaluated false (as written: '{{inputs.parameters.go}} != true')" });
  });

  it("continues past a failed step with continueOn.failed", async () => {
    const wf = manifest("continue-test", [
      { name: "main", steps: [[{ name: "bad", template: "bad", continueOn: { failed: true } }], [{ name: "after", template: "ok" }]] },
      sh("bad", "exit 1"),
      sh("ok", "echo '{{workflow.name}}'"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(phases(status)).toMatchObject({ bad: "Failed", after: "Succeeded" });
    expect(node(status, "after").outputs?.result).toBe("continue-test");
  });

  it("expands withItems, withParam and withSequence with Argo's names and aggregates outputs", async () => {
    const wf = manifest("loops-test", [
      {
        name: "main",
        steps: [
          [
            { name: "items", template: "say", arguments: { parameters: [{ name: "x", value: "{{item.os}}-{{item.v}}" }] }, withItems: [{ os: "debian", v: 12 }, { os: "alpine", v: 3 }] },
            { name: "seq", template: "say", arguments: { parameters: [{ name: "x", value: "{{item}}" }] }, withSequence: { count: "3", start: "1", format: "n%02d" } },
          ],
          [{ name: "param", template: "say", arguments: { parameters: [{ name: "x", value: "{{item}}" }] }, withParam: "{{steps.seq.outputs.parameters.out}}" }],
          [{ name: "sum", template: "say", arguments: { parameters: [{ name: "x", value: "{{steps.param.outputs.result}}" }] } }],
        ],
      },
      {
        name: "say",
        inputs: { parameters: [{ name: "x" }] },
        outputs: { parameters: [{ name: "out", valueFrom: { path: "/tmp/out" } }] },
        script: { image: "alpine", command: ["sh"], source: 'printf "%s" "{{inputs.parameters.x}}" > "{{outputs.parameters.out.path}}"; echo "{{inputs.parameters.x}}"' },
      },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "items(0:os:debian,v:12)").outputs?.result).toBe("debian-12");
    expect(node(status, "items(1:os:alpine,v:3)").name).toBe("loops-test[0].items(1:os:alpine,v:3)");
    expect(node(status, "seq(2:n03)").outputs?.result).toBe("n03");
    expect(node(status, "param(1:n02)").phase).toBe("Succeeded");
    expect(node(status, "sum").inputs?.parameters).toEqual([{ name: "x", value: '["n01","n02","n03"]' }]);
  });

  it("trims exactly one trailing newline from output parameters read from files", async () => {
    const wf = manifest("trim-test", [
      sh("main", "printf 'a\\n\\n' > /tmp/p; printf '  b  ' > /tmp/q", {
        outputs: { parameters: [{ name: "p", valueFrom: { path: "/tmp/p" } }, { name: "q", valueFrom: { path: "/tmp/q" } }, { name: "d", valueFrom: { path: "/tmp/none", default: "dflt" } }] },
      }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    const root = status.nodes?.["trim-test"];
    expect(root && outParam(root, "p")).toBe("a\n");
    expect(root && outParam(root, "q")).toBe("  b  ");
    expect(root && outParam(root, "d")).toBe("dflt");
  });

  it("keeps each step's environment and working directory to itself", async () => {
    const wf = manifest("isolation-test", [
      { name: "main", steps: [[{ name: "a", template: "a" }], [{ name: "b", template: "b" }]] },
      sh("a", "export LEAK=1; cd /; touch here; pwd"),
      sh("b", 'echo "${LEAK:-none} $(ls | wc -l)"'),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(node(status, "a").outputs?.result).toBe("/");
    expect(node(status, "b").outputs?.result).toBe("none 0");
  });

  it.runIf(namespacesAvailable())("maps /tmp into each step's folder so parallel steps writing the same path do not collide", async () => {
    const wf = manifest("paths-test", [
      {
        name: "main",
        steps: [[{ name: "w", template: "w", arguments: { parameters: [{ name: "v", value: "{{item}}" }] }, withItems: ["a", "b", "c", "d"] }]],
      },
      {
        name: "w",
        inputs: { parameters: [{ name: "v" }] },
        outputs: { parameters: [{ name: "got", valueFrom: { path: "/tmp/same.txt" } }] },
        container: { image: "busybox", command: ["sh", "-c", 'echo "{{inputs.parameters.v}}" > /tmp/same.txt; sleep 0.3; cat /tmp/same.txt'] },
      },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    for (const [i, v] of ["a", "b", "c", "d"].entries()) {
      const n = node(status, `w(${i}:${v})`);
      expect(n.outputs?.result).toBe(v);
      expect(outParam(n, "got")).toBe(v);
    }
  });

  it("fails unsupported templates with a message that says so", async () => {
    const wf = manifest("unsupported-test", [
      { name: "main", steps: [[{ name: "k8s", template: "k8s", continueOn: { error: true } }]] },
      { name: "k8s", resource: { action: "create", manifest: "kind: ConfigMap" } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(node(status, "k8s")).toMatchObject({ phase: "Error" });
    expect(node(status, "k8s").message).toMatch(/resource template .* not supported by the local engine/);
  });
});

describe("retries and timeouts", () => {
  it("retries up to the limit, naming attempts name(0), name(1), … and fails with Argo's message", async () => {
    const wf = manifest("retry-test", [
      { name: "main", steps: [[{ name: "flaky", template: "flaky" }]] },
      sh("flaky", "exit 1", { retryStrategy: { limit: "2" } }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    const retry = node(status, "flaky");
    expect(retry).toMatchObject({ type: "Retry", phase: "Failed", message: "No more retries left" });
    expect(retry.children).toHaveLength(3);
    expect(node(status, "flaky(2)")).toMatchObject({ type: "Pod", name: "retry-test[0].flaky(2)", phase: "Failed" });
  });

  it("retries a TransientError of an in-process binding and never a FatalError", async () => {
    let transientCalls = 0;
    let fatalCalls = 0;
    const transient: LocalBinding = async (task) => {
      transientCalls++;
      if (transientCalls < 3) return { exitCode: ExitCode.Transient, message: "TransientError: busy" };
      await fs.writeFile(path.join(task.root, "outputs/parameters/n"), `${transientCalls}\n`);
      return { exitCode: 0 };
    };
    const fatal: LocalBinding = async () => {
      fatalCalls++;
      return { exitCode: ExitCode.Fatal, message: "FatalError: bad input" };
    };
    const wf = manifest("binding-retry-test", [
      { name: "main", steps: [[{ name: "t", template: "transient" }, { name: "f", template: "fatal", continueOn: { failed: true } }]] },
      { name: "transient", retryStrategy: { limit: "5", retryPolicy: "OnTransientError" }, outputs: { parameters: [{ name: "n", valueFrom: { path: "/tmp/outputs/parameters/n" } }] }, container: { image: "x", command: ["never-run"] } },
      { name: "fatal", retryStrategy: { limit: "5", retryPolicy: "Always" }, container: { image: "x", command: ["never-run"] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir(), bindings: new Map([["transient", transient], ["fatal", fatal]]) });
    expect(status.phase).toBe("Succeeded");
    expect(transientCalls).toBe(3);
    expect(outParam(node(status, "t"), "n")).toBe("3");
    expect(fatalCalls).toBe(1);
    expect(node(status, "f")).toMatchObject({ phase: "Failed", message: "FatalError: bad input" });
  });

  it("stops retrying when the retry expression is false (lastRetry.*)", async () => {
    const wf = manifest("retry-expr-test", [sh("main", "exit 2", { retryStrategy: { limit: "5", expression: "asInt(lastRetry.exitCode) == 1" } })]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.nodes?.["retry-expr-test"]).toMatchObject({ type: "Retry", phase: "Failed", message: "retryStrategy.expression evaluated to false" });
    expect(status.nodes?.["retry-expr-test"]?.children).toHaveLength(1);
  });

  it("kills the whole process group when activeDeadlineSeconds passes", async () => {
    const dir = await workdir();
    // The step's cwd is its own workdir/ folder.
    const wf = manifest("timeout-test", [sh("main", "sleep 30 & echo $! > bg.pid; sleep 30", { activeDeadlineSeconds: 1 })]);
    const t0 = Date.now();
    const { status, dir: runDir } = await runWorkflow(wf, { workdir: dir });
    const pidFile = path.join(runDir, "_root", "workdir", "bg.pid");
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(status.phase).toBe("Failed");
    expect(status.nodes?.["timeout-test"]).toMatchObject({ phase: "Failed", message: "Pod was active on the node longer than the specified deadline" });
    const bg = Number(await fs.readFile(pidFile, "utf8"));
    await new Promise((r) => setTimeout(r, 300));
    // Gone, or a zombie waiting for a reaper that is not ours.
    const state = await fs.readFile(`/proc/${bg}/stat`, "utf8").then((t) => t.slice(t.lastIndexOf(")") + 2, t.lastIndexOf(")") + 3), () => "gone");
    expect(["gone", "Z", "X"]).toContain(state);
  });

  it("fails an in-process binding that outlives its timeout", async () => {
    const slow: LocalBinding = (task) => new Promise((resolve) => task.signal.addEventListener("abort", () => resolve({ exitCode: 1 })));
    const wf = manifest("binding-timeout-test", [{ name: "main", timeout: "200ms", container: { image: "x", command: ["x"] } }]);
    const { status } = await runWorkflow(wf, { workdir: await workdir(), bindings: new Map([["main", slow]]) });
    expect(status.nodes?.["binding-timeout-test"]).toMatchObject({ phase: "Failed", message: "Step exceeded its deadline (timeout 200ms)" });
  });
});

describe("dag", () => {
  const dagOf = (tasks: NonNullable<Template["dag"]>["tasks"], failFast?: boolean): Template => ({ name: "main", dag: { tasks, ...(failFast === undefined ? {} : { failFast }) } });

  it("runs a diamond with depends and names tasks dag.task", async () => {
    const wf = manifest("diamond", [
      dagOf([
        { name: "A", template: "echo", arguments: { parameters: [{ name: "message", value: "A" }] } },
        { name: "B", depends: "A", template: "echo", arguments: { parameters: [{ name: "message", value: "{{tasks.A.outputs.result}}B" }] } },
        { name: "C", depends: "A", template: "echo", arguments: { parameters: [{ name: "message", value: "C" }] } },
        { name: "D", depends: "B && C", template: "echo", arguments: { parameters: [{ name: "message", value: "{{tasks.B.outputs.result}}{{tasks.C.outputs.result}}D" }] } },
      ]),
      echo("echo"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "D")).toMatchObject({ name: "diamond.D", boundaryID: "diamond", outputs: { result: "ABCD" } });
    expect(status.nodes?.["diamond"]?.children).toEqual([node(status, "A").id]);
  });

  it("omits tasks whose depends is false and runs failure handlers (A.Failed)", async () => {
    const wf = manifest("depends-test", [
      dagOf([
        { name: "A", template: "bad" },
        { name: "onFail", depends: "A.Failed", template: "ok" },
        { name: "onSuccess", depends: "A.Succeeded", template: "ok" },
      ]),
      sh("bad", "exit 1"),
      sh("ok", "true"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(phases(status)).toMatchObject({ A: "Failed", onFail: "Succeeded", onSuccess: "Omitted" });
    expect(node(status, "onSuccess")).toMatchObject({ type: "Skipped", message: "omitted: depends condition not met" });
    // The omitted target inherits A's failure: the DAG fails, as in Argo.
    expect(status.phase).toBe("Failed");
  });

  it("stops scheduling after a failure by default and keeps going with failFast: false", async () => {
    const tasks = [
      { name: "A", template: "bad" },
      { name: "B", template: "slow" },
      { name: "C", depends: "B", template: "ok" },
    ];
    const templates = [sh("bad", "exit 1"), sh("slow", "sleep 0.5"), sh("ok", "true")];
    const fast = await runWorkflow(manifest("failfast-on", [dagOf(tasks), ...templates]), { workdir: await workdir() });
    expect(fast.status.phase).toBe("Failed");
    expect(phases(fast.status)).toMatchObject({ A: "Failed", B: "Succeeded" });
    expect(phases(fast.status)["C"]).toBeUndefined();
    const slow = await runWorkflow(manifest("failfast-off", [dagOf(tasks, false), ...templates]), { workdir: await workdir() });
    expect(slow.status.phase).toBe("Failed");
    expect(phases(slow.status)).toMatchObject({ A: "Failed", B: "Succeeded", C: "Succeeded" });
  });

  it("fans out a task into a TaskGroup and evaluates AnySucceeded", async () => {
    const wf = manifest("fan-test", [
      dagOf([
        { name: "F", template: "maybe", arguments: { parameters: [{ name: "x", value: "{{item}}" }] }, withItems: ["0", "1"] },
        { name: "G", depends: "F.AnySucceeded", template: "ok" },
      ]),
      { name: "maybe", inputs: { parameters: [{ name: "x" }] }, container: { image: "x", command: ["sh", "-c", "exit {{inputs.parameters.x}}"] } },
      sh("ok", "true"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(node(status, "F")).toMatchObject({ type: "TaskGroup", phase: "Failed" });
    expect(node(status, "F(1:1)")).toMatchObject({ name: "fan-test.F(1:1)", phase: "Failed" });
    expect(node(status, "G").phase).toBe("Succeeded");
    expect(status.phase).toBe("Succeeded");
  });
});

describe("exit handlers, outputs, parallelism", () => {
  it("runs the workflow's exit handler after a failure, with workflow.status", async () => {
    const wf = manifest(
      "exit-test",
      [
        { name: "main", steps: [[{ name: "bad", template: "bad", onExit: "step-exit" }]] },
        sh("bad", "exit 1"),
        sh("step-exit", "echo step-exit"),
        sh("exit", "echo {{workflow.status}}"),
      ],
      { onExit: "exit" },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    expect(node(status, "exit-test.onExit")).toMatchObject({ phase: "Succeeded", outputs: { result: "Failed" } });
    expect(node(status, "bad.onExit")).toMatchObject({ name: "exit-test[0].bad.onExit", phase: "Succeeded" });
  });

  it("passes workflow arguments and global outputs, and steps template outputs", async () => {
    const wf = manifest(
      "outputs-test",
      [
        {
          name: "main",
          outputs: { parameters: [{ name: "final", valueFrom: { parameter: "{{steps.make.outputs.parameters.v}}" } }, { name: "calc", valueFrom: { expression: "asInt(steps.make.outputs.parameters.v) * 2" } }] },
          steps: [[{ name: "make", template: "make", arguments: { parameters: [{ name: "n", value: "{{workflow.parameters.n}}" }] } }]],
        },
        {
          name: "make",
          inputs: { parameters: [{ name: "n" }] },
          outputs: { parameters: [{ name: "v", globalName: "answer", valueFrom: { path: "/tmp/v" } }] },
          container: { image: "x", command: ["sh", "-c", "echo $(( {{inputs.parameters.n}} + 1 )) > /tmp/v"] },
        },
      ],
      { arguments: { parameters: [{ name: "n", value: "1" }] } },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir(), parameters: { n: "41" } });
    expect(status.phase).toBe("Succeeded");
    expect(status.outputs?.parameters).toEqual([{ name: "answer", value: "42" }]);
    const root = status.nodes?.["outputs-test"];
    expect(root && outParam(root, "final")).toBe("42");
    expect(root && outParam(root, "calc")).toBe("84");
  });

  it("passes artifacts between steps through storage with Argo's key layout", async () => {
    const wf = manifest("art-test", [
      { name: "main", steps: [[{ name: "gen", template: "gen" }], [{ name: "use", template: "use", arguments: { artifacts: [{ name: "in", from: "{{steps.gen.outputs.artifacts.out}}" }] } }]] },
      sh("gen", "mkdir -p /tmp/o && echo data > /tmp/o/f.txt", { outputs: { artifacts: [{ name: "out", path: "/tmp/o" }] } }),
      sh("use", "cat /tmp/in/f.txt", { inputs: { artifacts: [{ name: "in", path: "/tmp/in" }] } }),
    ]);
    const dir = await workdir();
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase).toBe("Succeeded");
    const gen = node(status, "gen");
    expect(gen.outputs?.artifacts?.[0]).toMatchObject({ name: "out", path: "/tmp/o", s3: { key: `art-test/${gen.id}/out.tgz` } });
    await fs.access(path.join(dir, ".storage", "art-test", gen.id, "out.tgz"));
    expect(node(status, "use").outputs?.result).toBe("data");
  });

  it("limits concurrent steps with parallelism", async () => {
    let running = 0;
    let peak = 0;
    const b: LocalBinding = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return { exitCode: 0 };
    };
    const wf = manifest("par-test", [
      { name: "main", steps: [[{ name: "w", template: "w", withSequence: { count: "12" } }]] },
      { name: "w", container: { image: "x", command: ["x"] } },
    ], { parallelism: 3 });
    const { status } = await runWorkflow(wf, { workdir: await workdir(), bindings: new Map([["w", b]]) });
    expect(status.phase).toBe("Succeeded");
    expect(peak).toBe(3);
  });

  it("waits out a suspend with a duration", async () => {
    const wf = manifest("suspend-test", [{ name: "main", suspend: { duration: "300ms" } }]);
    const t0 = Date.now();
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.nodes?.["suspend-test"]).toMatchObject({ type: "Suspend", phase: "Succeeded" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });
});

describe("keys", () => {
  it("names a keyed step's folder after its key and reuses it from another run", async () => {
    let calls = 0;
    const gen: LocalBinding = async (task) => {
      calls++;
      await fs.writeFile(path.join(task.root, "outputs/parameters/v"), `v-${task.parameters["x"]}`);
      return { exitCode: 0 };
    };
    const wf = manifest("keyed", [
      {
        name: "main",
        steps: [[{ name: "g", template: "gen", arguments: { parameters: [{ name: "x", value: "{{item}}" }, { name: "opflow-key", value: "gen-{{item}}" }] }, withItems: ["a", "b"] }]],
      },
      {
        name: "gen",
        inputs: { parameters: [{ name: "x" }, { name: "opflow-key" }] },
        outputs: { parameters: [{ name: "v", valueFrom: { path: "/tmp/outputs/parameters/v" } }] },
        container: { image: "x", command: ["x"] },
      },
    ]);
    const dir = await workdir();
    const first = await runWorkflow(wf, { workdir: dir, bindings: new Map([["gen", gen]]) });
    expect(first.status.phase).toBe("Succeeded");
    expect(await fs.readFile(path.join(first.dir, "gen-a", "outputs/parameters/v"), "utf8")).toBe("v-a");
    const second = await runWorkflow({ ...wf, metadata: { name: "keyed-2" } }, { workdir: dir, bindings: new Map([["gen", gen]]), reuse: ["keyed"] });
    expect(second.status.phase).toBe("Succeeded");
    expect(calls).toBe(2);
    expect(outParam(node(second.status, "g(1:b)"), "v")).toBe("v-b");
    expect(node(second.status, "g(1:b)").message).toBe("reused from keyed (key gen-b)");
  });
});

describe("workflow-level settings", () => {
  it("applies templateDefaults, and a skipped producer's output falls back to its default", async () => {
    const wf = manifest(
      "defaults-test",
      [
        { name: "main", steps: [[{ name: "p", template: "p", when: "false" }], [{ name: "c", template: "c", arguments: { parameters: [{ name: "x", value: "{{steps.p.outputs.parameters.v}}" }] } }]] },
        { name: "p", outputs: { parameters: [{ name: "v", valueFrom: { path: "/tmp/v", default: "fallback" } }] }, container: { image: "x", command: ["true"] } },
        { name: "c", inputs: { parameters: [{ name: "x" }] }, container: { image: "x", command: ["sh", "-c", 'echo "{{inputs.parameters.x}} $SHARED"'] } },
      ],
      { templateDefaults: { container: { image: "x", env: [{ name: "SHARED", value: "from-defaults" }] } } },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "c").outputs?.result).toBe("fallback from-defaults");
  });

  it("stops the workflow at spec.activeDeadlineSeconds and still runs the exit handler", async () => {
    const wf = manifest("deadline-test", [sh("main", "sleep 30"), sh("exit", "echo {{workflow.status}}")], { activeDeadlineSeconds: 1, onExit: "exit" });
    const t0 = Date.now();
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(status).toMatchObject({ phase: "Failed", message: "Workflow exceeded its deadline" });
    expect(node(status, "deadline-test.onExit").outputs?.result).toBe("Failed");
  });

  it("fires a lifecycle hook while the step runs (steps.x.status == 'Running')", async () => {
    const dir = await workdir();
    const wf = manifest("running-hook-test", [
      { name: "main", steps: [[{ name: "a", template: "slow", hooks: { started: { expression: "steps.a.status == 'Running'", template: "notify" } } }]] },
      sh("slow", "sleep 0.6; echo done"),
      sh("notify", "date +%s%N"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase).toBe("Succeeded");
    const hook = node(status, "a.hooks.started");
    expect(hook.phase).toBe("Succeeded");
    expect(Date.parse(hook.startedAt as string)).toBeLessThan(Date.parse(node(status, "a").finishedAt as string));
  });

  it("fires workflow-level hooks while it runs and when it ends", async () => {
    const wf = manifest("wf-hooks-test", [sh("main", "sleep 0.4; exit 1"), sh("notify", "echo {{workflow.status}}")], {
      hooks: { running: { expression: 'workflow.status == "Running"', template: "notify" }, failed: { expression: 'workflow.status == "Failed"', template: "notify" } },
    });
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    expect(node(status, "wf-hooks-test.hooks.running").outputs?.result).toBe("Running");
    expect(node(status, "wf-hooks-test.hooks.failed").outputs?.result).toBe("Failed");
  });

  it("runs a step's lifecycle hook whose expression holds once the step ended", async () => {
    const wf = manifest("hooks-test", [
      { name: "main", steps: [[{ name: "a", template: "bad", continueOn: { failed: true }, hooks: { failed: { expression: "steps.a.status == 'Failed'", template: "notify" }, ok: { expression: "steps.a.status == 'Succeeded'", template: "notify" } } }]] },
      sh("bad", "exit 1"),
      sh("notify", "echo notified"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(node(status, "a.hooks.failed").outputs?.result).toBe("notified");
    expect(Object.values(status.nodes ?? {}).some((n) => n.displayName === "a.hooks.ok")).toBe(false);
  });
});

describe("template parallelism and DAG outputs", () => {
  it("bounds the steps running under a template with its parallelism, and exposes DAG outputs", async () => {
    let running = 0;
    let peak = 0;
    const b: LocalBinding = async (task) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 15));
      running--;
      await fs.writeFile(path.join(task.root, "outputs/parameters/sq"), String(Number(task.parameters["n"]) ** 2));
      return { exitCode: 0 };
    };
    const wf = manifest("tpar-test", [
      {
        name: "main",
        outputs: { parameters: [{ name: "all", valueFrom: { parameter: "{{tasks.sq.outputs.parameters.sq}}" } }] },
        dag: { tasks: [{ name: "sq", template: "loop" }] },
      },
      {
        name: "loop",
        parallelism: 2,
        outputs: { parameters: [{ name: "sq", valueFrom: { parameter: "{{steps.w.outputs.parameters.sq}}" } }] },
        steps: [[{ name: "w", template: "w", arguments: { parameters: [{ name: "n", value: "{{item}}" }] }, withSequence: { start: "1", end: "6" } }]],
      },
      { name: "w", inputs: { parameters: [{ name: "n" }] }, outputs: { parameters: [{ name: "sq", valueFrom: { path: "/tmp/outputs/parameters/sq" } }] }, container: { image: "x", command: ["x"] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir(), bindings: new Map([["w", b]]) });
    expect(status.phase).toBe("Succeeded");
    expect(peak).toBe(2);
    expect(outParam(status.nodes?.["tpar-test"] as never, "all")).toBe('["1","4","9","16","25","36"]');
  });
});

describe("tags", () => {
  it("leaves {{…}} text outside Argo's namespaces as written and refuses unknown variables before running", async () => {
    const wf = manifest("tags-test", [
      { name: "main", steps: [[{ name: "ok", template: "say", arguments: { parameters: [{ name: "x", value: "it's {{not a tag}}" }] } }]] },
      { name: "say", inputs: { parameters: [{ name: "x" }] }, container: { image: "x", command: ["echo", "{{inputs.parameters.x}}"] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(node(status, "ok").outputs?.result).toBe("it's {{not a tag}}");
    // Argo's validate.go (resolveAllVariables) refuses the manifest: "failed to resolve {{inputs.parameters.y}}".
    const typo = manifest("tags-typo", [{ name: "typo", inputs: { parameters: [{ name: "x", value: "1" }] }, container: { image: "x", command: ["echo", "{{inputs.parameters.y}}"] } }]);
    await expect(runWorkflow(typo, { workdir: await workdir() })).rejects.toThrow(/templates\.typo: failed to resolve \{\{inputs\.parameters\.y\}\}/);
  });
});

describe("more artifacts and DAG targets", () => {
  it("passes raw, unarchived, optional and global artifacts, and runs only a DAG's target", async () => {
    const wf = manifest(
      "art2-test",
      [
        {
          name: "main",
          dag: {
            target: "use",
            tasks: [
              { name: "gen", template: "gen" },
              { name: "use", depends: "gen", template: "use", arguments: { artifacts: [{ name: "in", from: "{{tasks.gen.outputs.artifacts.plain}}" }, { name: "notes", from: "{{workflow.outputs.artifacts.shared}}" }] } },
              { name: "never", template: "gen" },
            ],
          },
        },
        sh("gen", "printf plain > /tmp/p.txt; printf shared > /tmp/s.txt", {
          outputs: { artifacts: [{ name: "plain", path: "/tmp/p.txt", archive: { none: {} } }, { name: "shared", path: "/tmp/s.txt", globalName: "shared" }, { name: "maybe", path: "/tmp/none", optional: true }] },
        }),
        sh("use", 'echo "$(cat /tmp/in) $(cat /tmp/notes) $(cat /tmp/raw) $(test -e /tmp/opt && echo yes || echo no)"', {
          inputs: { artifacts: [{ name: "in", path: "/tmp/in" }, { name: "notes", path: "/tmp/notes" }, { name: "raw", path: "/tmp/raw", raw: { data: "rawdata" } }, { name: "opt", path: "/tmp/opt", optional: true }] },
        }),
      ],
    );
    const dir = await workdir();
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "use").outputs?.result).toBe("plain shared rawdata no");
    expect(Object.values(status.nodes ?? {}).some((n) => n.displayName === "never")).toBe(false);
    const gen = node(status, "gen");
    expect(gen.outputs?.artifacts?.map((a) => a.name)).toEqual(["plain", "shared"]);
    expect(gen.outputs?.artifacts?.[0]?.s3?.key).toBe(`art2-test/${gen.id}/plain`);
    expect(status.outputs?.artifacts?.[0]).toMatchObject({ name: "shared", s3: { key: `art2-test/${gen.id}/shared.tgz` } });
  });
});
