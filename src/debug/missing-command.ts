/**
 * The message of a step whose command is not on this machine: the local engine runs a
 * container's command here (it does not pull images), so the user is told which template,
 * which image the command would have come from on Argo, and what to do about it.
 */

/** What to install for commands the upstream Argo examples use. */
const INSTALL: Readonly<Record<string, string>> = {
  cowsay: "Debian/Ubuntu: apt-get install cowsay (it goes to /usr/games, which the engine puts on PATH)",
  python: "install Python 3 (Debian/Ubuntu: apt-get install python3 python-is-python3)",
  python3: "install Python 3 (Debian/Ubuntu: apt-get install python3)",
  node: "install Node.js",
  bash: "Debian/Ubuntu: apt-get install bash",
  argosay: "it is the entrypoint of Argo's test image argoproj/argosay:v2, a small shell script (opflow's tests use the stand-in in test/fixtures/bin)",
};

/**
 * Rewrites a process start error into an explanation when the command was not found (ENOENT);
 * returns other errors unchanged.
 *
 * @example
 * ```ts
 * explainStartError('could not start "cowsay": spawn cowsay ENOENT', "whalesay", "docker/whalesay", "cowsay");
 * // 'template "whalesay": command "cowsay" is not installed on this machine … image "docker/whalesay" …'
 * ```
 */
export function explainStartError(startError: string, template: string, image: string | undefined, command: string | undefined): string {
  if (!/ENOENT/.test(startError) || !command) return startError;
  const name = command.split("/").pop() ?? command;
  const hint = INSTALL[name] ?? `install "${name}"`;
  return (
    `template "${template}": command "${command}" is not installed on this machine. On Argo it comes from the image ${JSON.stringify(image ?? "(none)")}; ` +
    `the local engine runs commands on this machine instead of pulling images. To run this step: ${hint}, or put a program named "${name}" first on PATH.`
  );
}
