/**
 * Folder names of the state tree: one path segment per node, safe on any Linux file system
 * (at most 255 bytes of UTF-8, no separators, controls or bidirectional overrides).
 */
import { fnv32a } from "./node-id.ts";

/** The longest file name Linux file systems take (NAME_MAX), in bytes of UTF-8. */
const MAX_SEGMENT_BYTES = 255;

/**
 * What never goes into a folder name: path separators, control characters (C0, DEL, C1), the
 * bidirectional controls that make a name display as another (U+202E …) and lone surrogates
 * (not encodable as UTF-8).
 */
const UNSAFE_IN_SEGMENT = /[/\\\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\p{Cs}/gu;

/**
 * Sanitises `text` into one path segment of at most 255 bytes of UTF-8; long or altered names
 * get a hash suffix of the original text to stay unique.
 */
export function safeSegment(text: string): string {
  let out = text.replace(UNSAFE_IN_SEGMENT, "_");
  if (out === "." || out === "..") out = `_${out}`;
  if (out !== text || Buffer.byteLength(out) > MAX_SEGMENT_BYTES) {
    const suffix = `-${fnv32a(text).toString(36)}`;
    out = cutUtf8(out, MAX_SEGMENT_BYTES - suffix.length) + suffix;
  }
  return out;
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
function cutUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}

/**
 * The directory name of a node inside the workflow's folder: the step's key when it has one,
 * else its Argo node name without the workflow-name prefix (`[1].hello2a`, `A`,
 * `fan(3:c)`, `onExit`), `_root` for the root node.
 */
export function nodeDirName(workflowName: string, nodeName: string, key?: string): string {
  if (key) return safeSegment(key);
  let rel = nodeName.startsWith(workflowName) ? nodeName.slice(workflowName.length) : nodeName;
  if (rel.startsWith(".")) rel = rel.slice(1);
  if (rel === "") return "_root";
  return safeSegment(rel);
}
