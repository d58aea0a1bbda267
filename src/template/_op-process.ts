/**
 * The local engine's way to run an OP template that has pre or post scripts: the pod's own
 * shell wrapper (`sh -c '<pre> … "$@" … <post>'`) around `opflow execute` of this opflow, as a
 * child process with the step's folder as its contract root. What the pre part sources or
 * exports reaches the OP, as in the pod; an in-process call could not give it that.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type InProcessResult, type InProcessTask, PROGRESS_FILE_ENV, ROOT_ENV, prePostFailure } from "../contract.ts";

/** Time between SIGTERM and SIGKILL when the step is stopped. */
const GRACE_MS = 2000;

/** The `opflow` command of this opflow: its sources' launcher in this checkout, else the compiled one. */
function opflowCommand(): { argv: string[]; nodeOptions?: string } {
  if (import.meta.url.endsWith(".ts")) {
    const current = process.env["NODE_OPTIONS"] ?? "";
    const nodeOptions = current.includes("--conditions=opflow-source") ? current : `${current} --conditions=opflow-source`.trim();
    return { argv: [process.execPath, fileURLToPath(new URL("../../bin/opflow.mjs", import.meta.url))], nodeOptions };
  }
  return { argv: [process.execPath, fileURLToPath(new URL("../cli/bin.js", import.meta.url))] };
}

/**
 * Runs `wrapper` (shell text whose main part is `"$@"`) with `opflow execute --module <module>
 * --op <op>` as its arguments, for `task`.
 */
export function runWrappedOp(task: InProcessTask, wrapper: string, moduleFile: string, op: string): Promise<InProcessResult> {
  const { argv, nodeOptions } = opflowCommand();
  const workdir = path.join(task.root, "workdir");
  mkdirSync(workdir, { recursive: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const progressFile = path.join(task.root, "opflow-progress");
  Object.assign(env, task.env ?? {}, { [ROOT_ENV]: task.root, [PROGRESS_FILE_ENV]: progressFile });
  for (const [k, v] of Object.entries(task.parameters)) env[k] ??= v;
  if (nodeOptions !== undefined) env["NODE_OPTIONS"] = nodeOptions;
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", wrapper, "opflow-op", ...argv, "execute", "--module", moduleFile, "--op", op], {
      cwd: workdir,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => task.log(text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr = (stderr + text).slice(-8192);
      task.log(text);
    });
    // The runner appends `N/M` lines to the progress file: the last one is passed on.
    let shown = "";
    const showProgress = (): void => {
      let text = "";
      try {
        text = readFileSync(progressFile, "utf8");
      } catch {
        return;
      }
      const m = /(\d+)\/(\d+)\s*$/.exec(text);
      if (m && m[0] !== shown) {
        shown = m[0];
        task.progress(Number(m[1]), Number(m[2]));
      }
    };
    const poll = setInterval(showProgress, 1000);
    poll.unref();
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
      killTimer = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), "SIGKILL");
        } catch {
          /* already gone */
        }
      }, GRACE_MS);
      killTimer.unref();
    };
    if (task.signal.aborted) kill();
    else task.signal.addEventListener("abort", kill, { once: true });
    child.on("error", (err) => {
      clearInterval(poll);
      task.signal.removeEventListener("abort", kill);
      resolve({ exitCode: 1, message: `template "${task.template}": could not start sh (${err.message})` });
    });
    child.on("close", (code, signal) => {
      clearInterval(poll);
      showProgress();
      task.signal.removeEventListener("abort", kill);
      if (killTimer) clearTimeout(killTimer);
      const exitCode = code ?? (signal === "SIGKILL" ? 137 : 143);
      const message = exitCode !== 0 ? prePostFailure(stderr) : undefined;
      resolve({ exitCode, ...(message ? { message } : {}) });
    });
  });
}
