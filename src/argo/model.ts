/**
 * The typed Argo Workflows v4 manifest model (argoproj.io/v1alpha1): the single intermediate
 * representation of opflow (DESIGN.md). The compiler produces these objects, submission
 * serialises them, and the local engine interprets them.
 *
 * Field names and shapes follow the upstream CRD (v4.1.2). Kubernetes core types that Argo
 * embeds (containers, volumes, affinity, …) are typed where opflow reads or writes them and
 * left open ({@link KubeObject}) where they are passed through untouched.
 */

/** An object passed through to Kubernetes as written (pod spec fragments, volumes, …). */
export type KubeObject = { readonly [key: string]: unknown };

/** Kubernetes-style quantity or integer that may be written either way. */
export type IntOrString = number | string;

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
}

export interface ConfigMapKeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

export interface SecretKeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

export interface ValueFrom {
  path?: string;
  parameter?: string;
  expression?: string;
  default?: string;
  jsonPath?: string;
  jqFilter?: string;
  event?: string;
  supplied?: KubeObject;
  configMapKeyRef?: ConfigMapKeySelector;
}

export interface Parameter {
  name: string;
  value?: string;
  default?: string;
  valueFrom?: ValueFrom;
  globalName?: string;
  enum?: string[];
  description?: string;
}

export interface S3Artifact {
  key?: string;
  bucket?: string;
  endpoint?: string;
  region?: string;
  insecure?: boolean;
  accessKeySecret?: SecretKeySelector;
  secretKeySecret?: SecretKeySelector;
  useSDKCreds?: boolean;
}

export interface ArchiveStrategy {
  tar?: { compressionLevel?: number };
  none?: Record<string, never>;
  zip?: Record<string, never>;
}

export interface Artifact {
  name: string;
  path?: string;
  from?: string;
  fromExpression?: string;
  optional?: boolean;
  mode?: number;
  subPath?: string;
  globalName?: string;
  archive?: ArchiveStrategy;
  archiveLogs?: boolean;
  recurseMode?: boolean;
  deleted?: boolean;
  s3?: S3Artifact;
  raw?: { data: string };
  http?: { url: string; headers?: { name: string; value: string }[] };
  git?: KubeObject;
  artifactGC?: KubeObject;
}

export interface Inputs {
  parameters?: Parameter[];
  artifacts?: Artifact[];
}

export interface Outputs {
  parameters?: Parameter[];
  artifacts?: Artifact[];
  result?: string;
  exitCode?: string;
}

export interface Arguments {
  parameters?: Parameter[];
  artifacts?: Artifact[];
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: KubeObject;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface ResourceRequirements {
  requests?: Record<string, IntOrString>;
  limits?: Record<string, IntOrString>;
}

/** A Kubernetes container as Argo embeds it (`container`, `script`, init containers, sidecars). */
export interface Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: KubeObject[];
  resources?: ResourceRequirements;
  volumeMounts?: VolumeMount[];
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  securityContext?: KubeObject;
  ports?: KubeObject[];
  stdin?: boolean;
  tty?: boolean;
  livenessProbe?: KubeObject;
  readinessProbe?: KubeObject;
  lifecycle?: KubeObject;
}

export interface ScriptTemplate extends Container {
  source: string;
}

/** An init container or sidecar: a container with a required name and Argo's extra fields. */
export interface UserContainer extends Container {
  name: string;
  mirrorVolumeMounts?: boolean;
}

export interface Sequence {
  count?: IntOrString;
  start?: IntOrString;
  end?: IntOrString;
  format?: string;
}

export interface ContinueOn {
  error?: boolean;
  failed?: boolean;
}

export interface LifecycleHook {
  template?: string;
  arguments?: Arguments;
  expression?: string;
  templateRef?: TemplateRef;
}

export interface TemplateRef {
  name: string;
  template: string;
  clusterScope?: boolean;
}

/** An item of `withItems`: any JSON value. */
export type Item = string | number | boolean | null | Item[] | { [key: string]: Item };

export interface WorkflowStep {
  name: string;
  template?: string;
  templateRef?: TemplateRef;
  inline?: Template;
  arguments?: Arguments;
  when?: string;
  withItems?: Item[];
  withParam?: string;
  withSequence?: Sequence;
  continueOn?: ContinueOn;
  onExit?: string;
  hooks?: Record<string, LifecycleHook>;
}

export interface DAGTask extends WorkflowStep {
  dependencies?: string[];
  depends?: string;
}

export interface DAGTemplate {
  tasks: DAGTask[];
  target?: string;
  failFast?: boolean;
}

export interface Backoff {
  duration?: string;
  factor?: IntOrString;
  maxDuration?: string;
  cap?: string;
}

export type RetryPolicy = "Always" | "OnFailure" | "OnError" | "OnTransientError";

export interface RetryStrategy {
  limit?: IntOrString;
  retryPolicy?: RetryPolicy;
  backoff?: Backoff;
  expression?: string;
  affinity?: KubeObject;
}

export interface Memoize {
  key: string;
  maxAge?: string;
  cache: { configMap: { name: string; key?: string } };
}

export interface Metadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface SuspendTemplate {
  duration?: string;
}

export interface ResourceTemplate {
  action: string;
  manifest?: string;
  successCondition?: string;
  failureCondition?: string;
  [key: string]: unknown;
}

