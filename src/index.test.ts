import { describe, expect, it } from "vitest";
import * as opflow from "./index.ts";

describe("the public index", () => {
  const exported = new Set(Object.keys(opflow));

  it("exports the DSL and the documented APIs", () => {
    const documented = [
      // README and docs/authoring.md, docs/wiring.md, docs/slices.md
      ...["param", "artifact", "bigParameter", "defineOp", "OP", "OPTemplate", "ContainerTemplate", "ScriptOPTemplate", "ShellOPTemplate"],
      ...["Step", "Steps", "Task", "DAG", "Depends", "Workflow", "slicedStep", "slicedTask", "rawArtifact", "httpArtifact", "s3Artifact"],
      ...["argoSequence", "argoRange", "argoLen", "argoEnumerate", "ifExpression", "argoCondition", "rawArgo", "and", "or", "not", "toJson"],
      ...["TransientError", "FatalError", "CompileError", "ValidationError", "SubmitError", "OpflowError", "toYaml", "argo"],
      // docs/cluster.md and docs/local-engine.md
      ...["submitWorkflow", "workflowHandle", "WorkflowHandle", "querySteps", "nodeFieldSelector", "ClusterApiError", "createArgoClient"],
      ...["modifyOutputs", "RunLockedError", "openRun", "runManifest"],
      ...["runWorkflow", "LocalArgoClient", "LocalStorageClient", "S3StorageClient", "uploadArtifact", "downloadArtifact"],
      // docs/cluster.md: how OP code reaches the pod; pods in local containers
      ...["bundleModule", "BundleError", "BundleArtifact", "ContainerExecutor", "parseImageMap"],
      // docs/dflow.md, docs/wiring.md, docs/compiling.md
      ...["argoSum", "argoConcat", "div", "mod", "at", "ArtifactPart", "lifecycleHook", "SuspendTemplate", "manifestGraph", "graphToMermaid", "graphToDot"],
      ...["HttpTemplate", "ResourceTemplate", "secret", "SecretKey", "NestedArtifactRef", "NestedArtifactPart"],
    ];
    expect(documented.filter((name) => !exported.has(name))).toEqual([]);
  });

  it("keeps helpers internal", () => {
    const helpers = ["compact", "kebabCase", "callerModule", "renderRetry", "renderPod", "orderTemplate", "checkName", "formatIssues"];
    const more = ["renderExpression", "renderCondition", "quoteString", "sourcePath", "splitSignature", "encodeParameter", "withRetry"];
    const engine = ["checkReuseTargets", "templateScript", "validateOneOutput", "envVar", "workflowRunName", "submitMode", "uploadLocalArtifacts", "compileTemplates", "checkLimits", "ProgressBar", "joinKey"];
    const bundles = ["bundleModuleSync", "uploadBundles", "installExternals", "runBundledOp", "runContainer", "podmanRunArgs"];
    expect([...helpers, ...more, ...engine, ...bundles].filter((name) => exported.has(name))).toEqual([]);
  });
});
