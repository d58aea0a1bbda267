/**
 * Test helper: the local podman images the container tests use, built by the project's scripts
 * when missing (no registry involved), and why container tests are skipped when podman cannot
 * run here.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { defaultPodman, imageExists, podmanStatus } from "./container.ts";

/** busybox from Debian's busybox-static. */
export const BUSYBOX_IMAGE = "localhost/local/busybox";
/** This machine's node on busybox, no opflow inside. */
export const NODE_IMAGE = `localhost/opflow-node:${process.versions.node.split(".")[0]}`;

/** This machine's python3 and its standard library on busybox (the python examples' stand-in). */
export const PYTHON_IMAGE = "localhost/opflow-python:3";

const SCRIPTS: Record<string, string> = {
  [BUSYBOX_IMAGE]: "make-busybox-image.sh",
  [NODE_IMAGE]: "make-node-image.sh",
  [PYTHON_IMAGE]: "make-upstream-images.sh",
};

let status: { readonly ok: boolean; readonly reason?: string } | undefined;

/** Why container tests cannot run here (undefined when they can). Probed once. */
export function podmanSkipReason(): string | undefined {
  status ??= podmanStatus();
  return status.ok ? undefined : `podman cannot run containers here: ${status.reason}`;
}

/** Builds `image` with its script unless this machine has it. */
export function ensureImage(image: string): void {
  if (imageExists(image)) return;
  const script = SCRIPTS[image];
  if (!script) throw new Error(`no script builds ${image}`);
  const file = fileURLToPath(new URL(`../../scripts/${script}`, import.meta.url));
  const conf = defaultPodman().containersConf;
  const r = spawnSync("bash", [file], { encoding: "utf8", env: { ...process.env, ...(conf ? { CONTAINERS_CONF: conf } : {}) }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`scripts/${script} failed: ${r.stderr || r.stdout}`);
}
