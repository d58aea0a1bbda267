/**
 * opflow's public API: the DSL (OPs, signatures, templates, Steps, DAGs, slices, expressions,
 * `Workflow`), the errors, running on Argo Workflows (submit, handles, queries, clients), the
 * local engine, and artifact storage. Everything else is internal; tests import it by path.
 */
export * from "./errors.ts";
// The runtime contract every template obeys (paths, environment, in-process bindings).
export * from "./contract.ts";
/** The typed Argo v4 manifest model (`argo.Workflow`, `argo.Template`, …). */
export * as argo from "./argo/model.ts";
// Expressions: conditions, arithmetic and Argo's expression helpers.
export {
  type ValueKind,
  type Operand,
  Expr,
  and,
  or,
  not,
  add,
  sub,
  mul,
  ifExpression,
  argoLen,
  argoRange,
  argoEnumerate,
  toJson,
  asString,
  argoString,
  argoCondition,
  rawArgo,
  rawExpression,
  type DeepOperand,
  div,
  mod,
  at,
  argoSum,
  argoConcat,
} from "./expr/tree.ts";
export {
  type RefArtifactShape,
  type ArtifactHandle,
  type ParamRef,
  ArtifactRef,
  ArtifactPart,
  NestedArtifactRef,
  NestedArtifactPart,
  type NestedAddress,
  ItemRef,
  workflowVar,
} from "./expr/refs.ts";
export type { NestedLayout, NestedRootLayout, NestedTree, NestedPaths, NestedValue, NestedAt, NestedKeys } from "./expr/nested-layout.ts";
// OPs and their signatures.
export {
  type ParamOptions,
  type ParamSpec,
  type ArtifactShape,
  type ArtifactOptions,
  type ArtifactSpec,
  type IOSpec,
  type Signature,
  type ArtifactValue,
  type SpecValue,
  type OPInput,
  type OPOutput,
  param,
  bigParameter,
  artifact,
} from "./op/signature.ts";
export { type OPContext, type OPDefinition, type OPClass, type DefineOpOptions, OP, defineOp } from "./op/op.ts";
export { type Duration, type DurationUnit, parseDuration } from "./duration.ts";
export { type RunOpOptions, runOp } from "./op/runner.ts";
// Templates: where and how a step runs.
export {
  type TemplateCompiler,
  type RenderedDagTask,
  type DagLayout,
  type TemplateOptions,
  type TemplateCall,
  type InputRefs,
  Template,
} from "./template/template.ts";
export type { RetryOn, RetryOptions } from "./template/retry.ts";
export type { ResultOf, ResultSignature } from "./template/result-type.ts";
export type { PodTemplateOptions, Resources } from "./template/pod.ts";
export { PodTemplate, type ContractPathOverrides, type Word, type Words } from "./template/pod-template.ts";
export * from "./template/container-template.ts";
export { type ManifestTemplateOptions, ManifestTemplate } from "./template/manifest-template.ts";
export { type ScriptTemplateOptions, type ShellTemplateOptions, ScriptOPTemplate, ShellOPTemplate } from "./template/script-template.ts";
export { type OPTemplateOptions, type OPThread, OPTemplate } from "./template/op-template.ts";
export { type SuspendTemplateOptions, SuspendTemplate } from "./template/suspend-template.ts";
export { type HttpTemplateOptions, type HttpMethod, type HttpHeaders, type HttpWord, HttpTemplate } from "./template/http-template.ts";
export { type ResourceTemplateOptions, type ResourceAction, type ResourceManifest, type ResourceOutputSource, ResourceTemplate } from "./template/resource-template.ts";
export { SecretKey, secret } from "./template/secret.ts";
// Steps, DAGs and workflows.
export {
  type ParamArg,
  type ArtifactArg,
  type JoinPartArg,
  type SinglePathArg,
  type ArtifactSource,
  type ParamArgs,
  type ArtifactArgs,
  type StepArguments,
  type SequenceLoop,
  type StepControl,
  type StepOptions,
  type StepOutputs,
  type StepLike,
  rawArtifact,
  httpArtifact,
  s3Artifact,
  argoSequence,
  type StepHook,
  type HookCondition,
  lifecycleHook,
  Step,
  SubPathArtifact,
} from "./steps/step.ts";
export { type OutputBindings, type GraphTemplateOptions, GraphTemplate, Steps } from "./steps/steps.ts";
export * from "./dag/task.ts";
export { type DAGOptions, DAG } from "./dag/dag.ts";
export * from "./workflow/workflow.ts";
export { ManifestImportError } from "./workflow/manifest-plan.ts";
export { type ConfigMapValue, GlobalParam, type GlobalParamOptions, globalParam } from "./workflow/global-param.ts";
export type { MetadataOptions, SynchronizationOptions, WorkflowHook, WorkflowMetadataOptions, WorkflowSettings, WorkflowSpecFields } from "./workflow/workflow-settings.ts";
export { type CodegenOptions, generateWorkflowCode } from "./workflow/codegen.ts";
export { canonicalManifest } from "./workflow/manifest-equality.ts";
export { type FromRunOptions, type RunLocation, type StoredRunManifest, openRun, runManifest } from "./workflow/from-run.ts";
export { type LocalArtifactUploadOptions, LocalArtifact, localArtifact } from "./steps/local-artifact.ts";
// Slices (dflow's Slices): fan out over list inputs, stack outputs.
export type { SliceSpec, SliceOptions } from "./op/slices.ts";
export { type SliceSources, type StackedSignature, type SlicedStepOptions, slicedStep } from "./steps/sliced-step.ts";
export * from "./dag/sliced-task.ts";
export { OutputArtifact, type OutputValue, type StorageSource, type WorkflowOutputs } from "./workflow/outputs.ts";
export * from "./argo/yaml.ts";
export * from "./workflow/graph.ts";
// Running on Argo Workflows: connect, submit, query, control.
export { type ClusterOptions, type KubernetesClusterConfig, ArgoServerClusterConfig, type ClusterConfig, resolveClusterConfig } from "./argo/cluster-config.ts";
export * from "./argo/client.ts";
export * from "./argo/create-argo-client.ts";
export { ClusterApiError, type ApiErrorReason, type FieldCause } from "./argo/api-errors.ts";
export { type ArgoStepIO, type ArgoStepOutputs, type ArgoStep, type ArgoStepFilter, type QueriedStep, querySteps, globalOutputs, workflowPhase } from "./argo/query.ts";
export { type WaitDuration, type WaitOptions, waitForWorkflow } from "./argo/wait.ts";
export { modifyOutputs, type OutputChanges } from "./argo/reuse.ts";
export * from "./argo/logs.ts";
export { type SubmitOptions, WorkflowHandle, submitWorkflow, workflowHandle } from "./argo/workflow-handle.ts";
export { nodeFieldSelector } from "./argo/control.ts";
// The local engine.
export { runWorkflow, type RunOptions, type RunResult } from "./debug/run.ts";
export { type LocalArgoClientOptions, LocalArgoClient } from "./debug/local-argo-client.ts";
export { NodeRequestChannel, type NodeRequest, type NodeRequestResult } from "./debug/node-requests.ts";
export { isActiveSuspendNode, resumedWorkflow, setWorkflowNodes, suppliedOutputs } from "./argo/suspend-nodes.ts";
export type { DebugSubmitOptions } from "./debug/submit-mode.ts";
export { RunLockedError, type RunLockHolder } from "./debug/run-lock.ts";
export type { ResumeReport, ReusedNode, RerunNode } from "./debug/resume.ts";
// How OP code reaches a pod: esbuild bundles of OP modules, content-addressed, uploaded once.
export { type BundleOptions, type OpBundle, BundleError, bundleModule } from "./bundle/bundle.ts";
export { BundleArtifact } from "./bundle/bundle-artifact.ts";
// Pods in containers (podman), as Argo runs them: `runWorkflow(m, { executor: new ContainerExecutor(…) })`.
export { type ContainerExecutorOptions, type ImageMap, ContainerExecutor, parseImageMap } from "./executors/container.ts";
// Artifact storage: local directory and S3, transfers.
export type { ProgressCallback, TransferOptions, StoredObject, StorageClient } from "./storage/client.ts";
export * from "./storage/local.ts";
export { type S3StorageOptions, S3StorageClient } from "./storage/s3.ts";
export type { StorageRetryOptions } from "./storage/retry.ts";
export {
  type SecretRef,
  type LocalRepositoryConfig,
  type S3RepositoryConfig,
  type ArtifactRepositoryConfig,
  type LoadConfigOptions,
  type ArtifactRepositoryManifest,
  loadArtifactRepositoryConfig,
  parseArtifactRepositoryConfig,
  createStorageClient,
  artifactRepositoryManifest,
  artifactRepositoryConfigMap,
} from "./storage/config.ts";
export { type ArchiveFormat, UnsafeArchiveError } from "./artifacts/archive.ts";
export * from "./artifacts/transfer.ts";
