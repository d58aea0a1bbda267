import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Workflow } from "./model.ts";
import type { ArgoClient } from "./client.ts";
import { createArgoClient } from "./create-argo-client.ts";
import { ArgoServerClusterConfig, resolveClusterConfig } from "./cluster-config.ts";
import { ClusterApiError, redact, toClusterApiError } from "./api-errors.ts";
import { submitWorkflow } from "./workflow-handle.ts";
import { SubmitError } from "../errors.ts";
import { FakeKubeServer, crdValidation } from "../../test/fake-kube-server.ts";
import { argoStatus } from "../../test/fake-argo-status.ts";

const TOKEN = "fake-sa-token-0c9d8e7f6a";
let server: FakeKubeServer;
let dir: string;
let kubeconfig: string;
let closedPort: number;

function manifest(extra: Partial<Workflow["metadata"]> = { generateName: "err-" }): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { ...extra },
    spec: { entrypoint: "main", templates: [{ name: "main", container: { image: "busybox", command: ["true"] } }] },
  };
}

/** Runs `fn`, expects a ClusterApiError, checks the token is not in its message, returns it. */
async function failure(fn: () => Promise<unknown>): Promise<ClusterApiError> {
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClusterApiError);
  expect(error).toBeInstanceOf(SubmitError);
  expect((error as Error).message).not.toContain(TOKEN);
  expect(String((error as Error).stack)).not.toContain(TOKEN);
  return error as ClusterApiError;
}

beforeAll(async () => {
  server = await FakeKubeServer.start({ token: TOKEN });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-argo-err-"));
  kubeconfig = server.writeKubeconfig(dir, { token: TOKEN, namespace: "argo" });
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});

afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => server.reset(TOKEN));

const kube = (): ArgoClient => createArgoClient({ kubeconfig, env: {} });
const argo = (token = TOKEN): ArgoClient => createArgoClient({ argoServer: server.url, token, namespace: "argo", env: {} });

