import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Workflow } from "../argo/model.ts";
import { FakeKubeServer } from "../../test/fake-kube-server.ts";
import { argoStatus } from "../../test/fake-argo-status.ts";
import { opflow } from "../../test/cli-capture.ts";

const TOKEN = "fake-sa-token-cli-5e6f7a8b";
let server: FakeKubeServer;
let dir: string;
let kubeconfig: string;
let manifestFile: string;
let k: string[];
let viaServer: string[];

const manifest: Workflow = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Workflow",
  metadata: { generateName: "cli-" },
  spec: {
    entrypoint: "main",
    arguments: { parameters: [{ name: "who", value: "world" }] },
    templates: [
      {
        name: "main",
        dag: {
          tasks: [
            { name: "a", template: "say" },
            { name: "b", template: "say", depends: "a" },
          ],
        },
      },
      { name: "say", container: { image: "busybox", command: ["echo", "{{workflow.parameters.who}}"] } },
    ],
  },
};

function drive(name: string, phase: "Running" | "Succeeded" | "Failed"): void {
  const wf = server.workflow("cli", name) as Workflow;
  const { status, logs } = argoStatus(wf, phase);
  for (const [pod, text] of logs) server.setPodLog("cli", pod, text);
  server.setStatus("cli", name, status);
}

/** Drives the workflow once `opflow submit` (a process of its own) has created it. */
function driveWhenCreated(name: string, phase: "Running" | "Succeeded" | "Failed"): void {
  const tick = (): void => {
    if (server.workflow("cli", name) === undefined) setTimeout(tick, 20);
    else drive(name, phase);
  };
  setTimeout(tick, 20);
}

async function submit(...extra: string[]): Promise<string> {
  const r = await opflow("submit", manifestFile, ...k, "--json", ...extra);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as Workflow).metadata.name as string;
}

beforeAll(async () => {
  server = await FakeKubeServer.start({ token: TOKEN });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-argo-cli-"));
  kubeconfig = server.writeKubeconfig(dir, { token: TOKEN, namespace: "cli" });
  manifestFile = path.join(dir, "cli.yaml");
  fs.writeFileSync(manifestFile, YAML.stringify(manifest));
  k = ["--kubeconfig", kubeconfig];
  viaServer = ["--argo-server", server.url, "--token", TOKEN, "-n", "cli"];
});

afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("opflow cluster commands", { timeout: 120_000 }, () => {
  it("lists every command in help, and shows each command's usage", async () => {
    const help = await opflow("help");
    for (const c of ["submit", "get", "list", "watch", "logs", "terminate", "stop", "suspend", "resume", "retry", "resubmit", "delete"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${c} +[A-Z]`, "m"));
      const one = await opflow("help", c);
      expect(one.stdout).toContain(`usage: opflow ${c}`);
    }
  });

  it("submit prints a summary like argo submit, with name, labels and parameters", async () => {
    const r = await opflow("submit", manifestFile, ...k, "--name", "cli-fixed", "-l", "batch=7", "-p", "who=opflow");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+cli-fixed\nNamespace:\s+cli\nStatus:\s+Pending\n/);
    expect(r.stdout).toContain("Parameters:\n  who: opflow");
    expect(server.workflow("cli", "cli-fixed")?.metadata.labels?.["batch"]).toBe("7");
  });

  it("submit --wait exits 0 when the workflow Succeeded and 1 when it Failed", async () => {
    const ok = opflow("submit", manifestFile, ...k, "--name", "cli-wait-ok", "--wait");
    driveWhenCreated("cli-wait-ok", "Succeeded");
    expect((await ok).code).toBe(0);
    const bad = opflow("submit", manifestFile, ...k, "--name", "cli-wait-bad", "--wait", "--json");
    driveWhenCreated("cli-wait-bad", "Failed");
    const r = await bad;
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { phase: string }).phase).toBe("Failed");
  });

  it("list filters by label, status and prefix, as a table or JSON", async () => {
    const a = await submit("-l", "grp=x");
    const b = await submit("-l", "grp=x");
    drive(a, "Running");
    drive(b, "Succeeded");
    const table = await opflow("list", ...k, "-l", "grp=x");
    expect(table.stdout.split("\n")[0]).toMatch(/^NAME\s+STATUS\s+AGE\s+DURATION\s+PROGRESS\s+MESSAGE$/);
    expect(table.stdout).toContain(a);
    expect(table.stdout).toContain(b);
    const running = await opflow("list", ...k, "-l", "grp=x", "--status", "running", "--json");
    expect((JSON.parse(running.stdout) as { name: string }[]).map((w) => w.name)).toEqual([a]);
    const completed = await opflow("list", ...k, "-l", "grp=x", "--completed", "--json");
    expect((JSON.parse(completed.stdout) as { name: string; phase: string }[]).map((w) => [w.name, w.phase])).toEqual([[b, "Succeeded"]]);
    const prefixed = await opflow("list", ...k, "--prefix", a, "--json");
    expect((JSON.parse(prefixed.stdout) as { name: string }[]).map((w) => w.name)).toEqual([a]);
    expect((await opflow("list", ...k, "-l", "grp=none")).stdout).toBe("No workflows found\n");
    expect((await opflow("list", ...k, "--status", "Sleeping")).code).toBe(2);
  });

  it("logs prints each pod's lines prefixed by the pod name, or one step's", async () => {
    const name = await submit();
    drive(name, "Succeeded");
    const all = await opflow("logs", name, ...k);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^${name}-say-\\d+: a: started$`));
    const one = await opflow("logs", name, "b", ...k, "--no-prefix");
    expect(one.stdout).toBe("b: started\nb: done\n");
    const json = await opflow("logs", name, "a", ...viaServer, "--json");
    expect((JSON.parse(json.stdout) as { step: string; text: string }[])[0]).toMatchObject({ step: "a", text: "a: started\na: done\n" });
    const none = await opflow("logs", name, "zzz", ...k);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no pod step matches "zzz"');
  });

  it.each([
    ["kubernetes", () => k],
    ["argo-server", () => viaServer],
  ])("controls a workflow over %s: suspend, resume, stop, terminate, retry, resubmit, delete", async (_b, flags) => {
    const name = await submit();
    drive(name, "Running");
    const suspend = await opflow("suspend", name, ...flags());
    expect(suspend.stdout).toBe(`workflow ${name} suspended\n`);
    expect(server.workflow("cli", name)?.spec.suspend).toBe(true);
    expect((await opflow("get", name, ...flags())).stdout).toMatch(/Status:\s+Running \(Suspended\)/);
    expect((await opflow("resume", name, ...flags())).stdout).toBe(`workflow ${name} resumed\n`);
    expect(server.workflow("cli", name)?.spec.suspend).toBeUndefined();
    expect((await opflow("stop", name, ...flags())).stdout).toBe(`workflow ${name} stopped\n`);
    expect((await opflow("terminate", name, ...flags(), "--json")).stdout).toContain('"action": "terminate"');
    expect(server.workflow("cli", name)?.spec.shutdown).toBe("Terminate");
    drive(name, "Failed");
    expect((await opflow("retry", name, ...flags())).stdout).toBe(`workflow ${name} retried\n`);
    expect(server.workflow("cli", name)?.status?.phase).toBe("Running");
    const resubmit = await opflow("resubmit", name, ...flags());
    const copy = /resubmitted as (\S+)/.exec(resubmit.stdout)?.[1] as string;
    expect(server.workflow("cli", copy)?.spec.entrypoint).toBe("main");
    expect((await opflow("delete", name, copy, ...flags())).stdout).toBe(`workflow ${name} deleted\nworkflow ${copy} deleted\n`);
    expect(server.workflow("cli", name)).toBeUndefined();
  });

  it("delete by selector and completion", async () => {
    const a = await submit("-l", "sweep=1");
    const b = await submit("-l", "sweep=1");
    drive(a, "Succeeded");
    const r = await opflow("delete", ...k, "-l", "sweep=1", "--completed");
    expect(r.stdout).toBe(`workflow ${a} deleted\n`);
    expect(server.workflow("cli", b)).toBeDefined();
    expect((await opflow("delete", ...k)).code).toBe(2);
  });

  it("submit refuses a manifest that carries the token", async () => {
    const leaky = path.join(dir, "leaky.yaml");
    fs.writeFileSync(leaky, YAML.stringify({ ...manifest, metadata: { ...manifest.metadata, annotations: { auth: TOKEN } } }));
    for (const flags of [k, viaServer]) {
      const r = await opflow("submit", leaky, ...flags);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the manifest contains the cluster token; refusing to submit it/);
      expect(r.stderr).not.toContain(TOKEN);
    }
  });

  it("prints clear errors on stderr with exit code 1, never the token", async () => {
    const missing = await opflow("get", "nope", ...k);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('opflow get: cannot get workflow "nope" in namespace "cli": not found (404): workflows.argoproj.io "nope" not found\n');
    const wrong = await opflow("list", "--argo-server", server.url, "--token", "not-the-token-xyz", "-n", "cli");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/rejected the credentials \(401 Unauthorized\)/);
    expect(wrong.stderr).not.toContain("not-the-token-xyz");
    server.deny = [{ verb: "delete", resource: "workflows" }];
    try {
      const name = await submit();
      const denied = await opflow("delete", name, ...viaServer);
      expect(denied.stderr).toContain('RBAC must allow verb "delete" on resource "workflows" (API group "argoproj.io") in namespace "cli"');
      expect(denied.stderr).not.toContain(TOKEN);
    } finally {
      server.deny = [];
    }
    const usage = await opflow("get", ...k);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage: opflow get NAME");
    const badFlag = await opflow("list", "--bogus");
    expect(badFlag.code).toBe(2);
  });
});
