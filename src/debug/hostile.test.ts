/**
 * The local engine against hostile or unlucky input (issue 14): each test is a small manifest
 * that once escaped the run folder, hung, crashed the engine or killed an unrelated process.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import type { Workflow, WorkflowStatus } from "../argo/model.ts";
import { bootId, formatIdentity, parseIdentity, processIdentity, processStartTime } from "../executors/process-identity.ts";
import { LocalArgoClient } from "./local-argo-client.ts";
import { CONTROL_FILE, CONTROL_SIGNAL } from "./state-tree.ts";
import { manifest, node, phases, sh, workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

/**
 * Runs `wf`; a manifest the engine refuses before it runs (Argo's validation) gives the
 * refusal's message instead of a status.
 */
async function runOrRefusal(wf: Workflow): Promise<{ kind: "refused"; refused: string } | { kind: "ran"; status: WorkflowStatus }> {
  try {
    return { kind: "ran", status: (await runWorkflow(wf, { workdir: await workdir() })).status };
  } catch (err) {
    return { kind: "refused", refused: (err as Error).message };
  }
}

describe("deadlines of 24.8 days and more (setTimeout's 2^31 ms limit)", () => {
  it("do not fire at once: activeDeadlineSeconds 2592000 on workflow and template, timeout 720h on a template", async () => {
    const wf = manifest(
      "long-deadlines",
      [
        { name: "main", steps: [[{ name: "a", template: "work" }], [{ name: "b", template: "nap" }]] },
        sh("work", "sleep 0.3; echo done", { activeDeadlineSeconds: 2592000, timeout: "720h" }),
        { name: "nap", suspend: { duration: "1s" } },
      ],
      { activeDeadlineSeconds: 2592000 },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(phases(status)).toMatchObject({ a: "Succeeded", b: "Succeeded" });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "a").outputs?.result).toBe("done");
  });
});

describe("stale pids (a recorded pid that names an unrelated process by now)", () => {
  /** An unrelated process in its own process group: a `sleep` that SIGUSR2 or SIGKILL would end. */
  function bystander(): ChildProcess {
    const child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    child.unref();
    spawned.push(child);
    return child;
  }
  const alive = (pid: number): boolean => processStartTime(pid) !== undefined;
  const spawned: ChildProcess[] = [];
  afterAll(() => {
    for (const c of spawned) if (c.pid && alive(c.pid)) process.kill(c.pid, "SIGKILL");
  });

  it("a resumed run kills the process group of an unfinished step only when it is still that process", async () => {
    const stale = bystander();
    const legacy = bystander();
    const ours = bystander();
    await new Promise((r) => setTimeout(r, 100));
    const dir = await workdir();
    const name = "stale-resume";
    await fs.mkdir(path.join(dir, name), { recursive: true });
    const journal = [
      { pid: stale.pid, start: "1", boot: bootId(), id: "stale-resume-1" }, // the pid, reused since
      { pid: legacy.pid, id: "stale-resume-2" }, // an older engine's record: no identity
      { pid: ours.pid, start: processStartTime(ours.pid!), boot: bootId(), id: "stale-resume-3" }, // still the step
    ];
    await fs.writeFile(path.join(dir, name, "nodes.jsonl"), journal.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const { status } = await runWorkflow(manifest(name, [sh("main", "true")]), { workdir: dir, name });
    expect(status.phase).toBe("Succeeded");
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(stale.pid!)).toBe(true);
    expect(alive(legacy.pid!)).toBe(true);
    expect(alive(ours.pid!)).toBe(false);
  });

  it("opflow stop|terminate --mode debug signals the recorded engine only when it is still that engine", async () => {
    const dir = await workdir();
    const name = "stale-engine";
    const run = path.join(dir, name);
    await fs.mkdir(run, { recursive: true });
    await fs.writeFile(path.join(run, "manifest.yaml"), YAML.stringify(manifest(name, [sh("main", "true")])));
    await fs.writeFile(path.join(run, "status"), "Running");
    await fs.writeFile(path.join(run, CONTROL_FILE), CONTROL_SIGNAL);
    const client = new LocalArgoClient({ workdir: dir });

    const stranger = bystander(); // got the dead engine's pid
    await new Promise((r) => setTimeout(r, 100));
    await fs.writeFile(path.join(run, "engine.pid"), formatIdentity({ pid: stranger.pid!, startTime: "1", bootId: bootId()! }));
    await expect(client.stop(name)).rejects.toThrow(/not running/);
    await expect(client.terminate(name)).rejects.toThrow(/not running/);
    expect(alive(stranger.pid!)).toBe(true);

    // The same files naming a live process by its true identity: it is signalled (SIGUSR2 ends a sleep).
    await fs.writeFile(path.join(run, "engine.pid"), formatIdentity(processIdentity(stranger.pid!)));
    await client.stop(name);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(stranger.pid!)).toBe(false);
  });

  it("records the engine and each step process with start time and boot id", async () => {
    const dir = await workdir();
    const name = "identity-recorded";
    const wf = manifest(name, [sh("main", "cat ../../engine.pid")]);
    const { status, dir: runDir } = await runWorkflow(wf, { workdir: dir, name });
    const seen = node(status, name).outputs?.result ?? "";
    expect(parseIdentity(seen)).toEqual(processIdentity());
    const journal = (await fs.readFile(path.join(runDir, "nodes.jsonl"), "utf8")).split("\n").filter((l) => l.includes('"pid"'));
    expect(journal).toHaveLength(1);
    expect(JSON.parse(journal[0]!)).toMatchObject({ pid: expect.any(Number), start: expect.stringMatching(/^\d+$/), boot: bootId() });
  });
});