describe("cluster configuration", () => {
  it("says where it looked when there is no kubeconfig", () => {
    const home = fs.mkdtempSync(path.join(dir, "home-"));
    expect(() => resolveClusterConfig({ env: { HOME: home } })).toThrow(SubmitError);
    expect(() => resolveClusterConfig({ env: { HOME: home } })).toThrow(
      new RegExp(`no kubeconfig: looked at ${home}/\\.kube/config \\(~/\\.kube/config, missing\\); not in a pod .*ARGO_SERVER`),
    );
    expect(() => resolveClusterConfig({ kubeconfig: path.join(dir, "nope.yaml"), env: {} })).toThrow(/nope\.yaml \(--kubeconfig, missing\)/);
    expect(() => resolveClusterConfig({ env: { KUBECONFIG: path.join(dir, "k1") } })).toThrow(/k1 \(KUBECONFIG, missing\)/);
  });

  it("names the contexts when the asked one does not exist", () => {
    expect(() => resolveClusterConfig({ kubeconfig, context: "prod", env: {} })).toThrow(/context "prod" does not exist \(contexts: fake\)/);
  });

  it("takes the namespace from options, ARGO_NAMESPACE, then the context", () => {
    expect(resolveClusterConfig({ kubeconfig, env: {} }).namespace).toBe("argo");
    expect(resolveClusterConfig({ kubeconfig, env: { ARGO_NAMESPACE: "ns2" } }).namespace).toBe("ns2");
    expect(resolveClusterConfig({ kubeconfig, namespace: "ns3", env: { ARGO_NAMESPACE: "ns2" } }).namespace).toBe("ns3");
  });

  it("uses the in-cluster service account when there is no kubeconfig in a pod", () => {
    const sa = fs.mkdtempSync(path.join(dir, "sa-"));
    fs.writeFileSync(path.join(sa, "token"), TOKEN);
    fs.writeFileSync(path.join(sa, "namespace"), "workflows\n");
    const home = fs.mkdtempSync(path.join(dir, "home-"));
    const env = { HOME: home, KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" };
    const config = resolveClusterConfig({ serviceAccountDir: sa, env });
    expect(config.kind).toBe("kubernetes");
    if (config.kind !== "kubernetes") return;
    expect(config.source).toBe("in-cluster");
    expect(config.server).toBe("https://10.0.0.1:443");
    expect(config.namespace).toBe("workflows");
    expect(() => resolveClusterConfig({ inCluster: true, serviceAccountDir: path.join(dir, "none"), env })).toThrow(/no service account token at/);
    expect(() => resolveClusterConfig({ inCluster: true, env: {} })).toThrow(/KUBERNETES_SERVICE_HOST is not set/);
  });

  it("reads ARGO_SERVER, ARGO_SECURE, ARGO_TOKEN and never serialises the token", () => {
    const a = resolveClusterConfig({ env: { ARGO_SERVER: "argo.example.org:2746", ARGO_TOKEN: `Bearer ${TOKEN}` } });
    expect(a).toBeInstanceOf(ArgoServerClusterConfig);
    if (!(a instanceof ArgoServerClusterConfig)) return;
    expect(a.url).toBe("https://argo.example.org:2746");
    expect(a.authorization()).toBe(`Bearer ${TOKEN}`);
    expect(JSON.stringify(a)).not.toContain(TOKEN);
    expect(JSON.stringify(a)).toContain("[redacted]");
    const b = resolveClusterConfig({ env: { ARGO_SERVER: "localhost:2746", ARGO_SECURE: "false", ARGO_BASE_HREF: "/argo/" } });
    expect(b.kind === "argo-server" && b.url).toBe("http://localhost:2746/argo");
    expect(() => resolveClusterConfig({ argoServer: "ftp://x", env: {} })).toThrow(/must use http or https/);
  });
});

describe.each([
  ["kubernetes", kube],
  ["argo-server", () => argo()],
] as const)("errors over %s", (backend, make) => {
  it("401: says the credentials were rejected", async () => {
    const wrong = backend === "kubernetes" ? createArgoClient({ kubeconfig: server.writeKubeconfig(dir, { token: "wrong-token-123456" }), env: {} }) : argo("wrong-token-123456");
    const e = await failure(() => wrong.get("anything"));
    expect(e.reason).toBe("Unauthorized");
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/cannot get workflow "anything" in namespace "argo": .* rejected the credentials \(401 Unauthorized\)/);
    expect(e.message).toMatch(backend === "kubernetes" ? /kubeconfig user's credentials/ : /ARGO_TOKEN/);
    expect(e.message).not.toContain("wrong-token-123456");
  });

  it("403: names the verb and resource RBAC must allow", async () => {
    server.deny = [{ verb: "create", resource: "workflows" }];
    const e = await failure(() => submitWorkflow(manifest(), { client: make() }));
    expect(e.reason).toBe("Forbidden");
    expect(e.message).toContain('cannot create workflow "err-" in namespace "argo": forbidden (403); RBAC must allow verb "create" on resource "workflows" (API group "argoproj.io") in namespace "argo"');
    expect(e.message).toContain('cannot create resource "workflows"');
  });

  it("403 on pod logs names pods/log in the core group", async () => {
    const handle = await submitWorkflow(manifest(), { client: make() });
    server.deny = [{ verb: "get", resource: "pods/log" }];
    const e = await failure(() => handle.client.podLogs(handle.name, "some-pod"));
    expect(e.message).toContain('cannot read the logs of pod "some-pod" in namespace "argo": forbidden (403); RBAC must allow verb "get" on resource "pods/log" (the core API group) in namespace "argo"');
  });

  it("404: the workflow does not exist", async () => {
    const e = await failure(() => make().get("missing-wf"));
    expect(e.reason).toBe("NotFound");
    expect(e.message).toBe('cannot get workflow "missing-wf" in namespace "argo": not found (404): workflows.argoproj.io "missing-wf" not found');
    const d = await failure(() => make().delete("missing-wf"));
    expect(d.reason).toBe("NotFound");
  });

  it("409: the name is taken", async () => {
    const name = `taken-${backend}`;
    await submitWorkflow(manifest({ name }), { client: make() });
    const e = await failure(() => submitWorkflow(manifest({ name }), { client: make() }));
    expect(e.reason).toBe("AlreadyExists");
    expect(e.message).toBe(
      `cannot create workflow "${name}" in namespace "argo": the name "${name}" is already taken in namespace "argo" (409); delete that workflow, choose another name, or use metadata.generateName`,
    );
  });

  it.skipIf(!crdValidation())("422: shows the server's field errors (strict CRD validation)", async () => {
    const bad = manifest() as unknown as { spec: { templates: Record<string, unknown>[]; parallelism: unknown } };
    bad.spec.templates[0]!["contianer"] = { image: "x" };
    bad.spec.parallelism = "many";
    const e = await failure(() => make().create(bad as unknown as Workflow));
    expect(e.reason).toBe("Invalid");
    if (backend === "kubernetes") {
      expect(e.status).toBe(422);
      expect(e.causes.map((c) => c.field)).toEqual(expect.arrayContaining(["spec.templates[0].contianer", "spec.parallelism"]));
      expect(e.message).toMatch(/^cannot create workflow "err-" in namespace "argo": the server rejected the manifest \(422 Invalid\)\n {2}spec\./);
      expect(e.message).toContain("spec.templates[0].contianer: field not declared in schema");
      expect(e.message).toContain("spec.parallelism: must be integer");
    } else {
      expect(e.status).toBe(400);
      expect(e.message).toContain("spec.templates[0].contianer: field not declared in schema");
    }
  });

  it("says Argo's CRD is not installed", async () => {
    server.crdInstalled = false;
    const e = await failure(() => submitWorkflow(manifest(), { client: make() }));
    expect(e.reason).toBe("CrdMissing");
    expect(e.message).toMatch(/Argo Workflows is not installed on .*: the API does not serve workflows\.argoproj\.io\/v1alpha1 \(install Argo's CRDs/);
    const l = await failure(() => make().list());
    expect(l.reason).toBe("CrdMissing");
  });
});

describe("errors of control actions", () => {
  it("retry names the pods RBAC must let it delete (Kubernetes back-end)", async () => {
    const handle = await submitWorkflow(manifest(), { client: kube() });
    const wf = server.workflow("argo", handle.name) as Workflow;
    const { status, logs } = argoStatus(wf, "Failed");
    for (const [pod, text] of logs) server.setPodLog("argo", pod, text);
    server.setStatus("argo", handle.name, status);
    server.deny = [{ verb: "delete", resource: "pods" }];
    const e = await failure(() => handle.retry());
    expect(e.message).toMatch(/^cannot delete pod of retried step "err-[a-z0-9]+" in namespace "argo": forbidden \(403\); RBAC must allow verb "delete" on resource "pods" \(the core API group\) in namespace "argo"/);
  });

  it("maps a strict-decoding 400 to the unknown fields", () => {
    const body = {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      message: 'Workflow in version "v1alpha1" cannot be handled as a Workflow: strict decoding error: unknown field "spec.templates[0].contianer", unknown field "spec.foo"',
      reason: "BadRequest",
      code: 400,
    };
    const e = toClusterApiError({ code: 400, body: JSON.stringify(body) }, { backend: "kubernetes", verb: "create", resource: "workflows", group: "argoproj.io", namespace: "argo", name: "x-", endpoint: "https://k8s" });
    expect(e.reason).toBe("Invalid");
    expect(e.message).toBe('cannot create workflow "x-" in namespace "argo": the server rejected the manifest (400 Invalid)\n  spec.templates[0].contianer: field not declared in schema\n  spec.foo: field not declared in schema');
  });
});

describe("unreachable servers", () => {
  it("Kubernetes API server unreachable", async () => {
    const cfg = path.join(dir, "closed.yaml");
    fs.writeFileSync(
      cfg,
      fs.readFileSync(kubeconfig, "utf8").replace(server.url, `http://127.0.0.1:${closedPort}`),
    );
    const e = await failure(() => createArgoClient({ kubeconfig: cfg, env: {} }).get("x"));
    expect(e.reason).toBe("Unreachable");
    expect(e.message).toBe(
      `cannot get workflow "x" in namespace "argo": Kubernetes API server http://127.0.0.1:${closedPort} is unreachable (ECONNREFUSED); check the kubeconfig's cluster address and your network`,
    );
  });

  it("Argo Server down behind a proxy (503)", async () => {
    server.argoServerDown = true;
    const e = await failure(() => argo().list());
    expect(e.reason).toBe("ArgoServerDown");
    expect(e.message).toBe(`cannot list workflows in namespace "argo": Argo Server at ${server.url} is down (503); check that the argo-server deployment is running`);
  });

  it("Argo Server not listening", async () => {
    const client = createArgoClient({ argoServer: `http://127.0.0.1:${closedPort}`, token: TOKEN, namespace: "argo", env: {} });
    const e = await failure(() => client.get("x"));
    expect(e.reason).toBe("ArgoServerDown");
    expect(e.message).toMatch(/Argo Server at http:\/\/127\.0\.0\.1:\d+ is down or unreachable \(ECONNREFUSED\)/);
  });
});

describe("redaction", () => {
  it("removes the token even when a server echoes it", () => {
    const e = toClusterApiError(
      { code: 500, body: JSON.stringify({ kind: "Status", message: `bad header Authorization: Bearer ${TOKEN}`, code: 500 }) },
      { backend: "kubernetes", verb: "get", resource: "workflows", group: "argoproj.io", namespace: "argo", name: "x", endpoint: "https://k8s", secrets: [TOKEN] },
    );
    expect(e.message).not.toContain(TOKEN);
    expect(e.message).toContain("Bearer [redacted]");
    expect(redact(`token=${TOKEN}`, [TOKEN])).toBe("token=[redacted]");
  });

  it("sends the token only in the Authorization header", () => {
    for (const r of server.requests) {
      expect(r.body).not.toContain(TOKEN);
      expect(r.url).not.toContain(TOKEN);
    }
    expect(server.requests.some((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });
});
