/**
 * References to the stacked outputs of a sliced step (see `slicedStep`). Each child of the
 * fan-out writes the outputs of its items as a list; Argo aggregates the children's lists
 * into a list of lists, which a stacked parameter flattens back into one list in item order.
 * Stacked artifacts live under one key in the artifact repository, one item per index.
 */
import { CompileError } from "../errors.ts";
import { ArtifactRef, type RefProducer } from "../expr/refs.ts";
import { Expr, type RenderContext, type ValueKind, type VarRef } from "../expr/tree.ts";

/** The stacked (flattened) list of a sliced step's output parameter. */
export class StackedParam<T> extends Expr<T[]> {
  readonly kind: ValueKind = "json";
  constructor(
    readonly aggregated: VarRef<unknown>,
    /** Each child wrote `[index, value]` pairs (shuffled groups), put back in item order here. */
    readonly pairs = false,
  ) {
    super();
  }
  renderExpr(ctx: RenderContext): string {
    // Argo embeds each child's value as JSON when every value parses, else as a string.
    const children = `map(fromJSON(${this.aggregated.renderRaw(ctx)}), type(#) == "string" ? fromJSON(#) : #)`;
    if (!this.pairs) return `flatten(${children})`;
    const byIndex = `fromPairs(reduce(${children}, concat(#acc, #), []))`;
    return `map(sprig.until(len(${byIndex})), ${byIndex}[string(#)])`;
  }
}

/** The key prefix shared by the children of a sliced step: `{{workflow.name}}/<template>/<step>`. */
export function stackKeyPrefix(producer: RefProducer): string {
  const parent = producer.parentTemplate;
  if (!parent) throw new CompileError(`step "${producer.name}" is sliced but was never added to a Steps or DAG template`);
  return `{{workflow.name}}/${parent.name}/${producer.name}`;
}

/** A stacked output artifact: a list artifact in the repository under the step's stack key. */
export class StackedArtifactRef extends ArtifactRef<"list"> {
  constructor(
    readonly producer: RefProducer,
    readonly artifactName: string,
    /** The children's catalog parts (`[index, path]` pairs), aggregated by Argo, when they record them. */
    catalogParts?: VarRef<unknown>,
  ) {
    super({ type: "output", producer, io: "artifacts", name: artifactName }, "list", catalogParts ? new StackedParam(catalogParts, true) : undefined);
  }
  /** The repository key of the stacked list. */
  repositoryKey(): string {
    return `${stackKeyPrefix(this.producer)}/${this.artifactName}`;
  }
  override renderTag(ctx: RenderContext): string {
    this.path(ctx);
    throw new CompileError(
      `template "${ctx.template}": the stacked artifact "${this.artifactName}" of sliced step "${this.producer.name}" can be passed to steps and tasks, not used as a tag or a template output`,
    );
  }
}

/** The stack key value passed to the children of a sliced step. */
export class StackKey extends Expr<string> {
  readonly kind: ValueKind = "string";
  constructor(readonly producer: () => RefProducer) {
    super();
  }
  renderExpr(): string {
    throw new CompileError(`the stack key of step "${this.producer().name}" cannot be used inside an expression`);
  }
  override renderTag(): string {
    return stackKeyPrefix(this.producer());
  }
}
