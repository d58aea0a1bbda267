/**
 * script-slices: OPs in other languages, typed and sliced like TypeScript OPs. A shell script
 * writes shards, a Python script scores each shard — sliced over a list parameter and a list
 * artifact, two items per step, both at once — and a shell script reports. No opflow runner
 * in any image: the manifest slices (Argo's artifact `subPath`, a Steps template per group),
 * and the engine checks each output against its schema when it reads it.
 *
 *   npx opflow run examples/script-slices.ts
 */
import { z } from "zod";
import { ScriptOPTemplate, ShellOPTemplate, Step, Steps, Workflow, artifact, param, slicedStep } from "@opflow/core";

export const makeShards = new ShellOPTemplate({
  name: "make-shards",
  image: "busybox:1.36",
  inputs: { n: param(z.number().int().min(1)) },
  outputs: { weights: param(z.array(z.number())), shards: artifact.list() },
  source: [
    "set -eu",
    "out=/tmp/outputs; mkdir -p $out/parameters",
    'i=0; w=""',
    'while [ "$i" -lt "$n" ]; do',
    "  mkdir -p $out/artifacts/shards/$i",
    "  seq 0 $i > $out/artifacts/shards/$i/shard-$i.csv",
    '  w="$w${w:+,}$((i + 1))"; i=$((i + 1))',
    "done",
    'echo "[$w]" > $out/parameters/weights',
  ].join("\n"),
});

/** A sliced artifact item arrives as a directory holding that item (its one entry). */
export const score = new ScriptOPTemplate({
  name: "score",
  image: "python:3.12-alpine",
  command: ["python3"],
  inputs: { weight: param(z.number()), shard: artifact() },
  outputs: { score: param(z.number().int()), summary: artifact() },
  source: [
    "import os",
    "d = '/tmp/inputs/artifacts/shard'",
    "name = os.listdir(d)[0]",
    "rows = len(open(os.path.join(d, name)).read().split())",
    "os.makedirs('/tmp/outputs/parameters', exist_ok=True)",
    "os.makedirs('/tmp/outputs/artifacts', exist_ok=True)",
    "open('/tmp/outputs/parameters/score', 'w').write(str(rows * int(os.environ['weight'])))",
    "open('/tmp/outputs/artifacts/summary', 'w').write(f'{name}: {rows} rows')",
  ].join("\n"),
});

export const report = new ShellOPTemplate({
  name: "report",
  image: "busybox:1.36",
  inputs: { scores: param(z.array(z.number())), summaries: artifact.list() },
  outputs: { lines: param(z.string()) },
  source: [
    "set -eu",
    "mkdir -p /tmp/outputs/parameters",
    'lines=""; i=0',
    'while [ -d /tmp/inputs/artifacts/summaries/$i ]; do lines="$lines$(cat /tmp/inputs/artifacts/summaries/$i/*); "; i=$((i + 1)); done',
    'printf "%s" "$lines" > /tmp/outputs/parameters/lines',
  ].join("\n"),
});

const main = new Steps({
  name: "script-slices",
  inputs: { n: param(z.number().int(), { default: 4 }) },
  outputs: { scores: param(z.array(z.number())), lines: param(z.string()) },
});
const shards = main.add(new Step("make-shards", makeShards, { parameters: { n: main.io.parameters.n } }));
const scored = main.add(
  slicedStep("score", score, {
    slices: { weight: shards.outputs.parameters.weights, shard: shards.outputs.artifacts.shards },
    groupSize: 2,
    poolSize: 2,
  }),
);
const summary = main.add(
  new Step("report", report, { parameters: { scores: scored.outputs.parameters.score }, artifacts: { summaries: scored.outputs.artifacts.summary } }),
);
main.setOutputs({ parameters: { scores: scored.outputs.parameters.score, lines: summary.outputs.parameters.lines } });

export default new Workflow({ generateName: "script-slices-", entrypoint: main });
