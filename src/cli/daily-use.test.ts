/**
 * The command line as a user meets it daily (issue 15): results printed, logs of local runs,
 * `-p` for the entrypoint's inputs, one store per workdir, help, version and suggestions, and
 * a first line at once. Output captured in-process (test/cli-capture.ts) except for the first
 * line, which needs the real command.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { havePython } from "../../test/helpers/programs.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opflow } from "../../test/cli-capture.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fanOut = path.join(repo, "examples/fan-out.ts");
let work: string;
let workdir: string;
const FAILING = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: daily-bad}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: prepare, template: ok}
    - - {name: boom, template: fail}
  - name: ok
    container: {image: x, command: [sh, -c, 'echo ready']}
  - name: fail
    container: {image: x, command: [sh, -c, 'echo first line; echo second line >&2; exit 3']}
`;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-daily-"));
  workdir = path.join(work, "runs");
  await fs.writeFile(path.join(work, "bad.yaml"), FAILING);
});
afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe("results", () => {
  it("opflow run ends by printing the workflow's outputs; --outputs and --json for scripts; status shows them again", async () => {
    const run = await opflow("run", fanOut, "--workdir", workdir, "--name", "fan-daily", "-q");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Workflow fan-daily Succeeded");
    expect(run.stdout).toContain("Outputs:\n  total = 385\n");

    const outputs = await opflow("run", fanOut, "--workdir", workdir, "-p", "n=3", "--outputs");
    expect(outputs.code, outputs.stderr).toBe(0);
    expect(JSON.parse(outputs.stdout)).toEqual({ total: 14 });

    const json = await opflow("run", fanOut, "--workdir", workdir, "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ phase: "Succeeded", results: { total: 385 } });

    const status = await opflow("status", path.join(workdir, "fan-daily"));
    expect(status.stdout).toContain("Outputs:\n  total = 385\n");
    const statusOutputs = await opflow("status", path.join(workdir, "fan-daily"), "--outputs");
    expect(JSON.parse(statusOutputs.stdout)).toEqual({ total: 385 });
  }, 120_000);

  it.skipIf(!havePython)("outputs are printed typed by the entrypoint's signature: a number list Argo aggregated as strings prints as numbers (needs python3)", async () => {
    const file = path.join(repo, "examples/script-slices.ts");
    const run = await opflow("run", file, "--workdir", workdir, "-q");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("  scores = [1,4,9,16]\n");
    expect(run.stdout).toMatch(/ {2}lines = shard-0\.csv: 1 rows; /);
    const outputs = await opflow("run", file, "--workdir", workdir, "--outputs");
    expect(JSON.parse(outputs.stdout)).toMatchObject({ scores: [1, 4, 9, 16] });
    const json = await opflow("run", file, "--workdir", workdir, "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ results: { scores: [1, 4, 9, 16] } });
  }, 120_000);

  it("a failed run names the failing step by its name and path, not a node id", async () => {
    const run = await opflow("run", path.join(work, "bad.yaml"), "--workdir", workdir, "-q");
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Failed: step "boom" (daily-bad[1].boom) failed: Error (exit code 3)');
    expect(run.stdout).not.toMatch(/child '/);
    const status = await opflow("status", path.join(workdir, "daily-bad"));
    expect(status.stdout).toContain('Failed: step "boom" (daily-bad[1].boom)');
  }, 120_000);
});

describe("parameters", () => {
  it("-p sets the entrypoint's inputs; an unknown name fails before anything is created", async () => {
    const fresh = path.join(work, "fresh");
    const bad = await opflow("run", fanOut, "--workdir", fresh, "-p", "m=3");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('-p m: the workflow takes no parameter "m"; it takes: n (did you mean n?)');
    expect(bad.stdout).not.toContain("Resume with");
    await expect(fs.stat(fresh)).rejects.toThrow(/ENOENT/);
  }, 60_000);
});

describe("logs of local runs", () => {
  it("opflow logs NAME [STEP] reads the local run's log.txt files; --follow prints them and ends with the run", async () => {
    await opflow("run", path.join(work, "bad.yaml"), "--workdir", workdir, "--name", "daily-logs", "-q");
    const all = await opflow("logs", "daily-logs", "--workdir", workdir);
    expect(all.code, all.stderr).toBe(0);
    // Prefixed by pod name, as argo logs does.
    expect(all.stdout).toMatch(/^daily-logs-ok-\d+: ready$/m);
    expect(all.stdout).toMatch(/^daily-logs-fail-\d+: first line\ndaily-logs-fail-\d+: second line$/m);
    const one = await opflow("logs", "daily-logs", "boom", "--workdir", workdir, "--no-prefix");
    expect(one.stdout).toBe("first line\nsecond line\n");
    const follow = await opflow("logs", "daily-logs", "boom", "--workdir", workdir, "--follow");
    expect(follow.code).toBe(0);
    expect(follow.stdout).toMatch(/^daily-logs-fail-\d+: first line\ndaily-logs-fail-\d+: second line\n$/);
    const missing = await opflow("logs", "daily-logs", "nope", "--workdir", workdir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no pod step matches "nope"');
  }, 120_000);
});

describe("storage", () => {
  it("upload and download use the run's store of a workdir (<workdir>/.storage)", async () => {
    const file = path.join(work, "data.txt");
    await fs.writeFile(file, "numbers\n");
    const up = await opflow("upload", file, "--workdir", workdir, "--key", "uploads/data.txt", "--archive", "none", "--no-progress");
    expect(up.code, up.stderr).toBe(0);
    await expect(fs.readFile(path.join(workdir, ".storage", "uploads", "data.txt"), "utf8")).resolves.toBe("numbers\n");
    const down = await opflow("download", "--key", "uploads/data.txt", path.join(work, "back.txt"), "--workdir", workdir, "--no-progress");
    expect(down.code, down.stderr).toBe(0);
    expect(await fs.readFile(path.join(work, "back.txt"), "utf8")).toBe("numbers\n");
  });
});

describe("help, version, suggestions", () => {
  it("opflow help lists one line per command, and every command answers --help and -h", async () => {
    const help = await opflow("help");
    const lines = help.stdout.split("\n").filter((l) => /^ {2}\S/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(18);
    for (const line of lines) expect(line).toMatch(/^ {2}[a-z-]+ +\S.{10,}/);
    for (const line of lines) {
      const name = line.trim().split(/\s+/)[0] as string;
      for (const flag of ["--help", "-h"]) {
        const r = await opflow(name, flag);
        expect(r.code, `${name} ${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout, `${name} ${flag}`).toMatch(/usage: opflow/);
      }
    }
  }, 60_000);

  it("--version prints the package's version", async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(repo, "package.json"), "utf8")) as { version: string };
    expect((await opflow("--version")).stdout).toBe(`opflow ${pkg.version}\n`);
  });

  it("suggests the command or option meant", async () => {
    const cmd = await opflow("rn");
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('unknown command "rn"; did you mean "run"?');
    const opt = await opflow("run", fanOut, "--jsn");
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("unknown option --jsn; did you mean --json?");
    const far = await opflow("xyzzy");
    expect(far.stderr).not.toContain("did you mean");
  });
});

describe("startup", () => {
  it("opflow run says 'loading workflow…' before loading anything", async () => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(repo, "bin/opflow.mjs"), "run", fanOut, "--workdir", path.join(work, "startup")], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let firstErr: { text: string; at: number; stdoutBefore: string } | undefined;
    child.stdout.on("data", (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => void (firstErr ??= { text: d.toString(), at: Date.now() - t0, stdoutBefore: stdout }));
    const total = await new Promise<number>((resolve) => child.on("exit", () => resolve(Date.now() - t0)));
    expect(firstErr?.text).toBe("opflow run: loading workflow…\n");
    expect(firstErr?.stdoutBefore).toBe("");
    // The line comes with node's own start, long before the run ends.
    expect(firstErr?.at).toBeLessThan(total / 3);
  }, 120_000);
});
