/**
 * Loads what a command acts on: a TypeScript/JavaScript module that exports a workflow, or a
 * YAML/JSON Argo manifest.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { Workflow as ArgoWorkflow, WorkflowTemplate } from "../argo/model.ts";
import { parseYamlDocuments } from "../argo/parse-yaml.ts";
import { workflowTemplatesIn } from "../debug/workflow-templates.ts";
import type { LocalBindings } from "../contract.ts";
import type { Signature } from "../op/signature.ts";
import type { TransferProgress } from "../artifacts/transfer.ts";
import type { StorageClient } from "../storage/client.ts";
import { OpflowError } from "../errors.ts";
import { importUserModule } from "../user-module.ts";

/** Local files a workflow passes as input artifacts, to upload before it runs. */
export interface UploadableArtifact {
  upload(storage: StorageClient, options?: { readonly onProgress?: (progress: TransferProgress) => void }): Promise<void>;
}

/** Anything that compiles to a manifest (opflow's `Workflow` is one). */
export interface CompilableWorkflow {
  compile(): ArgoWorkflow;
  /** In-process implementations of templates, for the local engine. */
  localBindings?(): LocalBindings;
  /** Local files passed as input artifacts. */
  localArtifacts?(): readonly UploadableArtifact[];
  /** All three from one compile (preferred when present). */
  prepare?(options?: { readonly bundles?: boolean }): {
    manifest: ArgoWorkflow;
    bindings: LocalBindings;
    localArtifacts: readonly UploadableArtifact[];
    bundles?: readonly LoadedBundle[];
    /** Output signatures by manifest template name: the entrypoint's types the printed outputs. */
    outputSignatures?: ReadonlyMap<string, Signature>;
  };
}

/** An OP bundle the manifest names (opflow's `BundleArtifact`). */
export interface LoadedBundle {
  /** Its key in the artifact repository. */
  readonly key: string;
  /** Uploads it unless the key exists; resolves whether it uploaded. */
  upload(storage: StorageClient): Promise<boolean>;
  /** Writes it under `dir` as the object stored under its key; resolves the path written. */
  writeObject(dir: string): Promise<string>;
}

/** Options of {@link loadWorkflow}. */
export interface LoadOptions {
  /**
   * Compile with OP bundles (for a cluster, or for pods run in containers); without, OP
   * templates render their installed-mode command (in-process runs need no bundle).
   * @default false
   */
  readonly bundles?: boolean;
}

/** What a command loaded: the manifest, plus in-process bindings when it came from code. */
export interface LoadedWorkflow {
  readonly manifest: ArgoWorkflow;
  readonly bindings: LocalBindings;
  /** The file it came from. */
  readonly source: string;
  /** Local files passed as input artifacts: upload them to the run's storage first. */
  readonly localArtifacts: readonly UploadableArtifact[];
  /** WorkflowTemplates and ClusterWorkflowTemplates found beside the Workflow in a manifest file. */
  readonly workflowTemplates?: readonly WorkflowTemplate[];
  /** OP bundles the manifest names (with `bundles: true`): put them in the run's storage first. */
  readonly bundles: readonly LoadedBundle[];
  /** Output signatures by manifest template name (modules built with opflow's DSL). */
  readonly outputSignatures?: ReadonlyMap<string, Signature>;
}

function isCompilable(value: unknown): value is CompilableWorkflow {
  return typeof value === "object" && value !== null && typeof (value as { compile?: unknown }).compile === "function";
}

/**
 * Loads `file`. A module must export its workflow as `default` or as `workflow` (either the
 * workflow object or a function returning it). A manifest file must hold one Workflow.
 */
export async function loadWorkflow(file: string, options: LoadOptions = {}): Promise<LoadedWorkflow> {
  const abs = path.resolve(file);
  try {
    await fs.access(abs);
  } catch {
    throw new OpflowError(`${file}: no such file`);
  }
  if (/\.(ya?ml|json)$/i.test(abs)) {
    const text = await fs.readFile(abs, "utf8");
    const documents = parseYamlDocuments(text, file);
    const workflows = documents.filter((m): m is ArgoWorkflow => {
      return typeof m === "object" && m !== null && (m as { kind?: unknown }).kind === "Workflow";
    });
    if (workflows.length !== 1) {
      throw new OpflowError(`${file}: expected exactly one Argo Workflow (kind: Workflow), found ${workflows.length}`);
    }
    return { manifest: workflows[0] as ArgoWorkflow, bindings: new Map(), source: abs, localArtifacts: [], bundles: [], workflowTemplates: workflowTemplatesIn(documents) };
  }
  const mod = await importUserModule(abs);
  let exported = mod["workflow"] ?? mod["default"];
  if (typeof exported === "function" && !isCompilable(exported)) exported = await (exported as () => unknown)();
  if (!isCompilable(exported)) {
    throw new OpflowError(
      `${file}: the module must export a workflow as "default" or "workflow" (an object with compile(), or a function returning one)`,
    );
  }
  if (exported.prepare) {
    const prepared = exported.prepare({ bundles: options.bundles ?? false });
    return { ...prepared, bundles: prepared.bundles ?? [], source: abs };
  }
  return {
    manifest: exported.compile(),
    bindings: exported.localBindings?.() ?? new Map(),
    source: abs,
    localArtifacts: exported.localArtifacts?.() ?? [],
    bundles: [],
  };
}
