/**
 * HTTP templates run from this machine as Argo's agent runs them (workflow/executor/agent.go
 * executeHTTPTemplate; upstream examples/http-hello-world.yaml, http-success-condition.yaml):
 * the body is `outputs.result`; `successCondition` over `request`/`response` decides, else a
 * 2xx status does.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Template } from "../argo/model.ts";
import { LocalObjects } from "./local-objects.ts";
import { manifest, node, removeWorkdirs, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

let server: http.Server;
let base = "";
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/missing") {
      res.statusCode = 404;
      res.end("nope");
      return;
    }
    res.setHeader("x-seen-token", String(req.headers["authorization"] ?? ""));
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => res.end(`${req.method} ${req.url} ${body}`));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await removeWorkdirs();
});

const call = (name: string, extra: Record<string, unknown>): Template => ({ name, inputs: { parameters: [{ name: "path", value: "hello" }] }, http: { url: `${base}/{{inputs.parameters.path}}`, ...extra } as never });

describe("HTTP templates", () => {
  it("returns the body as outputs.result and succeeds when the successCondition holds", async () => {
    const wf = manifest("http-ok", [call("main", { method: "POST", body: "ping", successCondition: 'response.statusCode == 200 && response.body contains "POST /hello ping"' })]);
    const { status } = await runWorkflow(wf, { workdir: await workdir() });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "http-ok")).toMatchObject({ type: "HTTP", outputs: { result: "POST /hello ping" } });
  });

  it("fails on a false successCondition, and on a non-2xx status without one, with Argo's messages", async () => {
    const a = await runWorkflow(manifest("http-cond", [call("main", { successCondition: "response.statusCode == 201" })]), { workdir: await workdir() });
    expect(node(a.status, "http-cond")).toMatchObject({ phase: "Failed", message: "successCondition 'response.statusCode == 201' evaluated false" });
    const b = await runWorkflow(manifest("http-404", [{ name: "main", http: { url: `${base}/missing` } as never }]), { workdir: await workdir() });
    expect(node(b.status, "http-404")).toMatchObject({ phase: "Failed", message: "received non-2xx response code: 404", outputs: { result: "nope" } });
  });

  it("takes header values from Secrets of the local store", async () => {
    const objects = new LocalObjects([{ kind: "Secret", metadata: { name: "api" }, stringData: { token: "Bearer t0k" } }]);
    const wf = manifest("http-secret", [
      call("main", { headers: [{ name: "Authorization", valueFrom: { secretKeyRef: { name: "api", key: "token" } } }], successCondition: 'response.headers["x-seen-token"][0] == "Bearer t0k"' }),
    ]);
    const { status } = await runWorkflow(wf, { workdir: await workdir(), objects });
    expect(status.phase).toBe("Succeeded");
  });
});
