/**
 * Upstream example workflows run on the local engine and end as Argo ends them: Argo's own
 * examples (test/fixtures/upstream-argo) and Hera's example workflows (test/fixtures/hera),
 * each with the phase — and some with the node phases — that `expected.json` gives and sources.
 * Examples marked `knownFailing` are expected to fail (with the reason in the test's name):
 * when one starts passing, the test says so, and its mark should go.
 * Examples with suspend nodes that wait for a person get what `resume` in `expected.json` says
 * (node set, resume), as a person would give it with the argo CLI.
 * Stand-ins (test/fixtures/bin) play the images' programs: cowsay for whalesay, argosay, and
 * nginx and influxd for the daemons of the daemon examples; examples whose commands are not
 * installed here (python, curl) are skipped, and say so.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { NodeSetOptions } from "../argo/client.ts";
import type { Workflow, WorkflowStatus } from "../argo/model.ts";
import { NodeRequestChannel } from "./node-requests.ts";
import { parseYamlDocuments } from "../argo/parse-yaml.ts";
import { runWorkflow } from "./run.ts";
import { loadWorkflowTemplates } from "./workflow-templates.ts";
import { loadLocalObjects } from "./local-objects.ts";
import { namespacesAvailable } from "../executors/local-process.ts";
import { engineStorageRoot } from "./workdir.ts";

const fixtures = fileURLToPath(new URL("../../test/fixtures", import.meta.url));
const STAND_INS = path.join(fixtures, "bin");
process.env["PATH"] = `${STAND_INS}:${process.env["PATH"] ?? "/usr/bin:/bin"}`;

interface Expected {
  /** How Argo ends the workflow; "Refused": Argo refuses the manifest (see `refused`). */
  readonly phase: string;
  /** Part of the message with which the engine refuses it, as Argo does. */
  readonly refused?: string;
  /** Where that comes from (upstream test, label or docs page). */
  readonly from: string;
  /** Node display name → phase; null: Argo creates no such node. */
  readonly nodes?: Readonly<Record<string, string | null>>;
  /** Why the local engine does not end it as Argo does yet. */
  readonly knownFailing?: string;
  /**
   * Why it needs private mount namespaces (root with unshare): its commands write paths of the
   * container's own file system. Skipped, saying so, where there are none.
   */
  readonly needsNamespaces?: string;
  /** Files (relative to the corpus) with the WorkflowTemplates it refers to. */
  readonly templates?: readonly string[];
  /** Files or folders (relative to the corpus) with the ConfigMaps and Secrets it reads. */
  readonly objects?: readonly string[];
  /**
   * What a person does while it runs, in order, each once a suspend node waits: `set` as
   * `argo node set` (NodeSetOptions), `resume` as `argo resume` (with an optional selector).
   */
  readonly resume?: readonly ({ readonly set: NodeSetOptions } | { readonly resume: { readonly nodeFieldSelector?: string } })[];
  /**
   * Ports of 127.0.0.1 its daemons listen on (the local engine's pod IP is the same for every
   * daemon): examples sharing a port run one after another; one below 1024 needs root.
   */
  readonly ports?: readonly number[];
  /**
   * A folder (relative to the corpus) whose files are the keys of the artifact store the example
   * runs with (its bucket, for data templates); it then runs in a workdir of its own.
   */
  readonly store?: string;
}

