#!/usr/bin/env node
// Lists the upstream corpus for .ci/run: one line per example, "FILE<TAB>PHASE<TAB>OPTIONS" (PHASE
// is "Refused" when Argo refuses the manifest; OPTIONS the --templates / --objects options it needs),
// "skip<TAB>FILE<TAB>WHY" for known-failing ones, for those whose commands (python, node, bash,
// curl) or ports are not available here, and for those that need the corpus test's harness.
import fs from "node:fs";
import path from "node:path";

const namespaces = process.getuid?.() === 0 && ["/usr/bin/unshare", "/bin/unshare"].some((p) => fs.existsSync(p)) && process.env.OPFLOW_NO_NAMESPACES !== "1";
const installed = (cmd) => [...(process.env.PATH ?? "").split(":"), "/usr/games"].some((d) => d && fs.existsSync(path.join(d, cmd)));
for (const dir of process.argv.slice(2)) {
  const { examples } = JSON.parse(fs.readFileSync(path.join(dir, "expected.json"), "utf8"));
  for (const [file, e] of Object.entries(examples)) {
    const full = path.join(dir, file);
    const text = fs.readFileSync(full, "utf8");
    const missing = ["python", "python3", "node", "bash"].filter((c) => new RegExp(`command:\\s*(\\[\\s*|\\n\\s*-\\s*)${c}\\b`).test(text) && !installed(c));
    if (/volumeMounts:/.test(text) && !namespaces) missing.push("private mount namespaces (for volumes)");
    if (e.needsNamespaces && !namespaces) missing.push(`private mount namespaces (${e.needsNamespaces})`);
    if (/curlimages\/curl/.test(text) && !installed("curl")) missing.push("curl");
    if ((e.ports ?? []).some((p) => p < 1024) && process.getuid?.() !== 0) missing.push(`root (a daemon listens on port ${e.ports.join(", ")})`);
    // What the test harness of npm test (src/debug/upstream-corpus.test.ts) adds to a run:
    // a person who resumes suspend nodes, a bucket as the artifact store. `opflow run` alone
    // would wait for the person for ever, or miss the bucket.
    const harness = e.resume ? "a person resuming its suspend nodes" : e.store ? `its bucket (${e.store}) as the artifact store` : undefined;
    if (e.knownFailing) console.log(`skip\t${full}\tknown failing: ${e.knownFailing}`);
    else if (harness) console.log(`skip\t${full}\tneeds ${harness}: run by npm test (src/debug/upstream-corpus.test.ts)`);
    else if (missing.length) console.log(`skip\t${full}\tnot available here: ${missing.join(", ")}`);
    else console.log(`${full}\t${e.phase}\t${[...(e.templates ?? []).map((t) => `--templates ${path.join(dir, t)}`), ...(e.objects ?? []).map((o) => `--objects ${path.join(dir, o)}`)].join(" ")}`);
  }
}
