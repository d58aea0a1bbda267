#!/usr/bin/env node
/**
 * The installed `opflow` command (package.json "bin", compiled to dist/cli/bin.js). It runs from
 * compiled JavaScript; tsx is registered only to load a user's TypeScript module.
 */
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
