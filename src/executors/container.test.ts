import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX_IMAGE, ensureImage, podmanSkipReason } from "./_test-images.ts";
import { containerName, defaultPodman, imageMapFrom, limitOptions, mapImage, mountOption, ownFileSystem, parseImageMap, parseQuantity, podmanRunArgs, runContainer } from "./container.ts";

const made: string[] = [];
async function tmp(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-container-"));
  made.push(dir);
  return dir;
}
afterAll(() => Promise.all(made.map((d) => fs.rm(d, { recursive: true, force: true }))));

function containerExists(name: string): boolean {
  const conf = defaultPodman().containersConf;
  const r = spawnSync("podman", ["container", "exists", name], { env: { ...process.env, ...(conf ? { CONTAINERS_CONF: conf } : {}) } });
  return r.status === 0;
}

describe("container options", () => {
  it("reads Kubernetes quantities and refuses anything else", () => {
    expect(parseQuantity("500m", "cpu")).toBe(0.5);
    expect(parseQuantity("2", "cpu")).toBe(2);
    expect(parseQuantity("64Mi", "memory")).toBe(64 * 2 ** 20);
    expect(parseQuantity("1G", "memory")).toBe(1e9);
    expect(parseQuantity(1.5, "cpu")).toBe(1.5);
    expect(() => parseQuantity("lots", 'template "t": limits.memory')).toThrow('template "t": limits.memory: expects a Kubernetes quantity such as "500m", "2", "512Mi" or "1G", got "lots"');
    expect(() => parseQuantity(-1, "cpu")).toThrow("cpu: expects a positive quantity, got -1");
    expect(limitOptions({ cpu: "250m", memory: "64Mi" })).toEqual(["--cpus=0.25", `--memory=${64 * 2 ** 20}b`]);
  });

  it("maps manifest images to local ones, short and long names alike", () => {
    const map = parseImageMap(["node:20-slim=localhost/opflow-node:20", "busybox=localhost/local/busybox"]);
    expect(mapImage("node:20-slim", map)).toBe("localhost/opflow-node:20");
    expect(mapImage("docker.io/library/node:20-slim", map)).toBe("localhost/opflow-node:20");
    expect(mapImage("busybox:latest", map)).toBe("busybox:latest");
    expect(mapImage("busybox", map)).toBe("localhost/local/busybox");
    expect(mapImage("python:3", map)).toBe("python:3");
    expect(() => parseImageMap(["node:20-slim"])).toThrow('--image: expects NAME=LOCAL_IMAGE (e.g. node:20-slim=localhost/opflow-node:20), got "node:20-slim"');
    expect(() => parseImageMap(["=x"])).toThrow(/got "=x"/);
    const fromEnv = imageMapFrom(["busybox=mine"], { OPFLOW_IMAGES: "node:20-slim=localhost/opflow-node:20, busybox=localhost/local/busybox" });
    expect([...fromEnv]).toEqual([["node:20-slim", "localhost/opflow-node:20"], ["busybox", "mine"]]);
    expect(() => imageMapFrom([], { OPFLOW_IMAGES: "oops" })).toThrow('$OPFLOW_IMAGES: expects NAME=LOCAL_IMAGE (e.g. node:20-slim=localhost/opflow-node:20), got "oops"');
  });

  it("runs offline, never pulls, and overrides the entrypoint only when a command is given", () => {
    const args = podmanRunArgs({ image: "img", args: ["a"], env: { A: "1 2" }, workingDir: "/w", mounts: [{ source: "/h", target: "/tmp", readOnly: true }], logFile: "/dev/null" }, "n");
    expect(args).toEqual(["run", "--rm", "--name", "n", "--pull=never", "--network=none", "--log-driver=none", "--mount", "type=bind,source=/h,destination=/tmp,readonly=true", "--env", "A=1 2", "--workdir", "/w", "--", "img", "a"]);
    expect(mountOption({ source: '/runs/w/[1].sleep(0:20),x "q"', target: "/tmp" })).toBe('type=bind,"source=/runs/w/[1].sleep(0:20),x ""q""",destination=/tmp');
    expect(podmanRunArgs({ image: "img", command: ["sh", "-c"], args: ["x"], logFile: "/dev/null" }, "n")).toContain('["sh","-c"]');
    expect(() => podmanRunArgs({ image: "i", mounts: [{ source: "/a", target: "rel" }], logFile: "/dev/null" }, "n")).toThrow(/mount target "rel" must be an absolute path/);
    expect(containerName("Hello World/step")).toMatch(/^opflow-hello-world-step-[0-9a-f]{8}$/);
  });
});

