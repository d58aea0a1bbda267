/**
 * The OP that joins list artifacts into one list, for templates without an OP runner in their
 * image (script, shell and container templates): it runs on the stock Node image of OP
 * templates, reads its `parts` input as the runner reads any joined list (parts in order,
 * each list's items in order) and writes them as one list, `<index>/<entry>` with consecutive
 * indices, with its catalog. See `joined-lists.ts`.
 *
 * This module imports only the OP definition helpers, so that its bundle stays small.
 */
import { type OPDefinition, defineOp } from "../op/op.ts";
import { artifact } from "../op/signature.ts";

/** Name of the join OP (and of its template). */
export const JOIN_OP_NAME = "opflow-join-list";

const defined = defineOp({
  name: JOIN_OP_NAME,
  description: "Joins list artifacts and single paths into one list artifact, in order",
  inputs: { parts: artifact.list() },
  outputs: { list: artifact.list() },
  execute: ({ parts }) => ({ list: parts }),
});

/** The join OP; its module is this file (an OP defined inside opflow names its module itself). */
export const joinListOp: OPDefinition<typeof defined.inputs, typeof defined.outputs> = Object.freeze({ ...defined, modulePath: import.meta.url });
