/**
 * Pre and post scripts (dflow's `pre_script` / `post_script`): source text run before and after
 * a template's own work in the same process — a script template's source, or the OP runner of
 * an OP template.
 *
 * Shells (a script template whose interpreter is a shell, and the `sh -c` wrapper of OP
 * templates) get the three parts with a guard between them:
 *
 * - the pre part runs first; when its last command fails (or `set -e` stops it), nothing else
 *   runs and the step fails with its exit code, saying on stderr (and in Kubernetes' termination
 *   message, `/dev/termination-log`, where the pod has one) that it was the pre script;
 * - the main part (the user's source, or the OP runner) runs next, in the same shell, so what
 *   the pre part exported or sourced is visible to it; when it fails, the post part does not
 *   run and its exit status is the step's (a TransientError's 75 stays 75);
 * - the post part runs after the main part succeeded; when it fails, the step fails with its
 *   exit code, saying it was the post script.
 *
 * Other interpreters (Python, R, …) get the parts joined by newlines, as dflow does: an
 * exception in the pre part stops the script; the post part runs when the source runs to its end.
 */
import { ValidationError } from "../errors.ts";

/** Interpreters treated as shells (their basename). */
const SHELLS = new Set(["sh", "bash", "zsh", "ash", "dash", "ksh", "mksh", "busybox"]);

/** Whether `command` runs a POSIX shell. */
export function isShell(command: readonly string[]): boolean {
  const first = command[0] ?? "";
  const base = first.slice(first.lastIndexOf("/") + 1);
  if (base === "busybox") return command[1] === "sh" || command[1] === "ash";
  if (base === "env") return isShell(command.slice(1));
  return SHELLS.has(base);
}

/** The pre and post parts of a template, checked. */
export interface PrePost {
  readonly preScript?: string;
  readonly postScript?: string;
}

/** Checks the `preScript` / `postScript` options of `where`; empty text counts as none. */
export function checkPrePost(where: string, options: { readonly preScript?: unknown; readonly postScript?: unknown }): PrePost {
  const out: { preScript?: string; postScript?: string } = {};
  for (const field of ["preScript", "postScript"] as const) {
    const value = options[field];
    if (value === undefined) continue;
    if (typeof value !== "string") {
      throw new ValidationError(`${where}: ${field} must be source text (a string), got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`}`);
    }
    if (value.includes("\0")) throw new ValidationError(`${where}: ${field} must not contain a NUL character`);
    if (value.trim()) out[field] = value;
  }
  return out;
}

/** Whether either part is there. */
export function hasPrePost(p: PrePost): boolean {
  return p.preScript !== undefined || p.postScript !== undefined;
}

/** How the message a failed pre or post part prints starts (read back by `prePostFailure` of contract.ts). */
const MARK = "opflow: ";

function withoutNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/**
 * Shell text running `pre`, then `main`, then `post` (see the module comment). `templateName`
 * is a template name (RFC 1123: no quotes to escape).
 */
export function shellAround(templateName: string, parts: PrePost, main: string): string {
  if (!hasPrePost(parts)) return main;
  const say = `${MARK}the $opflow_part script of template \\"${templateName}\\" failed (exit code $opflow_rc)`;
  const lines = [
    // `source` (bash's name for `.`) in shells without it, such as dash, Debian's sh (through
    // eval: busybox's sh refuses a function of that name even where it is never defined).
    `command -v source >/dev/null 2>&1 || eval 'source() { . "$@"; }'`,
    "opflow_part=pre",
    // The EXIT trap also catches a part stopped by `set -e` or by `exit`.
    `trap 'opflow_rc=$?; if [ "$opflow_rc" -ne 0 ] && [ "$opflow_part" != main ]; then echo "${say}" >&2; if [ -w /dev/termination-log ]; then echo "${say}" > /dev/termination-log; fi; fi' EXIT`,
  ];
  const guard = 'opflow_rc=$?; if [ "$opflow_rc" -ne 0 ]; then exit "$opflow_rc"; fi';
  if (parts.preScript !== undefined) lines.push(withoutNewline(parts.preScript), guard);
  lines.push("opflow_part=main", withoutNewline(main), guard, "opflow_part=post");
  if (parts.postScript !== undefined) lines.push(withoutNewline(parts.postScript));
  return `${lines.join("\n")}\n`;
}

/** A script's source with its pre and post parts, for the interpreter `command`. */
export function scriptSource(templateName: string, command: readonly string[], parts: PrePost, source: string): string {
  if (!hasPrePost(parts)) return source;
  if (isShell(command)) return shellAround(templateName, parts, source);
  return [parts.preScript, source, parts.postScript]
    .filter((p): p is string => p !== undefined)
    .map(withoutNewline)
    .join("\n")
    .concat("\n");
}