const skip = podmanSkipReason();
if (skip) console.warn(`container tests skipped: ${skip}`);
describe.skipIf(skip !== undefined)(`runContainer with real podman${skip ? ` (skipped: ${skip})` : ""}`, () => {
  beforeAll(() => {
    ensureImage(BUSYBOX_IMAGE);
  }, 180_000);

  it("runs the command with env, workingDir and mounts at declared paths; captures stdout and logs both streams", async () => {
    const dir = await tmp();
    await fs.mkdir(path.join(dir, "step", "inputs", "artifacts"), { recursive: true });
    await fs.writeFile(path.join(dir, "step", "inputs", "artifacts", "msg"), "from an input artifact\n");
    await fs.mkdir(path.join(dir, "data"));
    const r = await runContainer({
      image: BUSYBOX_IMAGE,
      command: ["sh", "-c"],
      args: ['cat /tmp/inputs/artifacts/msg; echo "$GREETING in $(pwd)"; echo oops >&2; echo out > /data/result; mkdir -p /tmp/outputs/parameters; echo 42 > /tmp/outputs/parameters/n'],
      env: { GREETING: "hello world" },
      workingDir: "/tmp/work",
      mounts: [
        { source: path.join(dir, "step"), target: "/tmp" },
        { source: path.join(dir, "data"), target: "/data" },
      ],
      logFile: path.join(dir, "log.txt"),
    });
    expect(r.startError).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("from an input artifact\nhello world in /tmp/work\n");
    expect(await fs.readFile(path.join(dir, "log.txt"), "utf8")).toContain("oops\n");
    expect(await fs.readFile(path.join(dir, "data", "result"), "utf8")).toBe("out\n");
    expect(await fs.readFile(path.join(dir, "step", "outputs", "parameters", "n"), "utf8")).toBe("42\n");
  });

  it("mounts folders whose names hold colons, commas and quotes", async () => {
    const dir = await tmp();
    const odd = path.join(dir, 'sleep(0:20),x "q"');
    await fs.mkdir(odd);
    await fs.writeFile(path.join(odd, "f"), "odd\n");
    const r = await runContainer({ image: BUSYBOX_IMAGE, command: ["cat", "/tmp/f"], mounts: [{ source: odd, target: "/tmp" }], logFile: path.join(dir, "log.txt") });
    expect(r.stdout).toBe("odd\n");
  });

  it("reports the container's exit code, and reads stdin", async () => {
    const dir = await tmp();
    const r = await runContainer({ image: BUSYBOX_IMAGE, command: ["sh", "-c", "read x; echo got $x; exit 7"], stdin: "line\n", logFile: path.join(dir, "log.txt") });
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toBe("got line\n");
    const missing = await runContainer({ image: BUSYBOX_IMAGE, command: ["no-such-command"], logFile: path.join(dir, "log2.txt") });
    expect(missing.exitCode).toBe(127);
  });

  it("has no network", async () => {
    const dir = await tmp();
    const r = await runContainer({ image: BUSYBOX_IMAGE, command: ["sh", "-c", "ls /sys/class/net"], logFile: path.join(dir, "log.txt") });
    expect(r.stdout.trim().split(/\s+/)).toEqual(["lo"]);
  });

  it("applies memory and cpu limits", async () => {
    const dir = await tmp();
    const r = await runContainer({
      image: BUSYBOX_IMAGE,
      command: ["sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"],
      limits: { cpu: "500m", memory: "64Mi" },
      logFile: path.join(dir, "log.txt"),
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(String(64 * 2 ** 20));
  });

  it("stops and removes the container at its timeout", async () => {
    const dir = await tmp();
    const name = containerName("timeout");
    const started = Date.now();
    const r = await runContainer({ image: BUSYBOX_IMAGE, command: ["sleep", "60"], timeoutMs: 1500, graceMs: 1000, name, logFile: path.join(dir, "log.txt") });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(containerExists(name)).toBe(false);
  });

  it("stops the container when aborted, even before podman created it", async () => {
    const dir = await tmp();
    for (const delay of [0, 1500]) {
      const abort = new AbortController();
      const name = containerName("abort");
      setTimeout(() => abort.abort(), delay);
      const r = await runContainer({ image: BUSYBOX_IMAGE, command: ["sleep", "60"], signal: abort.signal, graceMs: 500, name, logFile: path.join(dir, "log.txt") });
      expect(r.aborted).toBe(true);
      expect(containerExists(name)).toBe(false);
    }
  });

  it("says how to map an image this machine does not have", async () => {
    const dir = await tmp();
    const r = await runContainer({ image: "no-such-image:1", command: ["true"], logFile: path.join(dir, "log.txt") });
    expect(r.startError).toBe('image "no-such-image:1" is not on this machine (containers never pull images here): map it to a local image, e.g. --image no-such-image:1=localhost/opflow-node:20 (scripts/make-node-image.sh builds that one)');
  });
});

describe("a container's own file system", () => {
  it("binds laid-out inputs at their paths and copies outputs out, except those a mount or an input already holds", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-own-fs-"));
    try {
      const source = path.join(dir, "fs");
      await fs.mkdir(path.join(source, "data", "in", "sub"), { recursive: true });
      const own = ownFileSystem(
        { source, inputs: ["/data/in", "/data/in/sub", "/absent-in"], outputs: ["/output", "/data/in/result", "/workspace/out", "/result//x"], others: ["/app"] },
        [{ source: path.join(dir, "vol"), target: "/workspace" }],
      );
      expect(own.mounts).toEqual([{ source: path.join(source, "data", "in"), target: "/data/in" }]);
      expect(own.copyOut).toEqual([
        { from: "/output", to: path.join(source, "output") },
        { from: "/result/x", to: path.join(source, "result", "x") },
      ]);
      expect(ownFileSystem({ source, inputs: [], outputs: ["/output"], others: [], collect: false }, []).copyOut).toEqual([]);
      // Without copies the container is removed by podman itself; with them, after the copies.
      expect(podmanRunArgs({ image: "i", logFile: "l" }, "n")).toContain("--rm");
      expect(podmanRunArgs({ image: "i", logFile: "l", copyOut: own.copyOut }, "n")).not.toContain("--rm");
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
