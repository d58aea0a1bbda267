/** `slicedTask`: the DAG form of `slicedStep` (dflow's `Slices` on a Task). */
import type { RefProducer } from "../expr/refs.ts";
import type { Signature } from "../op/signature.ts";
import type { Template } from "../template/template.ts";
import { type SliceSources, type SlicedStepOptions, type StackedSignature, sliceCall } from "../steps/sliced-step.ts";
import { Task, type TaskDependencies } from "./task.ts";

/**
 * A task that slices list inputs over a fan-out and stacks its outputs, in item order.
 *
 * @example
 * const sq = dag.add(slicedTask("square", squareT, { slices: { x: gen.outputs.parameters.items } }));
 * dag.add(new Task("sum", sumT, { parameters: { values: sq.outputs.parameters.y } })); // depends on square
 */
export function slicedTask<I extends Signature, O extends Signature, S extends SliceSources<I>>(
  name: string,
  template: Template<I, O>,
  options: SlicedStepOptions<I, S> & TaskDependencies,
): Task<Signature, StackedSignature<O>, number> {
  let task: Task<Signature, StackedSignature<O>, number> | undefined;
  const built = sliceCall("Task", name, template, options as unknown as SlicedStepOptions<I, SliceSources<I>>, () => task as unknown as RefProducer);
  task = new Task<Signature, StackedSignature<O>, number>(name, built.template as never, built.options as never);
  return task;
}
