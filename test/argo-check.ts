/**
 * Runs ../shared/argo/check.mjs (the upstream v4.1.2 CRD, strict fields, plus reference,
 * cycle and name rules) over manifests. Tests that use it skip visibly where ../shared is
 * absent.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const CHECK_SCRIPT = path.resolve(here, "../../shared/argo/check.mjs");
export const haveArgoCheck = fs.existsSync(CHECK_SCRIPT);

export interface CheckResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Checks manifests with check.mjs in one run. */
export async function argoCheck(manifests: readonly unknown[]): Promise<CheckResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opflow-check-"));
  const file = path.join(dir, "manifests.json");
  fs.writeFileSync(file, JSON.stringify(manifests));
  try {
    return await new Promise<CheckResult>((resolve) => {
      execFile(process.execPath, [CHECK_SCRIPT, file], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ ok: !error, output: `${stdout}${stderr}` });
      });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
