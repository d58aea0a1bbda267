/**
 * The first module an OP bundle evaluates: it hides the bundle's own path from
 * `process.argv[1]`. Inside a bundle every module's `import.meta.url` is the bundle's, so a
 * bundled module's "am I the program?" check (`fileURLToPath(import.meta.url) ===
 * process.argv[1]`, as examples/reuse.ts has) would be true in the pod and run the module's
 * own main code instead of the OP. With `opflow execute` the program is the CLI and the check
 * is false: the bundle keeps it so.
 */
import path from "node:path";

const program = process.argv[1];
if (program !== undefined) process.argv[1] = path.join(path.dirname(program), "opflow-op-runner");
