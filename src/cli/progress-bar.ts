/**
 * The progress bar `opflow` draws on stderr while artifacts move (`upload`, `download`, and the
 * local input files of `run` and `submit`), fed by the transfer's `onProgress` callback.
 */
import type { TransferProgress } from "../artifacts/transfer.ts";

/** A transfer is large, and gets a bar in `"auto"` mode, from this many bytes … */
const LARGE_BYTES = 64 * 1024 * 1024;
/** … or this many objects. */
const LARGE_FILES = 1000;

/**
 * A one-line progress bar (`[#####-----]  48%  512.0/1024.0 MB  210.3 MB/s  3/10 files`)
 * redrawn in place on a TTY stream.
 *
 * @example
 * ```ts
 * const bar = new ProgressBar(process.stderr);
 * bar.draw({ bytes: 5, totalBytes: 10, files: 0, totalFiles: 1 }, 1.5);
 * bar.done();
 * ```
 */
export class ProgressBar {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  /** Renders the line for `progress` after `seconds`. */
  static render(progress: TransferProgress, seconds: number, width = 30): string {
    const fraction = progress.totalBytes > 0 ? Math.min(1, progress.bytes / progress.totalBytes) : progress.totalFiles > 0 ? progress.files / progress.totalFiles : 1;
    const filled = Math.round(fraction * width);
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const rate = seconds > 0 ? `${mb(progress.bytes / seconds)} MB/s` : "";
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${mb(progress.bytes)}/${mb(progress.totalBytes)} MB  ${rate}  ${progress.files}/${progress.totalFiles} files`;
  }

  /** Redraws the bar. */
  draw(progress: TransferProgress, seconds: number): void {
    this.stream.write(`\r${ProgressBar.render(progress, seconds)}\x1b[K`);
  }

  /** Ends the line. */
  done(): void {
    this.stream.write("\n");
  }
}

/** Whether to draw: always, never, or `"auto"` (a large transfer while the stream is a TTY). */
export type ProgressBarMode = boolean | "auto";

/**
 * Runs `transfer` with an `onProgress` callback that draws a {@link ProgressBar} on `stream`
 * (default stderr) as `mode` says, and ends the bar's line when the transfer ends.
 *
 * @example
 * ```ts
 * const ref = await withProgressBar("auto", (onProgress) => uploadArtifact(storage, "data/", { onProgress }));
 * ```
 */
export async function withProgressBar<T>(
  mode: ProgressBarMode,
  transfer: (onProgress: (progress: TransferProgress) => void) => Promise<T>,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): Promise<T> {
  const started = Date.now();
  let bar: ProgressBar | undefined;
  let decided = false;
  const onProgress = (progress: TransferProgress): void => {
    if (!decided) {
      decided = true;
      const large = progress.totalBytes >= LARGE_BYTES || progress.totalFiles >= LARGE_FILES;
      if (mode === true || (mode === "auto" && large && stream.isTTY === true)) bar = new ProgressBar(stream);
    }
    bar?.draw(progress, (Date.now() - started) / 1000);
  };
  try {
    return await transfer(onProgress);
  } finally {
    bar?.done();
  }
}
