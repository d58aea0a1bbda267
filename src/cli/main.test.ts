import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { opflow } from "../../test/cli-capture.ts";

const here = path.dirname(new URL(import.meta.url).pathname);
const commandFiles = fs
  .readdirSync(path.join(here, "commands"))
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
  .sort();
const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("opflow (main)", () => {
  it("lists every command module in help with its one-line summary", async () => {
    const help = await opflow("help");
    expect(help.code).toBe(0);
    const listed = [...help.stdout.matchAll(/^ {2}(\S+) +(\S.*)$/gm)].map((m) => m[1]);
    expect(listed).toEqual(commandFiles);
  });

  it("shows each command's summary and usage with `help <command>`", async () => {
    for (const name of commandFiles) {
      const one = await opflow("help", name);
      expect(one.code).toBe(0);
      expect(one.stdout).toMatch(new RegExp(`^[A-Z].*\\n\\nusage: opflow ${name}\\b`));
    }
  });

  it("refuses an unknown command with exit code 2, also one named like an Object method", async () => {
    for (const name of ["frobnicate", "toString", "constructor"]) {
      const r = await opflow(name);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`opflow: unknown command ${JSON.stringify(name)}`);
    }
    expect((await opflow("help", "toString")).stdout).toContain("commands:");
  });

  it("gives exit code 2 and the usage for mistakes on the command line of render, run, status and execute", async () => {
    const cases: [string[], RegExp][] = [
      [["render"], /opflow render: expects one FILE/],
      [["render", "a.ts", "--yaml"], /opflow render: unknown option --yaml/],
      [["run"], /opflow run: expects a FILE to run/],
      [["run", "a.ts", "b.ts"], /opflow run: expects one FILE, got "a.ts" and "b.ts"/],
      [["run", "a.ts", "-p", "novalue"], /opflow run: --parameter expects NAME=VALUE, got "novalue"/],
      [["run", "a.ts", "--parallelism", "0"], /opflow run: --parallelism expects a positive integer, got "0"/],
      [["run", "a.ts", "--name"], /opflow run: Option '--name <value>' argument missing/],
      [["status"], /opflow status: expects one DIR/],
      [["status", "x", "--color"], /opflow status: unknown option --color/],
      [["execute", "--op", "x"], /opflow execute: expects --module and --op/],
      [["execute", "--module", "m.ts", "--op", "x", "extra"], /opflow execute: unexpected argument "extra"/],
    ];
    for (const [argv, message] of cases) {
      const r = await opflow(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(`usage: opflow ${argv[0]}`);
    }
  });

  it("status finds a run by name under the default workdir", async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-main-"));
    made.push(cwd);
    const run = path.join(cwd, "opflow-runs", "wf-1");
    fs.mkdirSync(run, { recursive: true });
    fs.writeFileSync(path.join(run, "manifest.yaml"), "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: wf-1}\nspec: {entrypoint: main, templates: [{name: main, container: {image: x}}]}\n");
    fs.writeFileSync(path.join(run, "status"), "Succeeded");
    const before = process.cwd();
    process.chdir(cwd);
    try {
      const r = await opflow("status", "wf-1", "--json");
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ name: "wf-1", dir: path.join(fs.realpathSync(cwd), "opflow-runs", "wf-1"), phase: "Succeeded" });
    } finally {
      process.chdir(before);
    }
  });
});
