/**
 * The evaluation half of `src/expr`: parsing and evaluating what Argo evaluates, for the local
 * engine. Never uses `eval` or `new Function`.
 */
export { ExpressionError } from "../errors.ts";
export { parseExpression, type ExprAst } from "./parser.ts";
export { evaluateExpression, evaluateAst, evaluateBool, type EvaluateOptions } from "./evaluate.ts";
export { evaluateWhen } from "./govaluate.ts";
export { substituteTags, substituteTagsDeep, expandScope, renderTagValue, type DeepTagOptions, type TagOptions } from "./tags.ts";
export { queryJsonPath } from "./jsonpath.ts";
export { formatGoValue, goJson } from "./values.ts";
export {
  dependsTasks,
  evaluateDepends,
  evaluateDependsDetailed,
  type TaskResultPhase,
  type DependsTaskResult,
  type DependsOutcome,
} from "./depends.ts";
