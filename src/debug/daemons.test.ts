/**
 * Daemon templates as Argo runs them, with 127.0.0.1 as the pod IP: upstream
 * examples/daemon-nginx.yaml and daemon-step.yaml (a server reached by later steps through
 * `{{steps.X.ip}}`), dag-daemon-task.yaml (`{{tasks.X.ip}}`, a bare dependency on a daemoned
 * task), test/e2e/daemon_pod_test.go (TestMarkDaemonedPodSucceeded, TestDaemonPodRetry),
 * test/e2e/signals_test.go (TestStopBehaviorWithDaemon), and workflow/controller/operator.go
 * (`assessNodeStatus`: a daemon node is Running and daemoned once its pod is ready, a daemon's
 * pod that ends fails it; exec_control.go `killDaemonedChildren`: the scope's end kills it and
 * records it Succeeded).
 */
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { NodeStatus, Template } from "../argo/model.ts";
import { manifest, node, removeWorkdirs, sh, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid a step wrote to `file` in its working folder (processes see /tmp as their step's folder). */
async function pidIn(dir: string, file: string): Promise<number> {
  const found = (await fs.readdir(dir, { recursive: true })).map(String).find((e) => e.endsWith(path.join("workdir", file)));
  if (!found) throw new Error(`no ${file} under ${dir}`);
  return Number(await fs.readFile(path.join(dir, found), "utf8"));
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** A daemon template: a small `node -e` HTTP server on `port` that writes its pid to `pidFile` (after `delayMs`). */
function server(name: string, port: number, pidFile: string, extra: Partial<Template> = {}, delayMs = 0): Template {
  const code = `require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => require("http").createServer((q, s) => s.end("hello from " + q.url)).listen(${port}, "127.0.0.1"), ${delayMs});`;
  return { name, daemon: true, container: { image: "node:20", command: ["node", "-e", code] }, ...extra };
}

/** A client step fetching `url` (its body is the step's result). */
function client(name: string): Template {
  return {
    name,
    inputs: { parameters: [{ name: "url" }] },
    container: { image: "node:20", command: ["node", "-e", `fetch(process.argv[1]).then((r) => r.text()).then((t) => console.log(t))`, "{{inputs.parameters.url}}"] },
  };
}

const httpProbe = (port: number): Record<string, unknown> => ({ httpGet: { path: "/ping", port }, periodSeconds: 1, timeoutSeconds: 1 });

describe("daemon templates", () => {
  it("serves later steps at {{steps.X.ip}} once ready, and is killed and recorded Succeeded when its Steps end (daemon-nginx.yaml)", async () => {
    const dir = await workdir();
    const port = await freePort();
    const pidFile = "server.pid";
    const wf = manifest("daemon-steps", [
      {
        name: "main",
        steps: [
          [{ name: "server", template: "server" }],
          [{ name: "client", template: "client", arguments: { parameters: [{ name: "url", value: `http://{{steps.server.ip}}:${port}/hello` }] } }],
        ],
      },
      // The server listens only after a second: the probe, not the start, lets the client go.
      server("server", port, pidFile, { container: { ...server("s", port, pidFile, {}, 1000).container, readinessProbe: httpProbe(port) } as Template["container"] }),
      client("client"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase, status.message).toBe("Succeeded");
    expect(node(status, "client").outputs?.result).toBe("hello from /hello");
    const s = node(status, "server");
    expect(s).toMatchObject({ type: "Pod", phase: "Succeeded" });
    expect(s.daemoned).toBeUndefined();
    // Killed once its scope ended: after the client, and nothing of it is left.
    expect(Date.parse(s.finishedAt as string)).toBeGreaterThanOrEqual(Date.parse(node(status, "client").finishedAt as string));
    expect(alive(await pidIn(dir, pidFile))).toBe(false);
    expect(await listening(port)).toBe(false);
  });

  it("is gone once its own scope ends, before the enclosing Steps go on; an entrypoint daemon ends with the workflow", async () => {
    const dir = await workdir();
    const port = await freePort();
    const probeCode = `require("net").connect(${port}, "127.0.0.1").on("connect", () => console.log("open")).on("error", () => console.log("closed"))`;
    const wf = manifest("daemon-scope", [
      { name: "main", steps: [[{ name: "inner", template: "inner" }], [{ name: "check", template: "check" }]] },
      {
        name: "inner",
        steps: [[{ name: "server", template: "server" }], [{ name: "client", template: "client", arguments: { parameters: [{ name: "url", value: `http://{{steps.server.ip}}:${port}/in` }] } }]],
      },
      server("server", port, "server.pid", { container: { ...server("s", port, "server.pid").container, readinessProbe: httpProbe(port) } as Template["container"] }),
      client("client"),
      { name: "check", container: { image: "node:20", command: ["node", "-e", probeCode] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase, status.message).toBe("Succeeded");
    expect(node(status, "client").outputs?.result).toBe("hello from /in");
    expect(node(status, "check").outputs?.result).toBe("closed");
    expect(Date.parse(node(status, "server").finishedAt as string)).toBeLessThanOrEqual(Date.parse(node(status, "check").startedAt as string));

    const alone = await runWorkflow(manifest("daemon-root", [server("main", port, "root.pid", { container: { ...server("s", port, "root.pid").container, readinessProbe: httpProbe(port) } as Template["container"] })]), { workdir: dir });
    expect(alone.status.phase, alone.status.message).toBe("Succeeded");
    expect(node(alone.status, "daemon-root")).toMatchObject({ type: "Pod", phase: "Succeeded" });
    expect(alive(await pidIn(path.join(dir, "daemon-root"), "root.pid"))).toBe(false);
  });

  it("lets DAG tasks that depend on a daemoned task run, at {{tasks.X.ip}}, with a tcpSocket probe (dag-daemon-task.yaml)", async () => {
    const dir = await workdir();
    const port = await freePort();
    const pidFile = "server.pid";
    const wf = manifest("daemon-dag", [
      {
        name: "main",
        dag: {
          tasks: [
            { name: "server", template: "server" },
            { name: "client", template: "client", depends: "server", arguments: { parameters: [{ name: "url", value: `http://{{tasks.server.ip}}:${port}/dag` }] } },
            { name: "after", template: "after", depends: "server.Daemoned && client" },
          ],
        },
      },
      server("server", port, pidFile, { container: { ...server("s", port, pidFile, {}, 500).container, readinessProbe: { tcpSocket: { port }, periodSeconds: 1 } } as Template["container"] }),
      client("client"),
      sh("after", "echo after"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase, status.message).toBe("Succeeded");
    expect(node(status, "client").outputs?.result).toBe("hello from /dag");
    expect(node(status, "after").phase).toBe("Succeeded");
    expect(node(status, "server").phase).toBe("Succeeded");
    expect(alive(await pidIn(dir, pidFile))).toBe(false);
  });

  it("waits for an exec probe, and is daemoned while the scope runs", async () => {
    const dir = await workdir();
    const flag = "ready-flag";
    let seen: NodeStatus | undefined;
    const wf = manifest("daemon-exec", [
      { name: "main", steps: [[{ name: "d", template: "d" }], [{ name: "look", template: "look" }]] },
      { name: "d", daemon: true, container: { image: "busybox", command: ["sh", "-c", `sleep 1; touch ${flag}; sleep 60`], readinessProbe: { exec: { command: ["test", "-e", flag] }, periodSeconds: 1 } } as Template["container"] },
      sh("look", "echo looked"),
    ]);
    const { status } = await runWorkflow(wf, {
      workdir: dir,
      updateIntervalMs: 20,
      onUpdate: (st) => {
        const look = Object.values(st.nodes ?? {}).find((n) => n.displayName === "look");
        const d = Object.values(st.nodes ?? {}).find((n) => n.displayName === "d");
        if (look && d && !seen) seen = { ...d };
      },
    });
    expect(status.phase, status.message).toBe("Succeeded");
    // Ready only once the probe found the flag, a second after the start.
    expect(Date.parse(node(status, "look").startedAt as string) - Date.parse(node(status, "d").startedAt as string)).toBeGreaterThanOrEqual(900);
    expect(seen).toMatchObject({ phase: "Running", daemoned: true });
    expect(node(status, "d").phase).toBe("Succeeded");
  });

  it("fails the step when the daemon ends before it is ready, even with exit code 0 (operator.go assessNodeStatus)", async () => {
    const dir = await workdir();
    const port = await freePort();
    const wf = manifest("daemon-early", [
      { name: "main", steps: [[{ name: "bad", template: "bad", continueOn: { failed: true } }, { name: "zero", template: "zero" }]] },
      { name: "bad", daemon: true, container: { image: "busybox", command: ["sh", "-c", "exit 3"], readinessProbe: httpProbe(port) } as Template["container"] },
      { name: "zero", daemon: true, container: { image: "busybox", command: ["sh", "-c", "exit 0"], readinessProbe: httpProbe(port) } as Template["container"] },
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase).toBe("Failed");
    expect(node(status, "bad")).toMatchObject({ phase: "Failed", message: "Error (exit code 3)" });
    expect(node(status, "zero").phase).toBe("Failed");
    expect(node(status, "zero").message).toMatch(/daemon ended by itself \(exit code 0\)/);
  });

  it("records a daemon that dies after it was ready Failed, and the scope goes on as Argo's does", async () => {
    const dir = await workdir();
    const port = await freePort();
    // Ready once it listens; it exits (code 7) when asked, answering with its pid, and the
    // step after it waits until that process is gone before the scope ends.
    const daemon = `require("http").createServer((q, s) => s.end(String(process.pid), () => process.exit(7))).listen(${port}, "127.0.0.1")`;
    const quit = `fetch("{{inputs.parameters.url}}").then((r) => r.text()).then((pid) => { const t = setInterval(() => { try { process.kill(Number(pid), 0); } catch { clearInterval(t); setTimeout(() => console.log("gone"), 500); } }, 50); })`;
    const wf = manifest("daemon-dies", [
      { name: "main", steps: [[{ name: "d", template: "d" }], [{ name: "wait", template: "wait", arguments: { parameters: [{ name: "url", value: `http://{{steps.d.ip}}:${port}/quit` }] } }]] },
      { name: "d", daemon: true, container: { image: "node:20", command: ["node", "-e", daemon], readinessProbe: { tcpSocket: { port }, periodSeconds: 1 } } as Template["container"] },
      { name: "wait", inputs: { parameters: [{ name: "url" }] }, container: { image: "node:20", command: ["node", "-e", quit] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase, status.message).toBe("Succeeded");
    expect(node(status, "wait").outputs?.result).toBe("gone");
    expect(node(status, "d")).toMatchObject({ phase: "Failed", message: "Error (exit code 7)" });
    expect(node(status, "d").daemoned).toBeUndefined();
  });

  it("stop: the daemon is killed and recorded Succeeded, the workflow Failed (signals_test.go TestStopBehaviorWithDaemon)", async () => {
    const dir = await workdir();
    const stop = new AbortController();
    const wf = manifest("daemon-stop", [
      { name: "main", steps: [[{ name: "Daemon", template: "sleep" }], [{ name: "B", template: "pass" }]] },
      { name: "sleep", daemon: true, container: { image: "busybox", command: ["sh", "-c", "echo $$ > d.pid; exec sleep 999"] } },
      sh("pass", "touch started; sleep 999"),
    ]);
    const run = runWorkflow(wf, { workdir: dir, stopSignal: stop.signal });
    const marker = path.join(dir, "daemon-stop");
    const deadline = Date.now() + 20_000;
    for (;;) {
      const entries = await fs.readdir(marker, { recursive: true }).catch(() => [] as string[]);
      if (entries.some((e) => String(e).endsWith(path.join("workdir", "started")))) break;
      if (Date.now() > deadline) throw new Error("B never started");
      await new Promise((r) => setTimeout(r, 50));
    }
    stop.abort("Stopped with strategy 'Stop'");
    const { status } = await run;
    expect(status.phase).toBe("Failed");
    expect(node(status, "Daemon").phase).toBe("Succeeded");
    expect(node(status, "B").phase).toBe("Failed");
    expect(alive(await pidIn(dir, "d.pid"))).toBe(false);
  });

  it("daemons a Retry node with its attempt, and ends both Succeeded (daemon_pod_test.go TestDaemonPodRetry)", async () => {
    const dir = await workdir();
    const wf = manifest("daemon-retry", [
      { name: "main", dag: { tasks: [{ name: "daemoned", template: "daemoned" }, { name: "whale", template: "whale", dependencies: ["daemoned"] }] } },
      // The first attempt never becomes ready (it fails); the second does.
      {
        name: "daemoned",
        daemon: true,
        retryStrategy: { limit: "2" },
        container: { image: "busybox", command: ["sh", "-c", `if [ "{{retries}}" -eq 0 ]; then exit 1; fi; touch ready; sleep 60`], readinessProbe: { exec: { command: ["test", "-e", "ready"] }, periodSeconds: 1 } },
      } as Template,
      sh("whale", "echo hi"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase, status.message).toBe("Succeeded");
    expect(node(status, "daemoned(0)").phase).toBe("Failed");
    expect(node(status, "daemoned(1)").phase).toBe("Succeeded");
    expect(node(status, "daemoned")).toMatchObject({ type: "Retry", phase: "Succeeded" });
  });

  it("retries a daemon that ended by itself after it was ready; the next attempt serves on (daemon_pod_test.go TestDaemonPodRetry)", async () => {
    const dir = await workdir();
    const port = await freePort();
    // Ready once started, as upstream's (no probe). Attempt 0 serves until asked to quit (exit 1);
    // attempt 1 serves on. The client waits until attempt 1 answers.
    const daemon = `require("http").createServer((q, s) => s.end("attempt {{retries}}", () => { if (q.url === "/quit" && "{{retries}}" === "0") process.exit(1); })).listen(${port}, "127.0.0.1")`;
    const whale = `const u = "{{inputs.parameters.url}}"; const until = (path, want, then) => fetch(u + path).then((r) => r.text()).then((t) => (t === want ? then(t) : setTimeout(() => until(path, want, then), 50)), () => setTimeout(() => until(path, want, then), 50)); until("quit", "attempt 0", () => until("", "attempt 1", (t) => console.log(t)));`;
    const wf = manifest("daemon-retry-after", [
      {
        name: "main",
        dag: {
          tasks: [
            { name: "daemoned", template: "daemoned" },
            { name: "whale", template: "whale", dependencies: ["daemoned"], arguments: { parameters: [{ name: "url", value: `http://{{tasks.daemoned.ip}}:${port}/` }] } },
          ],
        },
      },
      { name: "daemoned", daemon: true, retryStrategy: { limit: "2" }, container: { image: "node:20", command: ["node", "-e", daemon] } } as Template,
      { name: "whale", inputs: { parameters: [{ name: "url" }] }, container: { image: "node:20", command: ["node", "-e", whale] } },
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase, status.message).toBe("Succeeded");
    expect(node(status, "whale").outputs?.result).toBe("attempt 1");
    expect(node(status, "daemoned(0)")).toMatchObject({ phase: "Failed", message: "Error (exit code 1)" });
    expect(node(status, "daemoned(1)").phase).toBe("Succeeded");
    expect(node(status, "daemoned")).toMatchObject({ type: "Retry", phase: "Succeeded" });
    expect(node(status, "daemoned").daemoned).toBeUndefined();
    expect(await listening(port)).toBe(false);
  });

  it("two daemons on one port collide as on one host: the second cannot listen and ends Failed (docs/local-engine.md, Ports)", async () => {
    const dir = await workdir();
    const port = await freePort();
    // Ready once it listens (it says so in a file of its working folder).
    const listener = (name: string): Template => ({
      name,
      daemon: true,
      container: {
        image: "node:20",
        command: ["node", "-e", `require("http").createServer((q, s) => s.end("${name}")).listen(${port}, "127.0.0.1", () => require("fs").writeFileSync("bound", ""))`],
        readinessProbe: { exec: { command: ["test", "-e", "bound"] }, periodSeconds: 1 },
      } as Template["container"],
    });
    const wf = manifest("daemon-collide", [
      {
        name: "main",
        steps: [
          [{ name: "first", template: "first" }],
          [{ name: "second", template: "second", continueOn: { failed: true } }],
          [{ name: "client", template: "client", arguments: { parameters: [{ name: "url", value: `http://{{steps.first.ip}}:${port}/` }] } }],
        ],
      },
      listener("first"),
      listener("second"),
      client("client"),
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase, status.message).toBe("Succeeded");
    expect(node(status, "second")).toMatchObject({ phase: "Failed", message: "Error (exit code 1)" });
    expect(await fs.readFile(path.join(dir, "daemon-collide", "[1].second", "log.txt"), "utf8")).toContain("EADDRINUSE");
    expect(node(status, "client").outputs?.result).toBe("first");
    expect(node(status, "first").phase).toBe("Succeeded");
  });

  it("refuses a readiness probe it cannot run, naming the field", async () => {
    const dir = await workdir();
    const wf = manifest("daemon-grpc", [{ name: "main", daemon: true, container: { image: "busybox", command: ["sleep", "60"], readinessProbe: { grpc: { port: 9000 } } } as Template["container"] }]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase).toBe("Error");
    expect(node(status, "daemon-grpc").message).toMatch(/container: readinessProbe\.grpc is not supported by the local engine \(httpGet, tcpSocket and exec are\)/);
    const named = manifest("daemon-port", [{ name: "main", daemon: true, container: { image: "busybox", command: ["sleep", "60"], readinessProbe: { httpGet: { path: "/", port: "web" } } } as Template["container"] }]);
    const r = await runWorkflow(named, { workdir: dir });
    expect(node(r.status, "daemon-port").message).toMatch(/readinessProbe\.httpGet\.port names no port of the container, got "web"/);
  });
});
