/**
 * The one place the engine reaches into `expr/` (Argo's expression semantics), so the engine
 * depends on a small, named surface.
 */
export {
  dependsTasks,
  evaluateDepends,
  evaluateExpression,
  evaluateWhen,
  expandScope,
  substituteTags,
  substituteTagsDeep,
  type DependsTaskResult,
  type TaskResultPhase,
} from "../expr/evaluation.ts";
export { formatGoTime } from "../expr/go-time.ts";
