import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Template } from "../argo/model.ts";
import { artifactChecksum, contentChecksum, moduleSourceHash } from "./content-checksum.ts";
import { TemplateDigests, canonicalJson, nodeDigest } from "./node-digest.ts";

const leaf = (name: string, cmd: string, extra: Partial<Template> = {}): Template => ({
  name,
  inputs: { parameters: [{ name: "n" }] },
  container: { image: "busybox", command: ["sh", "-c", cmd] },
  ...extra,
});

const main: Template = {
  name: "main",
  steps: [[{ name: "a", template: "a", arguments: { parameters: [{ name: "n", value: "{{workflow.parameters.n}}" }] } }], [{ name: "b", template: "b" }]],
};

function digests(templates: Template[], options: ConstructorParameters<typeof TemplateDigests>[1] = {}): TemplateDigests {
  return new TemplateDigests(templates, options);
}

describe("node digest", () => {
  it("is the same for the same parts, whatever the order of parameters, artifacts and object keys", () => {
    const t = digests([leaf("a", "echo")]).of("a");
    const one = nodeDigest({ template: t, parameters: [{ name: "x", value: "1" }, { name: "y", value: "2" }], artifacts: [{ name: "p", checksum: "sha256:1" }, { name: "q", checksum: "sha256:2" }] });
    const two = nodeDigest({ template: t, parameters: [{ name: "y", value: "2" }, { name: "x", value: "1" }], artifacts: [{ name: "q", checksum: "sha256:2" }, { name: "p", checksum: "sha256:1" }] });
    expect(one).toBe(two);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
  });

  it("changes with a parameter value, an artifact checksum, or the template", () => {
    const d = digests([leaf("a", "echo one"), leaf("b", "echo two")]);
    const base = { template: d.of("a"), parameters: [{ name: "n", value: "5" }], artifacts: [{ name: "in", checksum: "sha256:aa" }] };
    const ref = nodeDigest(base);
    expect(nodeDigest({ ...base, parameters: [{ name: "n", value: "10" }] })).not.toBe(ref);
    expect(nodeDigest({ ...base, artifacts: [{ name: "in", checksum: "sha256:bb" }] })).not.toBe(ref);
    expect(nodeDigest({ ...base, template: d.of("b") })).not.toBe(ref);
    // A parameter that is missing is not the same as an empty one.
    expect(nodeDigest({ ...base, parameters: [] })).not.toBe(nodeDigest({ ...base, parameters: [{ name: "n", value: "" }] }));
  });

  it("leaves out the step key, and template fields that only decide scheduling", () => {
    const t = digests([leaf("a", "echo")]).of("a");
    expect(nodeDigest({ template: t, parameters: [{ name: "opflow-key", value: "iter-1" }], artifacts: [] })).toBe(nodeDigest({ template: t, parameters: [{ name: "opflow-key", value: "iter-2" }], artifacts: [] }));
    const plain = digests([leaf("a", "echo")]).of("a");
    const scheduled = digests([
      leaf("a", "echo", { retryStrategy: { limit: "3" }, activeDeadlineSeconds: 60, metadata: { labels: { x: "y" } }, nodeSelector: { disk: "ssd" } }),
    ]).of("a");
    expect(scheduled).toBe(plain);
    const resources = digests([{ ...leaf("a", "echo"), container: { image: "busybox", command: ["sh", "-c", "echo"], resources: { limits: { cpu: "2" } } } }]).of("a");
    expect(resources).toBe(plain);
    // The image is part of what runs.
    expect(digests([{ ...leaf("a", "echo"), container: { image: "alpine", command: ["sh", "-c", "echo"] } }]).of("a")).not.toBe(plain);
    // A template's own name is not (the same template renamed is the same computation).
    expect(digests([leaf("renamed", "echo")]).of("renamed")).toBe(plain);
  });

  it("covers every template a Steps or DAG template calls, however deep", () => {
    const before = digests([main, leaf("a", "echo a"), leaf("b", "echo b")]);
    const after = digests([main, leaf("a", "echo a"), leaf("b", "echo B")]);
    expect(after.of("main")).not.toBe(before.of("main"));
    expect(after.of("a")).toBe(before.of("a"));
    expect(after.of("b")).not.toBe(before.of("b"));
    const dag: Template = { name: "outer", dag: { tasks: [{ name: "m", template: "main" }] } };
    expect(digests([dag, main, leaf("a", "echo a"), leaf("b", "echo B")]).of("outer")).not.toBe(digests([dag, main, leaf("a", "echo a"), leaf("b", "echo b")]).of("outer"));
    // Recursion terminates.
    const loop: Template = { name: "loop", steps: [[{ name: "again", template: "loop", when: "false" }]] };
    expect(digests([loop]).of("loop")).toMatch(/^[0-9a-f]{64}$/);
    // Inline templates and exit hooks count too.
    const withHook = (cmd: string): Template[] => [{ name: "h", steps: [[{ name: "s", template: "a", hooks: { exit: { template: "x" } } }]] }, leaf("a", "echo"), leaf("x", cmd)];
    expect(digests(withHook("one")).of("h")).not.toBe(digests(withHook("two")).of("h"));
    expect(digests([]).ofInline(leaf("i", "one"))).not.toBe(digests([]).ofInline(leaf("i", "two")));
  });

  it("includes the code an OP template runs, and the workflow variables the templates mention", () => {
    const op = leaf("op", "");
    const code = (hash: string) => (t: Template) => (t.name === "op" ? hash : undefined);
    expect(digests([op], { code: code("sha256:1") }).of("op")).not.toBe(digests([op], { code: code("sha256:2") }).of("op"));
    const g1 = { "workflow.parameters.n": "5", "workflow.parameters.unused": "x", "workflow.name": "wf-a" };
    const g2 = { ...g1, "workflow.parameters.n": "10" };
    const g3 = { ...g1, "workflow.parameters.unused": "y", "workflow.name": "wf-b" };
    const all = [main, leaf("a", "echo a"), leaf("b", "echo b")];
    expect(digests(all, { globals: g2 }).of("main")).not.toBe(digests(all, { globals: g1 }).of("main"));
    // Variables no template mentions (here the workflow's name) change nothing.
    expect(digests(all, { globals: g3 }).of("main")).toBe(digests(all, { globals: g1 }).of("main"));
    // …and b, which mentions none, is the same whatever n is.
    expect(digests(all, { globals: g2 }).of("b")).toBe(digests(all, { globals: g1 }).of("b"));
    // The expression form counts as a mention.
    const expr = leaf("e", "echo {{=workflow.parameters['n']}}");
    expect(digests([expr], { globals: g2 }).of("e")).not.toBe(digests([expr], { globals: g1 }).of("e"));
  });
});

