#!/usr/bin/env node
// The `opflow` command. opflow runs from its TypeScript sources through tsx, so that
// workflow modules written in TypeScript (`opflow run examples/hello.ts`) load the same way.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
