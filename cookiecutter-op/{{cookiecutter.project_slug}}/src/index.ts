// The OPs this package exports (what `opflow ops` lists and other workflows import).
export * from "./ops/greet.ts";
