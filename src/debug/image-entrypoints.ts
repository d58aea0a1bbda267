/**
 * What a container without `command` runs. On Kubernetes that is the image's ENTRYPOINT, with
 * `args` after it; the local engine does not pull images, so it knows the entrypoints of the
 * images upstream Argo examples run that way, and otherwise runs `args` as the command.
 */

/** Known images and their entrypoint, looked up on PATH (a stand-in of the same name will do). */
const ENTRYPOINTS: readonly (readonly [RegExp, readonly string[]])[] = [
  // Argo's test image (test/e2e/images/argosay/v2/Dockerfile: ENTRYPOINT ["/argosay"]).
  [/^(docker\.io\/)?argoproj\/argosay:v2$/, ["argosay"]],
];

/**
 * The entrypoint of `image` when the engine knows it, else undefined.
 *
 * @example
 * ```ts
 * imageEntrypoint("argoproj/argosay:v2"); // ["argosay"]
 * imageEntrypoint("alpine:3.23");         // undefined
 * ```
 */
export function imageEntrypoint(image: string | undefined): readonly string[] | undefined {
  if (!image) return undefined;
  return ENTRYPOINTS.find(([re]) => re.test(image))?.[1];
}
