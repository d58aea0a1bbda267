/**
 * Crash and resume (issue 14): SIGKILLs the engine (`opflow run`) at random moments of a
 * 200-step run, each time followed by a resume (`opflow run FILE --name NAME`), and reports:
 *
 * - re-run succeeded steps: steps the state tree recorded Succeeded before a kill that ran
 *   again after it (must be 0);
 * - wrong outputs: steps whose final output is not the value its inputs determine (must be 0);
 * - the resumes, the kills that landed while the run was still going, and the time taken.
 *
 * The run: 20 groups of 10 parallel shell steps; step (g, i) adds 1 to the output of step
 * (g-1, i), so every output is determined (g + 1), and appends its name to a ledger outside
 * the run folder when it starts (the ledger counts executions).
 *
 * Run: `npm run bench -- kill-resume` or `node bin/run-ts.mjs bench/kill-resume.ts [KILLS] [GROUPS]`
 * (defaults 100 and 20). Exits 1 when a figure that must be 0 is not.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import type { NodeStatus, Template, Workflow, WorkflowStatus } from "../src/argo/model.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const opflowBin = path.resolve(here, "../bin/opflow.mjs");
const kills = Number(process.argv[2] ?? 100);
const groups = Number(process.argv[3] ?? 20);
const width = 10;
const name = "kill-resume";

const work = mkdtempSync(path.join(os.tmpdir(), "opflow-kill-resume-"));
const ledger = path.join(work, "ledger.txt");
const runs = path.join(work, "runs");
const file = path.join(work, "kill-resume.yaml");
writeFileSync(ledger, "");

const step: Template = {
  name: "add",
  inputs: { parameters: [{ name: "step" }, { name: "prev" }] },
  container: {
    image: "busybox",
    command: ["sh", "-c"],
    // The step's name goes to the ledger first: an execution is counted even if it is killed.
    args: [`echo "{{inputs.parameters.step}}" >> ${ledger}; sleep 0.05; echo $(({{inputs.parameters.prev}} + 1))`],
  },
};
const stepName = (g: number, i: number): string => `s${g}-${i}`;
const manifest: Workflow = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Workflow",
  metadata: { name },
  spec: {
    entrypoint: "main",
    templates: [
      {
        name: "main",
        steps: Array.from({ length: groups }, (_, g) =>
          Array.from({ length: width }, (_, i) => ({
            name: stepName(g, i),
            template: "add",
            arguments: {
              parameters: [
                { name: "step", value: stepName(g, i) },
                { name: "prev", value: g === 0 ? "0" : `{{steps.${stepName(g - 1, i)}.outputs.result}}` },
              ],
            },
          })),
        ),
      },
      step,
    ],
  },
};
writeFileSync(file, YAML.stringify(manifest));

interface Attempt {
  readonly code: number | null;
  readonly killed: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** One `opflow run` (a resume when the run folder exists), SIGKILLed after `killAfterMs` unless done. */
function attempt(killAfterMs: number | undefined): Promise<Attempt> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [opflowBin, "run", file, "--name", name, "--workdir", runs, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = child.kill("SIGKILL");
          }, killAfterMs);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, killed: killed && code === null, stdout, stderr });
    });
  });
}

/** Step names the state tree's journal records Succeeded (what a resume must not run again). */
function succeededInJournal(): Set<string> {
  const out = new Set<string>();
  let text = "";
  try {
    text = readFileSync(path.join(runs, name, "nodes.jsonl"), "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    try {
      const rec = JSON.parse(line) as { node?: NodeStatus };
      if (rec.node?.type === "Pod" && rec.node.phase === "Succeeded") out.add(rec.node.displayName ?? "");
    } catch {
      /* a torn line */
    }
  }
  return out;
}

const ledgerLines = (): string[] => readFileSync(ledger, "utf8").split("\n").filter(Boolean);

const started = Date.now();
// How long a whole run takes, to spread the kills over it.
const full = await attempt(undefined);
const fullMs = Date.now() - started;
const firstDoc = JSON.parse(full.stdout) as WorkflowStatus;
if (firstDoc.phase !== "Succeeded") throw new Error(`the reference run ended ${firstDoc.phase}: ${firstDoc.message}`);
rmSync(path.join(runs, name), { recursive: true, force: true });
writeFileSync(ledger, "");

let wrongTotal = 0;
let rerunSucceeded = 0;
let landed = 0;
let finishedBeforeKill = 0;
const rerunNames = new Set<string>();
for (let k = 0; k < kills; k++) {
  const before = succeededInJournal();
  const seen = ledgerLines().length;
  const r = await attempt(Math.round(Math.random() * fullMs));
  // Executions since the last kill of steps the journal had as Succeeded before this attempt.
  for (const s of ledgerLines().slice(seen)) {
    if (before.has(s)) {
      rerunSucceeded++;
      rerunNames.add(s);
    }
  }
  if (r.killed) landed++;
  else {
    finishedBeforeKill++;
    // Finished: start over so that later kills land in a run again.
    const doc = JSON.parse(r.stdout) as WorkflowStatus;
    if (doc.phase !== "Succeeded") throw new Error(`attempt ${k} ended ${doc.phase}: ${doc.message}\n${r.stderr}`);
    checkOutputs(doc);
    rmSync(path.join(runs, name), { recursive: true, force: true });
  }
}
// The last resume, to completion.
const before = succeededInJournal();
const seen = ledgerLines().length;
const last = await attempt(undefined);
for (const s of ledgerLines().slice(seen)) if (before.has(s)) rerunSucceeded++;
const lastDoc = JSON.parse(last.stdout) as WorkflowStatus;
const wrong = lastDoc.phase === "Succeeded" ? checkOutputs(lastDoc) : Infinity;

/** Counts the steps whose output is not g + 1 (or that are missing). */
function checkOutputs(doc: WorkflowStatus): number {
  const byName = new Map<string, NodeStatus>();
  for (const n of Object.values(doc.nodes ?? {})) if (n.type === "Pod") byName.set(n.displayName, n);
  let bad = 0;
  for (let g = 0; g < groups; g++) {
    for (let i = 0; i < width; i++) {
      const n = byName.get(stepName(g, i));
      if (n?.phase !== "Succeeded" || n.outputs?.result !== String(g + 1)) bad++;
    }
  }
  wrongTotal += bad;
  return bad;
}

console.log(`kill-resume: ${groups * width}-step run (${groups} groups of ${width}), one full run ${(fullMs / 1000).toFixed(1)} s`);
console.log(`  SIGKILLs: ${kills} (${landed} landed while the run was going, ${finishedBeforeKill} after it had finished: started over)`);
console.log(`  final resume: ${lastDoc.phase}${lastDoc.message ? ` (${lastDoc.message})` : ""}`);
console.log(`  re-run succeeded steps: ${rerunSucceeded}${rerunNames.size ? ` (${[...rerunNames].slice(0, 10).join(", ")})` : ""}`);
console.log(`  wrong outputs: ${wrongTotal} (final run: ${wrong})`);
console.log(`  total time: ${((Date.now() - started) / 1000).toFixed(0)} s`);
rmSync(work, { recursive: true, force: true });
process.exitCode = rerunSucceeded === 0 && wrongTotal === 0 && lastDoc.phase === "Succeeded" ? 0 : 1;
