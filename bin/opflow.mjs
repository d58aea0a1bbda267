#!/usr/bin/env node
// The `opflow` command. opflow runs from its TypeScript sources through tsx, so that
// workflow modules written in TypeScript (`opflow run examples/hello.ts`) load the same way.
// `opflow run` says something at once: loading TypeScript (tsx, the workflow's module and the
// engine) takes seconds. Not when the output is for scripts or help was asked for.
const [command, ...rest] = process.argv.slice(2);
if (command === "run" && rest.length > 0 && !rest.some((a) => ["--json", "--outputs", "-q", "--quiet", "-h", "--help"].includes(a))) {
  process.stderr.write("opflow run: loading workflow…\n");
  globalThis[Symbol.for("opflow.run.announced")] = true;
}
const { register } = await import("tsx/esm/api");
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