describe("torn journals, stale temporaries and full disks", () => {
  it("cuts a torn journal tail, so the next engine's first record is not glued to it", async () => {
    const dir = await workdir();
    const name = "torn-journal";
    const wf = manifest(name, [
      { name: "main", steps: [[{ name: "a", template: "say" }], [{ name: "b", template: "say" }]] },
      sh("say", "echo said"),
    ]);
    const first = await runWorkflow(wf, { workdir: dir, name });
    expect(first.status.phase).toBe("Succeeded");
    const journal = path.join(first.dir, "nodes.jsonl");
    // As a crash mid-append leaves it: half a record, no newline.
    await fs.appendFile(journal, '{"dir":"[1].b","node":{"id":"torn-journal-1","name":"torn-jo');
    const rerun = await runWorkflow(wf, { workdir: dir, name, rerun: (n) => n.displayName === "b" });
    expect(rerun.status.phase).toBe("Succeeded");
    const lines = (await fs.readFile(journal, "utf8")).split("\n");
    expect(lines.pop()).toBe("");
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.filter((l) => l.includes('"displayName":"b"') && l.includes('"phase":"Succeeded"'))).toHaveLength(2);
  });

  it("removes the temporary files a killed engine left, never a step's own files", async () => {
    const dir = await workdir();
    const name = "stale-temporaries";
    const wf = manifest(name, [{ name: "main", steps: [[{ name: "a", template: "say" }]] }, sh("say", "echo said")]);
    const first = await runWorkflow(wf, { workdir: dir, name });
    const step = path.join(first.dir, "[0].a");
    const stale = [
      path.join(first.dir, "workflow.json.tmp-4194301-7"),
      path.join(step, "phase.tmp-4194301-8"),
      path.join(step, "outputs", "parameters", "p.tmp-4194301-9"),
      path.join(step, "outputs", "parameters", "q.tmp-4194301"),
      path.join(step, "inputs", "artifacts", "in.opflow-tmp-0123456789abcdef", "x"),
    ];
    const own = path.join(step, "workdir", "mine.tmp-1-1");
    for (const f of [...stale, own]) {
      await fs.mkdir(path.dirname(f), { recursive: true });
      await fs.writeFile(f, "x");
    }
    const again = await runWorkflow(wf, { workdir: dir, name });
    expect(again.status.phase).toBe("Succeeded");
    for (const f of stale) await expect(fs.access(f)).rejects.toThrow();
    await expect(fs.access(path.join(step, "inputs", "artifacts", "in.opflow-tmp-0123456789abcdef"))).rejects.toThrow();
    expect(await fs.readFile(own, "utf8")).toBe("x");
  });

  const canMount = process.getuid?.() === 0 && spawnSync("sh", ["-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d; r=$?; rmdir $d; exit $r"]).status === 0;

  it.skipIf(!canMount)("ends a run on a full disk as Error naming the path, leaves no temporaries, and resumes once there is room", async () => {
    const dir = await workdir();
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", dir]);
    try {
      const name = "disk-full";
      const wf = manifest(name, [
        { name: "main", steps: [[{ name: "fill", template: "fill" }], [{ name: "after", template: "say" }]] },
        sh("fill", "head -c 2000000 /dev/zero > big; echo filled"),
        sh("say", "echo said"),
      ]);
      const full = await runWorkflow(wf, { workdir: dir, name });
      expect(full.status.phase).toBe("Error");
      expect(full.status.message).toMatch(/ENOSPC/);
      expect(full.status.message).toContain(path.join(dir, name));
      expect(node(full.status, "fill").message).toMatch(/cannot write .*ENOSPC/);
      expect(await fs.readFile(path.join(full.dir, "status"), "utf8")).toBe("Error");
      const leftovers = execFileSync("find", [full.dir, "-name", "*.tmp-*"], { encoding: "utf8" });
      expect(leftovers).toBe("");
      await expect(fs.access(path.join(full.dir, "engine.pid"))).rejects.toThrow();

      execFileSync("mount", ["-o", "remount,size=16m", dir]);
      const resumed = await runWorkflow(wf, { workdir: dir, name });
      expect(resumed.status.phase, resumed.status.message).toBe("Succeeded");
      expect(phases(resumed.status)).toMatchObject({ fill: "Succeeded", after: "Succeeded" });
      const lines = (await fs.readFile(path.join(full.dir, "nodes.jsonl"), "utf8")).split("\n").filter(Boolean);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      execFileSync("umount", ["-l", dir]);
    }
  });
});

