/**
 * `opflow run --name` after an OP's code changed: the steps of that OP, and what they feed,
 * run again; the end line and `--json` say which and why.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const index = path.join(repo, "src/index.ts");
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp("/var/tmp/opflow-resume-cli-");
  // A package of its own (ESM), finding zod where opflow does.
  await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  await fs.symlink(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const op = (name: string, body: string): string => `
import { appendFileSync } from "node:fs";
import { z } from "zod";
import { defineOp, param } from ${JSON.stringify(index)};
export const ${name} = defineOp({
  name: ${JSON.stringify(name)},
  inputs: { x: param(z.number()) },
  outputs: { y: param(z.number()) },
  async execute({ x }) {
    appendFileSync(${JSON.stringify(path.join("JOURNAL"))}, ${JSON.stringify(name)} + " " + x + "\\n");
    return { y: ${body} };
  },
});
`;

const workflow = `
import { z } from "zod";
import { OPTemplate, Step, Steps, Workflow, param } from ${JSON.stringify(index)};
import { double } from "./double.ts";
import { inc } from "./inc.ts";
const main = new Steps({ name: "main", inputs: { n: param(z.number()) } });
const a = main.add(new Step("a", OPTemplate.fromOp(double), { parameters: { x: main.io.parameters.n } }));
main.add([
  new Step("b", OPTemplate.fromOp(inc), { parameters: { x: a.outputs.parameters.y } }),
  new Step("c", OPTemplate.fromOp(inc), { parameters: { x: main.io.parameters.n } }),
]);
export default new Workflow({ name: "ops", entrypoint: main, parameters: { n: 5 } });
`;

function opflow(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, "bin/opflow.mjs"), ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Doc {
  phase: string;
  resume: { reused: { name: string; how: string }[]; rerun: { name: string; reasons: string[] }[] };
}

describe("opflow run: resume after an OP's code changed", () => {
  it("re-runs the changed OP's step and the step it feeds; says which and why", async () => {
    const journal = path.join(dir, "journal.txt");
    await fs.writeFile(path.join(dir, "double.ts"), op("double", "x * 2").replace('"JOURNAL"', JSON.stringify(journal)));
    await fs.writeFile(path.join(dir, "inc.ts"), op("inc", "x + 1").replace('"JOURNAL"', JSON.stringify(journal)));
    await fs.writeFile(path.join(dir, "wf.ts"), workflow);
    const ran = async (): Promise<string[]> => {
      const lines = (await fs.readFile(journal, "utf8").catch(() => "")).split("\n").filter(Boolean).sort();
      await fs.rm(journal, { force: true });
      return lines;
    };

    const first = await opflow(["run", "wf.ts", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(await ran()).toEqual(["double 5", "inc 10", "inc 5"]);

    // The OP's code changes (a file the workflow imports): its step and the step it feeds run.
    await fs.writeFile(path.join(dir, "double.ts"), op("double", "x * 3").replace('"JOURNAL"', JSON.stringify(journal)));
    const second = await opflow(["run", "wf.ts", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(await ran()).toEqual(["double 5", "inc 15"]);
    const doc = JSON.parse(second.stdout) as Doc;
    expect(doc.phase).toBe("Succeeded");
    expect(doc.resume.reused.map((r) => [r.name, r.how])).toEqual([["ops[1].c", "resumed"]]);
    const why = Object.fromEntries(doc.resume.rerun.map((r) => [r.name, r.reasons]));
    expect(Object.keys(why).sort()).toEqual(["ops[0].a", "ops[1].b"]);
    expect(why["ops[0].a"]?.[0]).toMatch(/^template changed \(.*the OP's code/);
    expect(why["ops[1].b"]).toEqual(['parameter x changed ("10" → "15")']);

    // The end line without --json.
    const third = await opflow(["run", "wf.ts", "-p", "n=6", "--quiet"]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toMatch(/Workflow ops Succeeded in .* \(3 re-ran because they changed\)/);
    expect(third.stdout).toContain('re-ran [0].a: parameter x changed ("5" → "6")');
    const fourth = await opflow(["run", "wf.ts", "-p", "n=6", "--quiet"]);
    expect(fourth.stdout).toMatch(/Workflow ops Succeeded in .* \(3 steps reused\)/);
    const restarted = await opflow(["run", "wf.ts", "-p", "n=6", "--quiet", "--restart"]);
    expect(restarted.stdout).toMatch(/Workflow ops Succeeded in [^(]*\n/);
    // n=6 ran once, nothing the second time, everything again after --restart.
    expect(await ran()).toEqual(["double 6", "double 6", "inc 18", "inc 18", "inc 6", "inc 6"]);
  }, 120_000);
});
