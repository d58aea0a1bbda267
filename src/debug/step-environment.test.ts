import { afterAll, describe, expect, it } from "vitest";
import { manifest, node, workdir, removeWorkdirs } from "../../test/helpers/engine.ts";
import { processEnvironment } from "./pod-spec.ts";
import { runWorkflow } from "./run.ts";

afterAll(removeWorkdirs);

const CREDENTIALS = ["OPFLOW_S3_SECRET_KEY", "OPFLOW_S3_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "ARGO_TOKEN", "KUBECONFIG", "OPFLOW_STORAGE_CONFIG"];

describe("a step's environment", () => {
  it("keeps what an image would hold and drops the engine's credentials and configuration", () => {
    const from: NodeJS.ProcessEnv = { PATH: "/usr/bin:/bin", HOME: "/root", LANG: "C.UTF-8", LC_ALL: "C", TZ: "UTC" };
    for (const k of CREDENTIALS) from[k] = "SECRET";
    const env = processEnvironment(from);
    expect(env).toEqual({ PATH: "/usr/bin:/bin:/usr/games", HOME: "/root", LANG: "C.UTF-8", LC_ALL: "C", TZ: "UTC" });
  });

  it("never reaches a step process: OPFLOW_S3_SECRET_KEY and ARGO_TOKEN stay with the engine", async () => {
    const saved = CREDENTIALS.map((k) => [k, process.env[k]] as const);
    for (const k of CREDENTIALS) process.env[k] = `SECRET-${k}`;
    try {
      const wf = manifest("env-test", [{ name: "main", container: { image: "busybox", command: ["env"], env: [{ name: "FROM_TEMPLATE", value: "yes" }] } }]);
      const { status } = await runWorkflow(wf, { workdir: await workdir() });
      expect(status.phase).toBe("Succeeded");
      const out = node(status, "env-test").outputs?.result ?? "";
      expect(out).toContain("FROM_TEMPLATE=yes");
      expect(out).toContain("ARGO_PROGRESS_FILE=");
      expect(out).toMatch(/^PATH=/m);
      expect(out).not.toContain("SECRET");
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
