import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BundleError, bundleModule } from "./bundle.ts";
import { bundleModuleSync } from "./bundle-sync.ts";

const hello = path.resolve(fileURLToPath(new URL("../../examples/hello.ts", import.meta.url)));

describe("bundleModuleSync", () => {
  it("gives the same bundle as bundleModule, without awaiting", async () => {
    const sync = bundleModuleSync(hello);
    const again = bundleModuleSync(hello);
    const async_ = await bundleModule(hello, { cache: false });
    expect(sync.hash).toBe(async_.hash);
    expect(again.hash).toBe(sync.hash);
    expect(sync.contents).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(sync.contents).equals(Buffer.from(async_.contents))).toBe(true);
  });

  it("throws the BundleError of the bundling thread", () => {
    let error: unknown;
    try {
      bundleModuleSync(path.join(path.dirname(hello), "no-such-module.ts"));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(/OP bundle: module .*no-such-module.ts does not exist/);
  });
});
