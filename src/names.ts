/**
 * Argo's name rules, in one place: what a workflow, a template (and the OP it comes from), a
 * step or task, and an input or output may be called. Each check throws a ValidationError
 * naming the object, the rule and the offending name.
 */
import { ValidationError } from "./errors.ts";

/** Lowercase RFC 1123: letters, digits and `-`, starting and ending with a letter or digit. */
const RFC1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Argo's step and task names: letters (either case), digits and `-`, starting with a letter or digit. */
const STEP_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9]*$/;
/** Input and output names: letters, digits, `-` and `_`. */
const IO_NAME = /^[-a-zA-Z0-9_]+$/;

/** Longest template, step and task name Argo accepts. */
export const MAX_NAME_LENGTH = 128;
/** Longest workflow name (a Kubernetes label value). */
export const MAX_WORKFLOW_NAME_LENGTH = 63;
/** Longest `generateName` prefix (Kubernetes appends 5 characters). */
export const MAX_GENERATE_NAME_LENGTH = 58;

/** Checks an OP or template name (lowercase RFC 1123, at most `max` characters). */
export function checkName(what: string, name: string, max = MAX_NAME_LENGTH): void {
  if (typeof name !== "string" || !RFC1123.test(name) || name.length > max) {
    throw new ValidationError(
      `${what} name ${JSON.stringify(name)} is invalid: use lowercase letters, digits and "-", starting and ending with a letter or digit, at most ${max} characters`,
    );
  }
}

/** Checks a step or task name against Argo's rule. */
export function checkStepName(kind: string, name: string): void {
  if (typeof name !== "string" || !STEP_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new ValidationError(
      `${kind} name ${JSON.stringify(name)} is invalid: use letters, digits and "-", starting with a letter or digit, at most ${MAX_NAME_LENGTH} characters`,
    );
  }
}

/** Checks an input or output name; `owner` names its OP or template (`OP "x": inputs`). */
export function checkIOName(owner: string, name: string): void {
  if (!IO_NAME.test(name)) throw new ValidationError(`${owner} name ${JSON.stringify(name)} is invalid: use letters, digits, "-" and "_"`);
}

/** Checks a workflow's `name` and `generateName`. */
export function checkWorkflowNames(name: string | undefined, generateName: string | undefined): void {
  if (name !== undefined && (!RFC1123.test(name) || name.length > MAX_WORKFLOW_NAME_LENGTH)) {
    throw new ValidationError(
      `Workflow name ${JSON.stringify(name)} is invalid: use at most ${MAX_WORKFLOW_NAME_LENGTH} lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
  if (generateName !== undefined && (!RFC1123.test(generateName.replace(/-$/, "x")) || generateName.length > MAX_GENERATE_NAME_LENGTH)) {
    throw new ValidationError(`Workflow generateName ${JSON.stringify(generateName)} is invalid: use at most ${MAX_GENERATE_NAME_LENGTH} lowercase letters, digits and "-"`);
  }
}
