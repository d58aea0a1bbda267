export * from "./run.ts";
export * from "./state-tree.ts";
export * from "./progress.ts";
export * from "../duration.ts";
export * from "./node-id.ts";
export * from "./node-state.ts";
