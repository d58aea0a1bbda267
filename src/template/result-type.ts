/**
 * The type of a template's `outputs.result` (Argo's standard output or response body), carried
 * by its output signature under a key no output can have: steps and tasks that call the
 * template type their `outputs.result` with it. Text unless the template says otherwise (an
 * `HttpTemplate` with a `result` schema).
 */

/** The phantom key of a result type in an output signature (a type only: no value exists). */
export declare const RESULT_TYPE: unique symbol;

/** An output signature saying that `outputs.result` holds an `R`. */
export type ResultSignature<R> = { readonly [RESULT_TYPE]?: R };

/**
 * The type of `outputs.result` of a template whose output signature is `O`: the type a
 * {@link ResultSignature} names, else `string`.
 *
 * @example
 * type A = ResultOf<ResultSignature<{ id: number }>>; // { id: number }
 * type B = ResultOf<{ n: ParamSpec<number> }>;          // string
 */
export type ResultOf<O> = O extends { readonly [RESULT_TYPE]?: infer R } ? (unknown extends R ? string : R) : string;
