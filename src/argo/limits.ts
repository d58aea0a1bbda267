/**
 * Argo v4's structural limits (the full CRD installed by default rejects more). The compiler
 * owns them: it dedups templates, splits large DAGs (`dag-split.ts`) and reports what neither
 * helps (`compile.ts`).
 */
import { MAX_NAME_LENGTH } from "../names.ts";

/** Argo v4's structural limits. */
export const ArgoLimits = {
  templatesPerWorkflow: 200,
  tasksPerDag: 200,
  inputParametersPerTemplate: 500,
  nameLength: MAX_NAME_LENGTH,
  /** etcd's object size limit, in bytes of JSON; Argo rejects larger workflows. */
  objectBytes: 1_000_000,
  /** Above this fraction of a limit the compiler warns. */
  warnFraction: 0.8,
} as const;
