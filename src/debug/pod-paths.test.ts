import { describe, expect, it } from "vitest";
import type { Template } from "../argo/model.ts";
import { checkPodPaths, hasPodRootPaths, hostPath, literalPath, podPath, podRootPaths } from "./pod-paths.ts";

const dir = "/runs/wf/step";

describe("pod paths never leave the step's folder", () => {
  it("maps /tmp, /mnt, relative and any other absolute path into the step's folder", () => {
    expect(hostPath("/tmp/out.txt", dir)).toBe("/runs/wf/step/out.txt");
    expect(hostPath("/mnt/data", dir)).toBe("/runs/wf/step/mnt/data");
    expect(hostPath("rel/x", dir)).toBe("/runs/wf/step/workdir/rel/x");
    expect(hostPath("/var/tmp/victim-dir", dir)).toBe("/runs/wf/step/fs/var/tmp/victim-dir");
    expect(hostPath("/etc/shadow", dir)).toBe("/runs/wf/step/fs/etc/shadow");
    expect(hostPath("/tmp/../../etc/shadow", dir)).toBe("/runs/wf/step/fs/etc/shadow");
    expect(hostPath("/", dir)).toBe("/runs/wf/step/fs");
    expect(hostPath("a/../b", dir)).toBe("/runs/wf/step/workdir/b");
  });

  it("refuses a relative path that goes up, and empty or NUL paths", () => {
    expect(() => hostPath("../x", dir)).toThrow(`path "../x": a relative path must stay in the working directory (no "../" above it)`);
    expect(() => hostPath("a/../../x", dir)).toThrow("must stay in the working directory");
    expect(() => hostPath("..", dir)).toThrow("must stay in the working directory");
    expect(() => hostPath("", dir)).toThrow("must not be empty");
    expect(() => hostPath("/tmp/a\0b", dir)).toThrow("NUL");
  });

  it("shows a mounted pod its own file system at the declared paths, and keeps literal copies to /tmp and /mnt", () => {
    expect(podPath("/data/in", dir, "mounted")).toBe("/data/in");
    expect(podPath("/tmp/x", dir, "mounted")).toBe("/tmp/x");
    expect(podPath("rel", dir, "mounted")).toBe("rel");
    expect(podPath("/data/in", dir, "host")).toBe("/runs/wf/step/fs/data/in");
    expect(literalPath("/tmp/message", dir, "host")).toBe("/tmp/message");
    expect(literalPath("/data/in", dir, "host")).toBeUndefined();
    expect(literalPath("/etc/shadow", dir, "host")).toBeUndefined();
  });

  it("lists the paths of the pod's own file system: absolute, outside /tmp and /mnt, by kind", () => {
    const t: Template = {
      name: "t",
      inputs: { artifacts: [{ name: "a", path: "/data/in" }, { name: "b", path: "/tmp/in" }, { name: "c" }] },
      outputs: { parameters: [{ name: "p", valueFrom: { path: "/output" } }, { name: "q", valueFrom: { path: "rel" } }], artifacts: [{ name: "o", path: "/mnt/out" }, { name: "r", path: "/result" }] },
      container: { image: "x", command: ["true"], workingDir: "/app", volumeMounts: [{ name: "v", mountPath: "/workspace" }, { name: "w", mountPath: "/tmp/w" }] },
    };
    expect(podRootPaths(t)).toEqual({ source: "", inputs: ["/data/in"], outputs: ["/output", "/result"], others: ["/app", "/workspace"] });
    expect(hasPodRootPaths(podRootPaths({ name: "u", container: { image: "x", command: ["cat", "/tmp/x"] } }))).toBe(false);
  });

  it("checks names that become file names and declared paths, naming the field", () => {
    const t = (extra: Partial<Template>): Template => ({ name: "t", container: { image: "x", command: ["true"] }, ...extra });
    const where = 'node "n"';
    expect(() => checkPodPaths(t({}), [{ name: "../../../var/tmp/PWNED-in", value: "x" }], where)).toThrow(
      `node "n": input parameter name "../../../var/tmp/PWNED-in" must be letters, digits, '-' and '_' (Argo's rule; it names a file of the step)`,
    );
    expect(() => checkPodPaths(t({ outputs: { parameters: [{ name: "a/b", value: "x" }] } }), [], where)).toThrow("output parameter name");
    expect(() => checkPodPaths(t({ inputs: { artifacts: [{ name: "..", path: "/tmp/a" }] } }), [], where)).toThrow("input artifact name");
    expect(() => checkPodPaths(t({ outputs: { artifacts: [{ name: "o", path: "../../o" }] } }), [], where)).toThrow(`node "n": output artifact "o": path "../../o"`);
    expect(() => checkPodPaths(t({ container: { image: "x", workingDir: "../up" } }), [], where)).toThrow("workingDir");
    expect(() => checkPodPaths(t({ inputs: { artifacts: [{ name: "ok_name-1", path: "/data/x" }] } }), [{ name: "p-1_x", value: "" }], where)).not.toThrow();
  });
});
