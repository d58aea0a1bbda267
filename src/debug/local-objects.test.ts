/**
 * ConfigMaps and Secrets from a local store stand in for the cluster's: a container's env as
 * Kubernetes builds it (envFrom, then env valueFrom secretKeyRef / configMapKeyRef / fieldRef),
 * and parameters' valueFrom.configMapKeyRef with Argo's fallback to `default` (workflow/common/
 * util.go substituteAndGetConfigMapValue; upstream examples/secrets.yaml,
 * arguments-parameters-from-configmap.yaml).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalObjects, loadLocalObjects } from "./local-objects.ts";
import { manifest, node, removeWorkdirs, workdir } from "../../test/helpers/engine.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

const SECRET = "s3cr3t-value-91f";
const objects = new LocalObjects([
  { apiVersion: "v1", kind: "Secret", metadata: { name: "creds" }, data: { password: Buffer.from(SECRET).toString("base64") }, stringData: { user: "ada" } },
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { greeting: "hello", color: "blue" } },
]);

describe("ConfigMaps and Secrets from the local store", () => {
  it("builds the environment from envFrom, then env valueFrom, and never writes a secret's value", async () => {
    const wf = manifest("objects-env", [
      {
        name: "main",
        container: {
          image: "alpine",
          command: ["sh", "-c"],
          args: ['echo "$P_greeting $P_color $USERNAME ${POD%%-*} ${MISSING:-unset} ${#PASSWORD}"'],
          envFrom: [{ prefix: "P_", configMapRef: { name: "settings" } }],
          env: [
            { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
            { name: "USERNAME", valueFrom: { secretKeyRef: { name: "creds", key: "user" } } },
            { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "MISSING", valueFrom: { configMapKeyRef: { name: "settings", key: "nope", optional: true } } },
          ],
        },
      },
    ]);
    const dir = await workdir();
    const { status, dir: runDir } = await runWorkflow(wf, { workdir: dir, objects });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "objects-env").outputs?.result).toBe(`hello blue ada objects unset ${SECRET.length}`);
    // The state tree holds no secret value.
    const files = (await fs.readdir(runDir, { recursive: true })).map((f) => path.join(runDir, String(f)));
    for (const f of files) {
      if ((await fs.stat(f)).isFile()) expect(await fs.readFile(f, "utf8"), f).not.toContain(SECRET);
    }
  });

  it("refuses, naming the object and the key, what the store lacks or when there is no store", async () => {
    const missing = manifest("objects-missing", [
      { name: "main", container: { image: "a", command: ["true"], env: [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } }] } },
    ]);
    const r1 = await runWorkflow(missing, { workdir: await workdir(), objects });
    expect(node(r1.status, "objects-missing").message).toContain('env "X": Secret "creds" has no key "token"');
    const r2 = await runWorkflow(missing, { workdir: await workdir() });
    expect(node(r2.status, "objects-missing").message).toContain('env "X": refers to a ConfigMap or Secret, and no local store was given (opflow run --objects FILE|DIR');
  });

  it("reads parameters from a ConfigMap, falling back to the default when it is missing", async () => {
    const wf = manifest(
      "objects-params",
      [
        {
          name: "main",
          inputs: {
            parameters: [
              { name: "a", valueFrom: { configMapKeyRef: { name: "settings", key: "greeting" } } },
              { name: "b", valueFrom: { configMapKeyRef: { name: "absent", key: "k" }, default: "fallback" } },
            ],
          },
          container: { image: "a", command: ["echo", "{{inputs.parameters.a}} {{inputs.parameters.b}} {{workflow.parameters.w}}"] },
        },
      ],
      { arguments: { parameters: [{ name: "w", valueFrom: { configMapKeyRef: { name: "settings", key: "color" } } }] } },
    );
    const { status } = await runWorkflow(wf, { workdir: await workdir(), objects });
    expect(status.phase).toBe("Succeeded");
    expect(node(status, "objects-params").outputs?.result).toBe("hello fallback blue");
  });

  it("loads ConfigMaps and Secrets from manifest files", async () => {
    const dir = await workdir();
    const file = path.join(dir, "objects.yaml");
    await fs.writeFile(file, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: w\n`);
    const loaded = await loadLocalObjects([dir]);
    expect(loaded.get("ConfigMap", "c", "k")?.toString()).toBe("v");
    expect(loaded.get("Secret", "s", "k")?.toString()).toBe("w");
  });
});
