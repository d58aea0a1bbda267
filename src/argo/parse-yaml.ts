/**
 * Reads manifest text (YAML or JSON, one or more documents) the way Argo's Go parser does.
 *
 * The `yaml` package follows the YAML 1.2 rule that every line of a multi-line quoted scalar is
 * indented deeper than its parent; Go's parser (and so `argo submit`, `kubectl`) also accepts a
 * quoted scalar whose continuation lines, or closing quote, sit at the parent's indentation —
 * upstream examples such as `sidecar.yaml` (`args: ["` … `"]`) rely on it. Leading white space
 * of a quoted scalar's continuation lines is folded away, so indenting those lines further
 * changes nothing in the value: that is the repair made here, and only where the strict parse
 * reported such a scalar. Scalars are resolved as YAML 1.1, as Go's parser does.
 */
import type * as YAML from "yaml";
import { yamlModule } from "../yaml-module.ts";
import { ValidationError } from "../errors.ts";

/**
 * Go's parser reads YAML 1.1 scalars (`mode: 0755` is octal 493, `yes`/`on` are booleans), but
 * neither timestamps nor base-60 numbers (`10:30` stays a string) when decoding into JSON.
 */
const GO_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9][0-9_]*\.[0-9_]*)$/;
const GO_YAML = {
  version: "1.1",
  customTags: (tags: YAML.Tags) =>
    tags
      .filter((t) => typeof t === "string" || (t.tag !== "tag:yaml.org,2002:timestamp" && t.format !== "TIME"))
      // A float needs a digit (`jqFilter: .` is the string "."), as in Go's resolver.
      .map((t) => (typeof t !== "string" && t.tag === "tag:yaml.org,2002:float" && t.test?.source.endsWith("\\.[0-9_]*$") ? { ...t, test: GO_FLOAT } : t)),
} as const;

/** The parsed documents of `text` (empty documents left out), read as Go's YAML parser reads them. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  let current = text;
  let firstMessage: string | undefined;
  const repaired = new Set<number>();
  for (;;) {
    const docs = yamlModule().parseAllDocuments(current, GO_YAML);
    const errors = docs.flatMap((d) => d.errors);
    const first = errors[0];
    firstMessage ??= first?.message;
    if (!first) return docs.filter((d) => d.contents !== null).map((d) => d.toJS() as unknown);
    const quote = /^Missing closing (["'])quote/.exec(first.message)?.[1];
    const at = first.pos[0];
    const fixed = quote && !repaired.has(at) ? reindentQuoted(current, at, quote) : undefined;
    if (fixed === undefined) {
      // Report the first error of the text as written (a repair only indents lines further).
      throw new ValidationError(`${source}: not valid YAML: ${(firstMessage ?? first.message).split("\n")[0]}`);
    }
    repaired.add(at);
    current = fixed;
  }
}

/**
 * Indents the continuation lines of the quoted scalar that the strict parser cut at offset `at`
 * (the end of its last line indented deeply enough), up to the line of its closing quote, to
 * the indentation of the line holding `at` plus two. Undefined when no closing quote follows.
 */
function reindentQuoted(text: string, at: number, quote: string): string | undefined {
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  const indent = (/^ */.exec(text.slice(lineStart)) as RegExpExecArray)[0].length + 2;
  let i = at;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quote === '"' && c === "\\") i++;
    else if (c === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else break;
    }
  }
  if (i >= text.length) return undefined;
  const firstLine = text.indexOf("\n", at);
  if (firstLine < 0 || firstLine > i) return undefined;
  const head = text.slice(0, firstLine + 1);
  const lastLineEnd = text.indexOf("\n", i);
  const body = text.slice(firstLine + 1, lastLineEnd < 0 ? text.length : lastLineEnd);
  const tail = lastLineEnd < 0 ? "" : text.slice(lastLineEnd);
  const pad = " ".repeat(indent);
  const lines = body.split("\n").map((l) => {
    if (l.trim() === "") return l;
    const have = (/^[ \t]*/.exec(l) as RegExpExecArray)[0];
    return have.length >= indent ? l : pad + l.slice(have.length);
  });
  return head + lines.join("\n") + tail;
}