export interface Template {
  name: string;
  /** Annotations added to the template at run time (`workflows.argoproj.io/display-name` names its node). */
  annotations?: Record<string, string>;
  inputs?: Inputs;
  outputs?: Outputs;
  metadata?: Metadata;
  container?: Container;
  script?: ScriptTemplate;
  steps?: WorkflowStep[][];
  dag?: DAGTemplate;
  suspend?: SuspendTemplate;
  resource?: ResourceTemplate;
  http?: KubeObject;
  data?: KubeObject;
  plugin?: KubeObject;
  containerSet?: KubeObject;
  initContainers?: UserContainer[];
  sidecars?: UserContainer[];
  volumes?: KubeObject[];
  nodeSelector?: Record<string, string>;
  tolerations?: KubeObject[];
  affinity?: KubeObject;
  retryStrategy?: RetryStrategy;
  activeDeadlineSeconds?: IntOrString;
  timeout?: string;
  parallelism?: number;
  failFast?: boolean;
  daemon?: boolean;
  memoize?: Memoize;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: KubeObject;
  podSpecPatch?: string;
  priorityClassName?: string;
  schedulerName?: string;
  archiveLocation?: KubeObject;
  synchronization?: KubeObject;
  hostAliases?: KubeObject[];
  executor?: KubeObject;
  metrics?: KubeObject;
}

export interface TTLStrategy {
  secondsAfterCompletion?: number;
  secondsAfterSuccess?: number;
  secondsAfterFailure?: number;
}

export interface PodGC {
  strategy?: "OnPodCompletion" | "OnPodSuccess" | "OnWorkflowCompletion" | "OnWorkflowSuccess";
  labelSelector?: KubeObject;
  deleteDelayDuration?: string;
}

export interface ArtifactRepositoryRef {
  configMap?: string;
  key?: string;
}

export interface WorkflowSpec {
  entrypoint?: string;
  templates?: Template[];
  arguments?: Arguments;
  onExit?: string;
  hooks?: Record<string, LifecycleHook>;
  parallelism?: number;
  activeDeadlineSeconds?: number;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  artifactRepositoryRef?: ArtifactRepositoryRef;
  ttlStrategy?: TTLStrategy;
  podGC?: PodGC;
  templateDefaults?: Partial<Template>;
  volumes?: KubeObject[];
  volumeClaimTemplates?: KubeObject[];
  nodeSelector?: Record<string, string>;
  tolerations?: KubeObject[];
  affinity?: KubeObject;
  imagePullSecrets?: { name: string }[];
  podMetadata?: Metadata;
  workflowMetadata?: Metadata & { labelsFrom?: Record<string, { expression: string }> };
  retryStrategy?: RetryStrategy;
  suspend?: boolean;
  shutdown?: "Terminate" | "Stop";
  priority?: number;
  securityContext?: KubeObject;
  podPriorityClassName?: string;
  schedulerName?: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  dnsConfig?: KubeObject;
  archiveLogs?: boolean;
  workflowTemplateRef?: { name: string; clusterScope?: boolean };
  synchronization?: KubeObject;
  metrics?: KubeObject;
  podDisruptionBudget?: KubeObject;
  podSpecPatch?: string;
  volumeClaimGC?: KubeObject;
  artifactGC?: KubeObject;
  executor?: KubeObject;
  hostAliases?: KubeObject[];
}

/** Node phases as Argo reports them in `status.nodes`. */
export type NodePhase = "Pending" | "Running" | "Succeeded" | "Skipped" | "Failed" | "Error" | "Omitted";

/** Node types as Argo reports them in `status.nodes`. */
export type NodeType =
  | "Pod"
  | "Container"
  | "Steps"
  | "StepGroup"
  | "DAG"
  | "TaskGroup"
  | "Retry"
  | "Skipped"
  | "Suspend"
  | "HTTP"
  | "Plugin";

export type WorkflowPhase = "" | "Pending" | "Running" | "Succeeded" | "Failed" | "Error";

export interface NodeStatus {
  id: string;
  name: string;
  displayName: string;
  type: NodeType;
  templateName?: string;
  templateRef?: TemplateRef;
  templateScope?: string;
  phase: NodePhase;
  boundaryID?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  progress?: string;
  inputs?: Inputs;
  outputs?: Outputs;
  children?: string[];
  outboundNodes?: string[];
  hostNodeName?: string;
  podIP?: string;
  daemoned?: boolean;
  memoizationStatus?: { hit: boolean; key: string; cacheName: string };
  estimatedDuration?: number;
  resourcesDuration?: Record<string, number>;
}

export interface WorkflowStatus {
  phase?: WorkflowPhase;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  progress?: string;
  nodes?: Record<string, NodeStatus>;
  outputs?: Outputs;
  storedTemplates?: Record<string, Template>;
  conditions?: { type: string; status: string; message?: string }[];
  artifactRepositoryRef?: KubeObject;
  estimatedDuration?: number;
}

/** An Argo Workflow object (apiVersion argoproj.io/v1alpha1, kind Workflow). */
export interface Workflow {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "Workflow";
  metadata: ObjectMeta;
  spec: WorkflowSpec;
  status?: WorkflowStatus;
}

/** An Argo WorkflowTemplate / ClusterWorkflowTemplate object. */
export interface WorkflowTemplate {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "WorkflowTemplate" | "ClusterWorkflowTemplate";
  metadata: ObjectMeta;
  spec: WorkflowSpec;
}
