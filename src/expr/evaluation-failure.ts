/** A failure inside an operator or function; the evaluator turns it into an ExpressionError with a position. */
export class EvaluationFailure extends Error {
  override readonly name = "EvaluationFailure";
}
