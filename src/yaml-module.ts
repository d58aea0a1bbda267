/**
 * The `yaml` package, loaded the first time it is needed: most commands (`opflow run` of a
 * TypeScript workflow among them) never read or write YAML through it, and loading it costs
 * about 40 ms of start-up. opflow's own writer (`argo/yaml.ts`) needs no package.
 */
import { createRequire } from "node:module";
import type * as YAML from "yaml";

let loaded: typeof YAML | undefined;

/** The `yaml` module. */
export function yamlModule(): typeof YAML {
  loaded ??= createRequire(import.meta.url)("yaml") as typeof YAML;
  return loaded;
}
