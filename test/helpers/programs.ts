/**
 * Whether a system program the tests need is on this machine (tests that need one skip, with
 * the reason in their name, where it is not; `.ci/run` installs them).
 */
import { spawnSync } from "node:child_process";

/** Whether `program --version` runs and exits 0. */
export function hasProgram(program: string): boolean {
  return spawnSync(program, ["--version"], { stdio: "ignore" }).status === 0;
}

/** python3, which the script-template tests run. */
export const havePython = hasProgram("python3");