describe("content checksums", () => {
  it("hash a file's bytes and a folder's tree, not times", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "opflow-sum-"));
    const f = path.join(dir, "f.txt");
    await fs.writeFile(f, "hello");
    const one = await contentChecksum(f);
    expect(one).toMatch(/^sha256:[0-9a-f]{64}$/);
    await fs.utimes(f, new Date(2000, 1, 1), new Date(2000, 1, 1));
    expect(await contentChecksum(f)).toBe(one);
    await fs.writeFile(f, "hellO");
    expect(await contentChecksum(f)).not.toBe(one);
    const tree = path.join(dir, "tree");
    await fs.mkdir(path.join(tree, "sub"), { recursive: true });
    await fs.writeFile(path.join(tree, "sub", "a"), "1");
    const t1 = await contentChecksum(tree);
    await fs.rename(path.join(tree, "sub", "a"), path.join(tree, "sub", "b"));
    expect(await contentChecksum(tree)).not.toBe(t1);
    await fs.chmod(path.join(tree, "sub", "b"), 0o755);
    const t2 = await contentChecksum(tree);
    await fs.chmod(path.join(tree, "sub", "b"), 0o644);
    expect(await contentChecksum(tree)).not.toBe(t2);

    expect(await artifactChecksum({ artifact: { name: "a" }, localPath: f })).toBe(await contentChecksum(f));
    // An artifact that is a link to the file a step wrote: the file's content counts.
    const link = path.join(dir, "link");
    await fs.symlink(f, link);
    expect(await contentChecksum(link)).toBe(await contentChecksum(f));
    await fs.writeFile(f, "changed");
    expect(await contentChecksum(link)).toBe(await contentChecksum(f));
    expect(await artifactChecksum({ artifact: { name: "a", raw: { data: "x" } } })).toMatch(/^sha256:/);
    expect(await artifactChecksum({ artifact: { name: "a", s3: { key: "k/a.tgz" } } })).toBe("key:k/a.tgz");
    expect(await artifactChecksum({ artifact: { name: "a", s3: { key: "k/a.tgz" } } }, async () => "abc")).toBe("md5:abc");
    // Bytes that went away: what names them.
    expect(await artifactChecksum({ artifact: { name: "a", s3: { key: "k" } }, localPath: path.join(dir, "gone") })).toBe("key:k");

    const mod = path.join(dir, "ops.ts");
    await fs.writeFile(mod, "export const a = 1;\n");
    const h1 = moduleSourceHash(mod);
    await fs.writeFile(mod, "export const a = 2;\n");
    await fs.utimes(mod, new Date(), new Date(Date.now() + 5000));
    expect(moduleSourceHash(mod)).not.toBe(h1);
    expect(moduleSourceHash(path.join(dir, "missing.ts"))).toBeUndefined();
    await fs.rm(dir, { recursive: true, force: true });
  });
});
