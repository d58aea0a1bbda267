/** `SuspendTemplate`: Argo's suspend template — a step that waits. */
import type { Template as ArgoTemplate } from "../argo/model.ts";
import { type Duration, renderDuration } from "../duration.ts";
import { compact } from "./compact.ts";
import { orderTemplate } from "./order.ts";
import { Template, type TemplateCompiler, type TemplateOptions } from "./template.ts";

/** Options of a {@link SuspendTemplate}. */
export interface SuspendTemplateOptions extends Pick<TemplateOptions, "timeout"> {
  /** The template's name (lowercase RFC 1123). */
  readonly name: string;
  /**
   * How long to wait. Without it the step waits until resumed (`argo resume`), which the local
   * engine does not offer.
   * @default until resumed
   */
  readonly duration?: Duration;
}

/**
 * A step that waits, for a while or until resumed (Argo's `suspend` template).
 *
 * @example
 * main.add(new Step("cool-down", new SuspendTemplate({ name: "wait-30s", duration: "30s" })));
 */
export class SuspendTemplate extends Template<{}, {}> {
  private readonly duration: string | undefined;

  constructor(options: SuspendTemplateOptions) {
    super(options.name, {}, {}, { timeout: options.timeout });
    this.duration = options.duration === undefined ? undefined : renderDuration(options.duration, `template "${options.name}": duration`);
  }

  toArgo(compiler: TemplateCompiler): ArgoTemplate[] {
    return [orderTemplate(compact({ name: compiler.nameOf(this), suspend: this.duration !== undefined ? { duration: this.duration } : {}, ...this.renderCommon() }))];
  }
}
