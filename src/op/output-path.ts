/**
 * Where a path an OP returns for an output artifact lies. A relative path resolves against the
 * step's workdir (`ctx.workdir`): in a container, and under `opflow execute`, that is also the
 * process's working directory, so `fs.writeFile("out.txt")` followed by `return { f: "out.txt" }`
 * works. An OP the local engine runs inside its own process (thread `"engine"` or `"worker"`)
 * shares the engine's working directory, which is not the workdir: its relative file calls land
 * elsewhere. That case is named in the error, with the fix, instead of a bare "does not exist".
 */
import path from "node:path";
import { ValidationError } from "../errors.ts";
import { pathExists } from "../files.ts";

/**
 * The absolute path of `p` (returned by OP `op` for `what`, e.g. `output artifact "model"`),
 * resolved against `workdir`.
 * @throws ValidationError when nothing is there, saying so when the file is in the process's
 *   working directory instead (an OP run in the engine's process that wrote a relative path)
 */
export async function existingOutputPath(op: string, what: string, workdir: string, p: string): Promise<string> {
  const full = path.resolve(workdir, p);
  if (await pathExists(full)) return full;
  const cwd = process.cwd();
  if (!path.isAbsolute(p) && path.resolve(cwd) !== path.resolve(workdir) && (await pathExists(path.resolve(cwd, p)))) {
    throw new ValidationError(
      `OP "${op}": ${what} ${JSON.stringify(p)} is not in the step's workdir (${workdir}) but in ${cwd}, the working directory of the process: ` +
        `a relative path the OP returns resolves against ctx.workdir, while the OP's own file calls resolve against the process's working directory — ` +
        `the same folder in a container, not when the local engine runs the OP in its own process. ` +
        `Write under ctx.workdir (path.join(ctx.workdir, ${JSON.stringify(p)})); the file left in ${cwd} is not the step's`,
    );
  }
  throw new ValidationError(`OP "${op}": ${what} ${JSON.stringify(p)} does not exist (relative paths resolve against the step's workdir, ${workdir})`);
}
