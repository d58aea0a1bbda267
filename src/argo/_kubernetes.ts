/**
 * `@kubernetes/client-node`, loaded on first use: it costs more than a second of CPU and ~80 MB
 * to load, and most commands (render, run, the local engine) never talk to a cluster. Loaded
 * synchronously (Node's `require` of an ES module) so that synchronous APIs such as
 * `resolveClusterConfig` keep their signatures.
 */
import { createRequire } from "node:module";
import type * as Kubernetes from "@kubernetes/client-node";

let loaded: typeof Kubernetes | undefined;

/** The `@kubernetes/client-node` module. */
export function kubernetes(): typeof Kubernetes {
  loaded ??= createRequire(import.meta.url)("@kubernetes/client-node") as typeof Kubernetes;
  return loaded;
}
