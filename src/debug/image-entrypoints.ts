/**
 * What a container without `command` runs. On Kubernetes that is the image's ENTRYPOINT, with
 * `args` after it; the local engine does not pull images, so it knows the entrypoints of the
 * images upstream Argo examples run that way, and otherwise runs `args` as the command.
 */

/**
 * Known images, their entrypoint looked up on PATH (a stand-in of the same name will do), and
 * where that program sits inside the image.
 */
const ENTRYPOINTS: readonly (readonly [RegExp, readonly string[], string])[] = [
  // Argo's test image (test/e2e/images/argosay/v2/Dockerfile: ENTRYPOINT ["/argosay"]).
  [/^(docker\.io\/)?argoproj\/argosay:v2$/, ["argosay"], "/argosay"],
];

/**
 * Known images whose default command is a CMD (run only when the container gives neither
 * `command` nor `args`; `args` replace it), looked up on PATH like the entrypoints. The
 * daemons of upstream examples run them so (daemon-nginx.yaml, daemon-step.yaml): nginx's
 * Dockerfile has `CMD ["nginx", "-g", "daemon off;"]`; influxdb 1.x's entrypoint script
 * executes its arguments, `CMD ["influxd"]`.
 */
const CMDS: readonly (readonly [RegExp, readonly string[]])[] = [
  [/^(docker\.io\/)?(library\/)?nginx(:[\w.-]+)?$/, ["nginx", "-g", "daemon off;"]],
  [/^(docker\.io\/)?(library\/)?influxdb:1(\.[\w.-]+)?$/, ["influxd"]],
];

/**
 * The command of a container without `command`: the image's entrypoint when the engine knows
 * it, else, without `args`, the image's CMD when the engine knows it.
 *
 * @example
 * ```ts
 * imageCommand("nginx:1.13", undefined);        // ["nginx", "-g", "daemon off;"]
 * imageCommand("nginx:1.13", ["nginx", "-t"]);  // undefined: the args are the command
 * ```
 */
export function imageCommand(image: string | undefined, args: readonly string[] | undefined): readonly string[] | undefined {
  const entrypoint = imageEntrypoint(image);
  if (entrypoint || !image || (args && args.length > 0)) return entrypoint;
  return CMDS.find(([re]) => re.test(image))?.[1];
}

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

/**
 * The command a container runs on this machine: its own, else the image's entrypoint, else —
 * without args — the image's CMD (see {@link imageCommand}). A command that names the entrypoint by its path inside a known image
 * (`command: [/argosay]`, upstream examples/intermediate-parameters.yaml) runs the program of
 * that name on PATH, as when the command is left out.
 *
 * @example
 * ```ts
 * containerCommand({ image: "argoproj/argosay:v2", command: ["/argosay"] }); // ["argosay"]
 * containerCommand({ image: "alpine", command: ["/bin/echo"] });           // ["/bin/echo"]
 * ```
 */
export function containerCommand(c: { readonly image?: string; readonly command?: readonly string[]; readonly args?: readonly string[] }): readonly string[] | undefined {
  if (!c.command) return imageCommand(c.image, c.args);
  const known = c.image ? ENTRYPOINTS.find(([re]) => re.test(c.image as string)) : undefined;
  if (known && c.command[0] === known[2]) return [...known[1], ...c.command.slice(1)];
  return c.command;
}
