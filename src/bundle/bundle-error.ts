import { CompileError } from "../errors.ts";

/** A module that cannot be bundled (native addon, computed `require`), or esbuild failed. */
export class BundleError extends CompileError {
  override readonly name: string = "BundleError";
}
