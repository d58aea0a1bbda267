export * from "./errors.ts";
export * from "./contract.ts";
export * from "./argo/model.ts";
export * from "./storage/client.ts";
