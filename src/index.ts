export * from "./errors.ts";
export * from "./contract.ts";
/** The typed Argo v4 manifest model (`argo.Workflow`, `argo.Template`, …). */
export * as argo from "./argo/model.ts";
export { ArgoLimits } from "./argo/limits.ts";
export { compileTemplates, checkLimits, checkSize, type CompiledTemplates } from "./argo/compile.ts";
export * from "./expr/tree.ts";
export * from "./expr/refs.ts";
export * from "./op/signature.ts";
export * from "./op/op.ts";
export { type Duration, type DurationUnit, durationSeconds, parseDuration, renderDuration } from "./duration.ts";
export * from "./op/parameter-codec.ts";
export * from "./op/runner.ts";
export * from "./template/template.ts";
export type { RetryOn, RetryOptions } from "./template/retry.ts";
export type { PodTemplateOptions, Resources } from "./template/pod.ts";
export { PodTemplate, type ContractPathOverrides, type Word, type Words } from "./template/pod-template.ts";
export * from "./template/container-template.ts";
export * from "./template/script-template.ts";
export * from "./template/op-template.ts";
export * from "./steps/step.ts";
export * from "./steps/steps.ts";
export * from "./dag/task.ts";
export * from "./dag/dag.ts";
export * from "./workflow/workflow.ts";
export * from "./storage/client.ts";
export * from "./argo/yaml.ts";
// Running on Argo Workflows: connect, submit, query, control.
export * from "./argo/cluster-config.ts";
export * from "./argo/client.ts";
export * from "./argo/create-argo-client.ts";
export { ClusterApiError, type ApiErrorReason, type FieldCause } from "./argo/api-errors.ts";
export * from "./argo/query.ts";
export * from "./argo/wait.ts";
export * from "./argo/logs.ts";
export * from "./argo/workflow-handle.ts";
export { nodeFieldSelector } from "./argo/control.ts";
// The local engine.
export { runWorkflow, workflowRunName, type RunOptions, type RunResult } from "./debug/run.ts";
export * from "./debug/local-argo-client.ts";
export * from "./debug/submit-mode.ts";
export { LOCAL_NAMESPACE } from "./debug/run-record.ts";
// Artifact storage: local directory and S3, archives, transfers.
export * from "./storage/local.ts";
export * from "./storage/s3.ts";
export * from "./storage/retry.ts";
export * from "./storage/config.ts";
export * from "./artifacts/archive.ts";
export * from "./artifacts/keys.ts";
export * from "./artifacts/transfer.ts";
// Slices (dflow's Slices): fan out over list inputs, stack outputs.
export * from "./op/slices.ts";
export * from "./steps/sliced-step.ts";
export * from "./dag/sliced-task.ts";
export * from "./steps/local-artifact.ts";
