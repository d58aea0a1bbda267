import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { argoCheck, haveArgoCheck } from "../../test/argo-check.ts";
import type { NodeStatus, WorkflowStatus } from "../argo/model.ts";
import { LocalObjects } from "../debug/local-objects.ts";
import { argoString } from "../expr/tree.ts";
import { param } from "../op/signature.ts";
import { Step } from "../steps/step.ts";
import { Steps } from "../steps/steps.ts";
import { Workflow } from "../workflow/workflow.ts";
import { HttpTemplate, type HttpMethod } from "./http-template.ts";
import { OPTemplate } from "./op-template.ts";
import { Item, describeItem, wantsNumber } from "../../test/fixtures/http-ops.ts";
import type { ParamRef } from "../expr/refs.ts";
import { ScriptOPTemplate } from "./script-template.ts";
import { secret } from "./secret.ts";

const TOKEN = "s3cr3t-t0ken-4e1d";
let server: http.Server;
let base: string;
const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization, body });
      const typed: Record<string, string> = {
        "/typed/ok": JSON.stringify({ id: 7, tags: ["a", "b"] }),
        "/typed/bad": JSON.stringify({ id: "seven", tags: [] }),
        "/typed/text": "all good",
      };
      if (req.url && typed[req.url] !== undefined) {
        res.writeHead(200, { "content-type": "application/json" }).end(typed[req.url]);
        return;
      }
      if (req.url?.startsWith("/missing")) {
        res.writeHead(404).end("no such thing");
        return;
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}` && req.url?.startsWith("/private")) {
        res.writeHead(401).end("who are you");
        return;
      }
      res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json" }).end(JSON.stringify({ got: body || req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function workdir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-http-"));
  dirs.push(d);
  return d;
}

/** The node of the step shown as `name`. */
function node(r: { status: WorkflowStatus }, name: string): NodeStatus | undefined {
  return Object.values(r.status.nodes ?? {}).find((n) => n.displayName === name);
}

const objects = new LocalObjects([{ apiVersion: "v1", kind: "Secret", metadata: { name: "api" }, stringData: { token: `Bearer ${TOKEN}` } }]);

function post() {
  return new HttpTemplate({
    name: "post-item",
    inputs: { id: param(z.string()) },
    method: "POST",
    url: (io) => argoString`${base}/private/items/${io.parameters.id}`,
    headers: { "Content-Type": "application/json", Authorization: secret("api", "token") },
    body: (io) => argoString`{"id": "${io.parameters.id}"}`,
    successCondition: "response.statusCode == 201",
    timeoutSeconds: 10,
  });
}

function build() {
  const main = new Steps({ name: "main" });
  const sent = new Step("send", post(), { parameters: { id: "a-7" } });
  main.add(sent);
  // The response body is the step's typed `result`, read by the next step.
  const echo = new ScriptOPTemplate({ name: "echo", inputs: { text: param(z.string()) }, source: 'printf "%s" "$text"' });
  main.add(new Step("echo", echo, { parameters: { text: sent.outputs.result } }));
  return new Workflow({ name: "http-wf", entrypoint: main });
}

describe("HttpTemplate", () => {
  it("renders Argo's http template, the secret header as a secretKeyRef", () => {
    const t = build().compile().spec.templates?.find((x) => x.name === "post-item");
    expect(t).toEqual({
      name: "post-item",
      inputs: { parameters: [{ name: "id" }] },
      http: {
        method: "POST",
        url: `${base}/private/items/{{inputs.parameters.id}}`,
        headers: [
          { name: "Content-Type", value: "application/json" },
          { name: "Authorization", valueFrom: { secretKeyRef: { name: "api", key: "token" } } },
        ],
        body: '{"id": "{{inputs.parameters.id}}"}',
        successCondition: "response.statusCode == 201",
        timeoutSeconds: 10,
      },
    });
  });

  it.skipIf(!haveArgoCheck)("passes the upstream CRD check (needs ../shared/argo)", async () => {
    const get = new HttpTemplate({ name: "get", url: "https://example.org" });
    const main = new Steps({ name: "main" });
    main.add(new Step("get", get));
    const r = await argoCheck([build().compile(), new Workflow({ generateName: "get-", entrypoint: main }).compile()]);
    expect(r.output).toMatch(/2 passed, 0 failed/);
  }, 120_000);

  it("runs on the local engine: the secret header reaches the server, the body is the result", async () => {
    seen.length = 0;
    const dir = await workdir();
    const result = await build().run({ workdir: dir, objects });
    expect(result.status.phase).toBe("Succeeded");
    expect(seen).toEqual([{ method: "POST", url: "/private/items/a-7", auth: `Bearer ${TOKEN}`, body: '{"id": "a-7"}' }]);
    expect(node(result, "send")?.outputs?.result).toBe(JSON.stringify({ got: '{"id": "a-7"}' }));
    expect(node(result, "echo")?.outputs?.result).toBe(JSON.stringify({ got: '{"id": "a-7"}' }));
    // The token is in no file of the state tree.
    const files = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    for (const f of files.filter((e) => e.isFile())) {
      expect(await fs.readFile(path.join(f.parentPath, f.name), "utf8"), path.join(f.parentPath, f.name)).not.toContain(TOKEN);
    }
  }, 60_000);

  it("fails the step when the status is not 2xx or the condition does not hold", async () => {
    const main = new Steps({ name: "main" });
    main.add(new Step("missing", new HttpTemplate({ name: "missing", url: `${base}/missing` })));
    const r1 = await new Workflow({ name: "http-404", entrypoint: main }).run({ workdir: await workdir() });
    expect(r1.status.phase).toBe("Failed");
    expect(node(r1, "missing")?.message).toMatch(/non-2xx response code: 404/);
    const strict = new Steps({ name: "main" });
    strict.add(new Step("strict", new HttpTemplate({ name: "strict", url: `${base}/ok`, successCondition: "response.statusCode == 204" })));
    const r2 = await new Workflow({ name: "http-cond", entrypoint: strict }).run({ workdir: await workdir() });
    expect(r2.status.phase).toBe("Failed");
    expect(node(r2, "strict")?.message).toMatch(/successCondition 'response.statusCode == 204' evaluated false/);
  }, 60_000);

  it("refuses bad options, naming the template and the field", () => {
    expect(() => new HttpTemplate({ name: "h", url: "" })).toThrow(/template "h": url is required/);
    expect(() => new HttpTemplate({ name: "h", url: "http://x", method: "FETCH" as HttpMethod })).toThrow(/template "h": method must be one of GET, HEAD, POST.*got "FETCH"/);
    expect(() => new HttpTemplate({ name: "h", url: "http://x", timeoutSeconds: 1.5 })).toThrow(/template "h": timeoutSeconds must be a positive whole number, got 1.5/);
    expect(() => new HttpTemplate({ name: "h", url: "http://x", body: "{}" })).toThrow(/template "h": a GET request has no body/);
    expect(() => new HttpTemplate({ name: "h", url: "http://x", successCondition: " " })).toThrow(/template "h": successCondition must be a non-empty expression/);
    // @ts-expect-error an HTTP template takes parameters only
    expect(() => new HttpTemplate({ name: "h", url: "http://x", inputs: { f: { kind: "artifact", shape: "path", optional: false } } })).toThrow(/template "h": an HTTP template takes parameters only/);
  });
});

describe("secret()", () => {
  it("renders env from a secretKeyRef in pod templates; the value is read by the engine and never written", async () => {
    const t = new ScriptOPTemplate({ name: "show", env: { TOKEN: secret("api", "token"), PLAIN: "x" }, source: 'test "${#TOKEN}" = 24 && test "${TOKEN#Bearer }" != "$TOKEN" && echo ok' });
    const main = new Steps({ name: "main" });
    main.add(new Step("show", t));
    const wf = new Workflow({ name: "secret-env", entrypoint: main });
    const env = wf.compile().spec.templates?.find((x) => x.name === "show")?.script?.env;
    expect(env).toEqual([
      { name: "TOKEN", valueFrom: { secretKeyRef: { name: "api", key: "token" } } },
      { name: "PLAIN", value: "x" },
    ]);
    expect(JSON.stringify(wf.compile())).not.toContain(TOKEN);
    const dir = await workdir();
    const r = await wf.run({ workdir: dir, objects });
    expect(r.status.phase).toBe("Succeeded");
    expect(node(r, "show")?.outputs?.result).toBe("ok");
    const files = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    for (const f of files.filter((e) => e.isFile())) expect(await fs.readFile(path.join(f.parentPath, f.name), "utf8")).not.toContain(TOKEN);
    if (haveArgoCheck) expect((await argoCheck([wf.compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("refuses names and keys Kubernetes does not allow, and prints no value", () => {
    expect(() => secret("My_Secret", "k")).toThrow(/secret: name must be a Kubernetes object name .*got "My_Secret"/);
    expect(() => secret("api", "a/b")).toThrow(/secret "api": key must hold only letters, digits, "-", "_" and ".", got "a\/b"/);
    expect(String(secret("api", "token"))).toBe("secret(api/token)");
    expect(secret("api", "token", { optional: true }).valueFrom()).toEqual({ secretKeyRef: { name: "api", key: "token", optional: true } });
  });
});

function typedWorkflow(name: string, path: string) {
  const get = new HttpTemplate({ name: "get-item", url: `${base}${path}`, result: Item });
  const main = new Steps({ name: "main" });
  const got = main.add(new Step("get", get));
  main.add(new Step("describe", OPTemplate.fromOp(describeItem), { parameters: { item: got.outputs.result } }));
  return new Workflow({ name, entrypoint: main });
}

describe("HttpTemplate with a typed result", () => {
  it("types outputs.result by the schema, and the compiler checks its wiring", () => {
    const typed = new Step("get", new HttpTemplate({ name: "get-item", url: "http://x", result: Item }));
    const r: ParamRef<{ id: number; tags: string[] }> = typed.outputs.result;
    expect(r.kind).toBe("json");
    const text: ParamRef<string> = new Step("get", new HttpTemplate({ name: "get-text", url: "http://x" })).outputs.result;
    expect(text.kind).toBe("string");
    // @ts-expect-error an object is no number
    new Step("n", OPTemplate.fromOp(wantsNumber), { parameters: { n: typed.outputs.result } });
    // @ts-expect-error untyped text is no object
    new Step("d", OPTemplate.fromOp(describeItem), { parameters: { item: new Step("t", new HttpTemplate({ name: "t", url: "http://x" })).outputs.result } });
    // @ts-expect-error a list of results (a looped step's) is not one item
    new Step("d2", OPTemplate.fromOp(describeItem), { parameters: { item: new Step("l", new HttpTemplate({ name: "l", url: "http://x", result: Item }), { withItems: [1, 2] }).outputs.result } });
  });

  it("carries the schema in the output-schemas annotation; the http field is as without one", async () => {
    const t = typedWorkflow("typed-manifest", "/typed/ok").compile().spec.templates?.find((x) => x.name === "get-item");
    expect(t?.http).toEqual({ url: `${base}/typed/ok` });
    expect(JSON.parse(t?.metadata?.annotations?.["opflow.dev/output-schemas"] ?? "{}")).toEqual({
      $result: expect.objectContaining({ type: "object", required: ["id", "tags"] }),
    });
    if (haveArgoCheck) expect((await argoCheck([typedWorkflow("typed-crd", "/typed/ok").compile()])).output).toMatch(/1 passed, 0 failed/);
  }, 120_000);

  it("runs on the local engine: a body that matches reaches the consumer as its typed value", async () => {
    const r = await typedWorkflow("typed-ok", "/typed/ok").run({ workdir: await workdir() });
    expect(r.status.phase, JSON.stringify(Object.values(r.status.nodes ?? {}).map((n) => n.message).filter(Boolean))).toBe("Succeeded");
    expect(node(r, "get")?.outputs?.result).toBe(JSON.stringify({ id: 7, tags: ["a", "b"] }));
    expect(node(r, "describe")?.outputs?.parameters?.find((p) => p.name === "text")?.value).toBe("#7: a+b");
  }, 60_000);

  it("fails the step on a body that does not match, naming the template, the rule and the value", async () => {
    const r = await typedWorkflow("typed-bad", "/typed/bad").run({ workdir: await workdir() });
    expect(r.status.phase).toBe("Failed");
    expect(node(r, "get")?.phase).toBe("Failed");
    expect(node(r, "get")?.message).toMatch(/\(template "get-item"\): outputs.result \(the response body\) at id: Invalid input: expected (int|number), received string, got "\{\\"id\\":\\"seven\\",\\"tags\\":\[\]\}"$/);
    expect(node(r, "describe")).toBeUndefined();
    const r2 = await typedWorkflow("typed-text", "/typed/text").run({ workdir: await workdir() });
    expect(node(r2, "get")?.message).toMatch(/template "get-item"\): outputs.result \(the response body\): Invalid input: expected object, received string, got "all good" \(the body is not JSON\)$/);
  }, 60_000);

  it("refuses a result that is no zod schema, or one without a JSON Schema form", () => {
    expect(() => new HttpTemplate({ name: "h", url: "http://x", result: { id: 1 } as unknown as z.ZodType<{ id: number }> })).toThrow(/template "h": result must be a zod schema of the response body .*got an object/);
    expect(() => new HttpTemplate({ name: "h", url: "http://x", result: z.bigint() })).toThrow(/template "h": result: the schema has no JSON Schema form/);
  });
});