/** Plays the person of `actions`: each is sent once a suspend node of the live run waits. */
async function actAsPerson(actions: Expected["resume"], channel: NodeRequestChannel, live: () => WorkflowStatus | undefined, ended: () => boolean): Promise<void> {
  for (const action of actions ?? []) {
    while (!Object.values(live()?.nodes ?? {}).some((n) => n.type === "Suspend" && n.phase === "Running")) {
      // A run that ended first is judged by its phase and nodes; the action is not made.
      if (ended()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    channel.send("set" in action ? { action: "set", options: action.set } : { action: "resume", ...action.resume });
  }
}

/** One chain of runs per port: examples whose daemons use the same port never run at once. */
const portChains = new Map<number, Promise<unknown>>();
async function withPorts<T>(ports: readonly number[], run: () => Promise<T>): Promise<T> {
  const before = ports.map((p) => portChains.get(p) ?? Promise.resolve());
  const mine = Promise.allSettled(before).then(run);
  for (const p of ports) portChains.set(p, mine.catch(() => undefined));
  return mine;
}

const NAMESPACES = namespacesAvailable();
const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-corpus-"));
afterAll(() => fs.rmSync(workdir, { recursive: true, force: true }));

function haveCommand(command: string): boolean {
  return [...(process.env["PATH"] ?? "").split(":"), "/usr/games"].some((d) => d && fs.existsSync(path.join(d, command)));
}

/** Commands a manifest runs that may be missing on a bare machine. */
function missingCommands(wf: Workflow): string[] {
  const wanted = new Set<string>();
  for (const t of wf.spec.templates ?? []) {
    const c = t.script ?? t.container;
    const cmd = c?.command?.[0];
    if (cmd && /^(python3?|node|bash)$/.test(path.basename(cmd))) wanted.add(path.basename(cmd));
    // The clients of the daemon examples (curlimages/curl) run curl from a shell.
    if (c?.image?.includes("curl")) wanted.add("curl");
  }
  return [...wanted].filter((c) => !haveCommand(c));
}

function corpus(dir: string, title: string): void {
  const expectedFile = path.join(fixtures, dir, "expected.json");
  const expected = JSON.parse(fs.readFileSync(expectedFile, "utf8")) as { examples: Record<string, Expected> };
  describe.concurrent(title, { timeout: 120_000 }, () => {
    for (const [file, e] of Object.entries(expected.examples)) {
      const text = fs.readFileSync(path.join(fixtures, dir, file), "utf8");
      const wf = parseYamlDocuments(text, file).find((d) => (d as { kind?: unknown }).kind === "Workflow") as Workflow;
      const missing = missingCommands(wf);
      // Volumes are mounted in private mount namespaces (root with unshare).
      if (!NAMESPACES && JSON.stringify(wf).includes('"volumeMounts"')) missing.push("private mount namespaces (for volumes)");
      if (!NAMESPACES && e.needsNamespaces) missing.push(`private mount namespaces (${e.needsNamespaces})`);
      if ((e.ports ?? []).some((p) => p < 1024) && process.getuid?.() !== 0) missing.push(`root (its daemon listens on port ${(e.ports ?? []).join(", ")})`);
      const name = e.refused !== undefined ? `${file} is refused (${e.from})` : `${file} ends ${e.phase} (${e.from})`;
      if (missing.length > 0) {
        it.skip(`${name} — skipped: ${missing.join(", ")} not available here`, () => undefined);
        continue;
      }
      const run = async (): Promise<void> => {
        if (e.refused !== undefined) {
          await expect(runWorkflow(wf, { workdir })).rejects.toThrow(e.refused);
          return;
        }
        // Unique per case: the cases run concurrently, and cut names of the same folder collide.
        const hash = createHash("sha256").update(`${dir}/${file}`).digest("hex").slice(0, 8);
        const runName = `${`${dir}-${file.replace(/\.yaml$/, "")}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 50)}-${hash}`;
        const workflowTemplates = await loadWorkflowTemplates((e.templates ?? []).map((t) => path.join(fixtures, dir, t)));
        const objects = e.objects ? await loadLocalObjects(e.objects.map((o) => path.join(fixtures, dir, o))) : undefined;
        let runIn = workdir;
        if (e.store !== undefined) {
          runIn = fs.mkdtempSync(path.join(workdir, "store-"));
          fs.cpSync(path.join(fixtures, dir, e.store), engineStorageRoot(runIn), { recursive: true });
        }
        const nodeRequests = new NodeRequestChannel();
        let live: WorkflowStatus | undefined;
        const running = withPorts(e.ports ?? [], () => runWorkflow(wf, { workdir: runIn, name: runName, workflowTemplates, ...(objects ? { objects } : {}), nodeRequests, onUpdate: (s) => (live = s), updateIntervalMs: 20 }));
        let ended = false;
        const person = actAsPerson(e.resume, nodeRequests, () => live, () => ended);
        const { status } = await running.finally(() => (ended = true));
        await person;
        const failing = Object.values(status.nodes ?? {}).filter((n) => n.type === "Pod" && (n.phase === "Failed" || n.phase === "Error"));
        expect(status.phase, `${status.message ?? ""} ${failing.map((n) => `${n.displayName}: ${n.message}`).join("; ")}`).toBe(e.phase);
        for (const [display, phase] of Object.entries(e.nodes ?? {})) {
          const found = Object.values(status.nodes ?? {}).filter((n) => n.displayName === display);
          if (phase === null) expect(found, `node ${display}`).toHaveLength(0);
          else expect(found.map((n) => n.phase), `node ${display}`).toEqual([phase]);
        }
      };
      if (e.knownFailing) it.fails(`${name} — known failing: ${e.knownFailing}`, run);
      else it(name, run);
    }
  });
}

corpus("upstream-argo", "upstream Argo examples on the local engine");
if (fs.existsSync(path.join(fixtures, "hera", "expected.json"))) corpus("hera", "Hera example workflows on the local engine");
