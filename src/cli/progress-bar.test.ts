import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadArtifact } from "../artifacts/transfer.ts";
import { localArtifact } from "../steps/local-artifact.ts";
import { LocalStorageClient } from "../storage/local.ts";
import { ProgressBar, withProgressBar, type ProgressBarMode } from "./progress-bar.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "opflow-progress-bar-"));
  await writeFile(path.join(work, "one.txt"), "1");
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** A stream that keeps what is written, posing as a terminal or not. */
function capture(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return Object.assign(stream, { isTTY, text: () => text });
}

async function uploadWithBar(mode: ProgressBarMode, stream: ReturnType<typeof capture>): Promise<void> {
  const storage = new LocalStorageClient({ root: path.join(work, "store") });
  await withProgressBar(mode, (onProgress) => uploadArtifact(storage, path.join(work, "one.txt"), { archive: "none", onProgress }), stream);
}

describe("ProgressBar", () => {
  it("is drawn when asked for, ending with the totals and a new line", async () => {
    const stream = capture(false);
    await uploadWithBar(true, stream);
    expect(stream.text()).toMatch(/\r\[#{30}\] 100%  0\.0\/0\.0 MB .* 1\/1 files/);
    expect(stream.text().endsWith("\n")).toBe(true);
  });

  it("is not drawn when refused, nor in auto mode for a small transfer or a stream that is no terminal", async () => {
    for (const [mode, tty] of [
      [false, true],
      ["auto", true],
      ["auto", false],
    ] as const) {
      const stream = capture(tty);
      await uploadWithBar(mode, stream);
      expect(stream.text(), `${mode} ${tty}`).toBe("");
    }
  });

  it("in auto mode, is drawn for a large transfer on a terminal", async () => {
    const stream = capture(true);
    await withProgressBar(
      "auto",
      async (onProgress) => {
        onProgress({ bytes: 0, totalBytes: 100e6, files: 0, totalFiles: 1 });
        onProgress({ bytes: 100e6, totalBytes: 100e6, files: 1, totalFiles: 1 });
      },
      stream,
    );
    expect(stream.text()).toMatch(/^\r\[-{30}\]   0% .*\r\[#{30}\] 100%  100\.0\/100\.0 MB .* 1\/1 files\x1b\[K\n$/s);
  });

  it("ends its line when the transfer fails, and passes the error on", async () => {
    const stream = capture(true);
    const failing = withProgressBar(true, async (onProgress) => {
      onProgress({ bytes: 1, totalBytes: 2, files: 0, totalFiles: 1 });
      throw new Error("connection reset");
    }, stream);
    await expect(failing).rejects.toThrow("connection reset");
    expect(stream.text().endsWith("\n")).toBe(true);
  });

  it("follows the upload of a workflow's local input files (opflow run and submit)", async () => {
    const stream = capture(false);
    const storage = new LocalStorageClient({ root: path.join(work, "local-inputs") });
    await withProgressBar(true, (onProgress) => localArtifact([path.join(work, "one.txt")]).upload(storage, { onProgress }), stream);
    expect(stream.text()).toMatch(/\r\[#{30}\] 100% .* 1\/1 files\x1b\[K\n$/);
  });

  it("renders percent, sizes, rate and files", () => {
    const line = ProgressBar.render({ bytes: 50e6, totalBytes: 100e6, files: 1, totalFiles: 2 }, 2, 10);
    expect(line).toBe("[#####-----]  50%  50.0/100.0 MB  25.0 MB/s  1/2 files");
  });
});