describe("arguments the system refuses (E2BIG)", () => {
  it("end the step in error with the reason; the launcher and the engine carry on", async () => {
    // As the issue found it: a step's 200 KB output passed on in args (the launcher is up by then).
    const wf = manifest("too-big-args", [
      {
        name: "main",
        steps: [
          [{ name: "produce", template: "produce" }],
          [{ name: "big", template: "consume", arguments: { parameters: [{ name: "v", value: "{{steps.produce.outputs.result}}" }] } }, { name: "other", template: "ok" }],
        ],
      },
      sh("ok", "echo ok"),
      sh("produce", "sleep 1; head -c 200000 /dev/zero | tr '\\0' x"),
      { name: "consume", inputs: { parameters: [{ name: "v" }] }, container: { image: "busybox", command: ["sh", "-c", "echo ${#1}", "sh", "{{inputs.parameters.v}}"] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    const n = node(status, "big");
    expect(n.phase).toBe("Error");
    expect(n.message).toMatch(/^could not start "sh": argument 4 is 200000 bytes \(E2BIG: the system takes at most 131072 bytes per argument/);
    expect((n.message ?? "").length).toBeLessThan(1000);
    expect(node(status, "other").phase).toBe("Succeeded");
    expect(status.phase).toMatch(/Failed|Error/);
    // The launcher survived: a later run still starts steps from it.
    const again = await runWorkflow(manifest("after-e2big", [sh("main", "echo fine")]), { workdir: await workdir() });
    expect(node(again.status, "after-e2big").outputs?.result).toBe("fine");
  });
});

describe("huge values", () => {
  it("keep, as Argo does, the last 256 kB of a step's stdout as its result", async () => {
    const wf = manifest("huge-stdout", [sh("main", "head -c 1000000 /dev/zero | tr '\\0' x; printf 'é%.0s' 1 2 3; echo END")]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    const result = node(status, "huge-stdout").outputs?.result ?? "";
    expect(Buffer.byteLength(result)).toBe(256 * 1024);
    expect(result.endsWith("xxxéééEND")).toBe(true);
  });
});

describe("escapes from the run folder (a canary folder outside it stays untouched)", () => {
  /** Every file under `dir` with its content. */
  async function snapshot(dir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
      const p = path.join(e.parentPath, e.name);
      out[path.relative(dir, p)] = e.isFile() ? await fs.readFile(p, "utf8") : "<dir>";
    }
    return out;
  }

  it("maps absolute artifact paths outside /tmp and /mnt into the step's folder, refuses ../, never reads a host file as an output", async () => {
    const canary = await fs.mkdtemp("/var/tmp/opflow-canary-");
    try {
      await fs.mkdir(path.join(canary, "victim-dir"));
      await fs.writeFile(path.join(canary, "victim-dir", "precious"), "keep me");
      await fs.writeFile(path.join(canary, "secret.txt"), "CANARY-SECRET");
      const before = await snapshot(canary);
      const dir = await workdir();
      const up = "../".repeat(12);
      const wf = manifest("escape", [
        {
          name: "main",
          steps: [
            [
              { name: "abs-in", template: "abs-in" },
              { name: "dotdot-abs-in", template: "dotdot-abs-in" },
              { name: "abs-out", template: "abs-out" },
              { name: "abs-param", template: "abs-param" },
              { name: "rel-in", template: "rel-in" },
              { name: "rel-out", template: "rel-out" },
              { name: "workdir", template: "workdir" },
            ],
          ],
        },
        { name: "abs-in", inputs: { artifacts: [{ name: "a", path: `${canary}/victim-dir`, raw: { data: "planted" } }] }, container: { image: "busybox", command: ["cat", "{{inputs.artifacts.a.path}}"] } },
        { name: "dotdot-abs-in", inputs: { artifacts: [{ name: "a", path: `/tmp/../..${canary}/victim-dir`, raw: { data: "planted" } }] }, container: { image: "busybox", command: ["true"] } },
        { name: "abs-out", container: { image: "busybox", command: ["true"] }, outputs: { artifacts: [{ name: "s", path: `${canary}/secret.txt` }] } },
        { name: "abs-param", container: { image: "busybox", command: ["true"] }, outputs: { parameters: [{ name: "s", valueFrom: { path: `${canary}/secret.txt`, default: "none" } }] } },
        { name: "rel-in", inputs: { artifacts: [{ name: "a", path: `${up}${canary.slice(1)}/rel`, raw: { data: "planted" } }] }, container: { image: "busybox", command: ["true"] } },
        { name: "rel-out", container: { image: "busybox", command: ["true"] }, outputs: { artifacts: [{ name: "s", path: `${up}${canary.slice(1)}/secret.txt` }] } },
        { name: "workdir", container: { image: "busybox", command: ["pwd"], workingDir: `${canary}/wd` } },
      ]);
      const { status } = await runWorkflow(wf, { workdir: dir });
      expect(await snapshot(canary)).toEqual(before);

      expect(node(status, "abs-in")).toMatchObject({ phase: "Succeeded", outputs: { result: "planted" } });
      expect(node(status, "dotdot-abs-in").phase).toBe("Succeeded");
      const absOut = node(status, "abs-out");
      expect(absOut.phase).toBe("Error");
      expect(absOut.message).toContain(`${canary}/secret.txt does not exist`);
      expect(node(status, "abs-param").outputs?.parameters).toEqual([{ name: "s", value: "none" }]);
      for (const name of ["rel-in", "rel-out"]) {
        const n = node(status, name);
        expect(n.phase).toBe("Error");
        expect(n.message).toMatch(/a relative path must stay in the working directory/);
      }
      const wd = node(status, "workdir");
      expect(wd.phase).toBe("Succeeded");
      // In a private mount namespace the pod has its own ${canary}/wd (backed by <step>/fs); elsewhere it works in <step>/fs.
      expect(wd.outputs?.result).toMatch(new RegExp(`^${dir}/.*/fs${canary}/wd$|^${canary}/wd$`));
      // Nothing of the canary in the artifact store either.
      expect(spawnSync("grep", ["-rl", "CANARY-SECRET", dir], { encoding: "utf8" }).stdout).toBe("");
    } finally {
      await fs.rm(canary, { recursive: true, force: true });
    }
  });

  it("refuses parameter and artifact names that are not Argo names before writing anything", async () => {
    const canary = await fs.mkdtemp("/var/tmp/opflow-canary-");
    try {
      const before = await snapshot(canary);
      const evil = `${"../".repeat(10)}${canary.slice(1)}/PWNED`;
      const wf = manifest("bad-names", [
        {
          name: "main",
          steps: [[{ name: "in", template: "in", arguments: { parameters: [{ name: `${evil}-in`, value: "x" }] } }, { name: "out", template: "out" }]],
        },
        { name: "in", inputs: { parameters: [{ name: `${evil}-in` }] }, container: { image: "busybox", command: ["true"] } },
        { name: "out", container: { image: "busybox", command: ["true"] }, outputs: { parameters: [{ name: `${evil}-out`, value: "x" }] } },
      ]);
      // Refused before anything runs (Argo's validation, where the engine has it) or by the
      // pod (the engine's own check): either way nothing is written outside the run.
      const r = await runOrRefusal(wf);
      expect(await snapshot(canary)).toEqual(before);
      if (r.kind === "refused") expect(r.refused).toMatch(/PWNED-in|must match \^\[-a-zA-Z0-9_\]\+\$/);
      else {
        for (const [name, kind] of [["in", "input parameter"], ["out", "output parameter"]]) {
          const n = node(r.status, name!);
          expect(n.phase).toBe("Error");
          expect(n.message).toContain(`${kind} name "../../`);
          expect(n.message).toContain("must be letters, digits, '-' and '_'");
        }
      }
    } finally {
      await fs.rm(canary, { recursive: true, force: true });
    }
  });
});

describe("expansion bombs and recursion", () => {
  it("refuses a withSequence of a billion items at once, with a clear message", async () => {
    const t0 = Date.now();
    const wf = manifest("sequence-bomb", [
      { name: "main", steps: [[{ name: "many", template: "echo", withSequence: { count: "1000000000" }, arguments: { parameters: [{ name: "m", value: "{{item}}" }] } }]] },
      { name: "echo", inputs: { parameters: [{ name: "m" }] }, container: { image: "busybox", command: ["echo", "{{inputs.parameters.m}}"] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(status.phase).toBe("Failed");
    expect(status.message).toBe(`step "many" of node "sequence-bomb": withSequence count "1000000000" makes 1000000000 items, more than the local engine's 50000 for one expansion`);
    expect(Object.keys(status.nodes ?? {}).length).toBeLessThan(5);
  });

  it("stops a template that calls itself at Argo's depth of 100, with Argo's short message", async () => {
    const wf = manifest("deep", [{ name: "forever", steps: [[{ name: "again", template: "forever" }]] }]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Failed");
    const errored = Object.values(status.nodes ?? {}).filter((n) => n.phase === "Error");
    expect(errored).toHaveLength(1);
    expect(errored[0]?.message).toBe("Maximum recursion depth exceeded. See https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth");
    // 99 Steps nodes, each with its step group, and the one that errored.
    expect(Object.values(status.nodes ?? {}).filter((n) => n.type === "Steps")).toHaveLength(100);
    expect((status.message ?? "").length).toBeLessThan(300);
  });

  it("ends a template that always calls itself twice at once, with Argo's recursion-depth message", async () => {
    const wf = manifest("always-twice", [{ name: "forever", steps: [[{ name: "left", template: "forever" }, { name: "right", template: "forever" }]] }]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Error");
    expect(status.message).toBe(
      'Maximum recursion depth exceeded. See https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth (template "forever" calls itself without a condition (forever → forever): Argo stops it at depth 100)',
    );
    expect(Object.keys(status.nodes ?? {})).toHaveLength(1);
  });

  it("stops a template that calls itself twice under a condition (exponential) at the node cap, and stays responsive", async () => {
    const t0 = Date.now();
    const wf = manifest("twice", [{ name: "forever", steps: [[{ name: "left", template: "forever", when: "1 == 1" }, { name: "right", template: "forever", when: "1 == 1" }]] }]);
    const { status } = await runWorkflow(wf, { workdir: await workdir(), maxNodes: 3000 });
    expect(status.phase).toBe("Failed");
    expect(status.message).toBe("the workflow has 3000 nodes, the local engine's limit (a template that calls itself without end?)");
    // What was already under way when the cap was reached still ends (as Failed): at most the frontier.
    expect(Object.keys(status.nodes ?? {}).length).toBeLessThan(6000);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe("signals while a run grows", () => {
  it("a terminate ends an exponentially recursive run within seconds", async () => {
    const wf = manifest("grow", [{ name: "forever", steps: [[{ name: "left", template: "forever", when: "1 == 1" }, { name: "right", template: "forever", when: "1 == 1" }]] }]);
    const abort = new AbortController();
    const t0 = Date.now();
    let abortedAt = 0;
    // The timer itself shows the engine's responsiveness: it fires late if invocations hold the thread.
    setTimeout(() => {
      abortedAt = Date.now();
      abort.abort("Stopped");
    }, 500);
    const { status } = await runWorkflow(wf, { workdir: await workdir(), signal: abort.signal });
    expect(status.phase).toBe("Failed");
    expect(abortedAt - t0).toBeLessThan(3000);
    expect(Date.now() - abortedAt).toBeLessThan(20_000);
  });
});

describe("parallelism below 1", () => {
  it.each([
    ["workflow", { parallelism: -1 }, undefined, "Error", `workflow "par": spec.parallelism must be an integer of at least 1 (Argo's schema), got -1`],
    ["workflow 0", { parallelism: 0 }, undefined, "Error", `workflow "par": spec.parallelism must be an integer of at least 1 (Argo's schema), got 0`],
    ["template", {}, -1, "Error", `template "main": parallelism must be an integer of at least 1 (Argo's schema), got -1`],
  ] as const)("is an error at %s level, with the same rule", async (_level, spec, tmplParallelism, phase, message) => {
    const wf = manifest(
      "par",
      [{ name: "main", ...(tmplParallelism !== undefined ? { parallelism: tmplParallelism } : {}), steps: [[{ name: "a", template: "ok" }]] }, sh("ok", "echo ok")],
      spec,
    );
    const r = await runOrRefusal(wf);
    if (r.kind === "refused") {
      expect(r.refused).toMatch(/parallelism/);
      return;
    }
    const status = r.status;
    expect(status.phase).toBe(phase);
    expect(status.message).toBe(message);
    expect(Object.values(status.nodes ?? {}).some((n) => n.displayName === "a")).toBe(false);
  });
});
