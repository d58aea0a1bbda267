/**
 * Data templates as Argo runs them (docs/data-sourcing-and-transformation.md,
 * examples/data-transformations.yaml, workflow/data/data.go, workflow/controller/
 * operator_data_test.go): `artifactPaths` lists the keys of an artifact location (S3's
 * recursive listing under `key/`), each `transformation` expression replaces `data`, and the
 * node's `outputs.result` is the JSON of the end value — here over the engine's own store.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Template } from "../argo/model.ts";
import { LocalStorageClient } from "../storage/local.ts";
import { manifest, node, removeWorkdirs, sh, workdir } from "../../test/helpers/engine.ts";
import { listPrefix, runData } from "./data-template.ts";
import { runWorkflow } from "./run.ts";
import { engineStorageRoot } from "./workdir.ts";

afterAll(removeWorkdirs);

/** A store folder holding `files` (key → content). */
async function storeWith(dir: string, files: Record<string, string>): Promise<void> {
  for (const [key, text] of Object.entries(files)) {
    const file = path.join(engineStorageRoot(dir), ...key.split("/"));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
  }
}

const LOGS = { "logs/a/main.log": "a\n", "logs/b/main.log": "b\n", "logs/b/init.log": "i\n", "other/main.log": "o\n" };

describe("data templates", () => {
  it("lists the store under the key, recursively, as S3 does under key/", async () => {
    const dir = await workdir();
    await storeWith(dir, { ...LOGS, "logsx/main.log": "not under logs/" });
    const store = new LocalStorageClient({ root: engineStorageRoot(dir) });
    expect(JSON.parse(await runData({ source: { artifactPaths: { s3: { bucket: "my-bucket", key: "logs" } } } }, store, "t"))).toEqual(["logs/a/main.log", "logs/b/init.log", "logs/b/main.log"]);
    expect(listPrefix(undefined)).toBe("");
    expect(listPrefix("logs/./a/")).toBe("logs/a/");
    // Go encodes the empty (nil) list of files as null; an expression over it makes a list.
    expect(await runData({ source: { artifactPaths: { s3: { key: "none" } } } }, store, "t")).toBe("null");
    expect(await runData({ source: { artifactPaths: { s3: { key: "none" } } }, transformation: [{ expression: "map(data, {# + 'x'})" }] }, store, "t")).toBe("[]");
  });

  it("runs upstream's data-transformations pattern: a data step's list fans out a later step (withParam)", async () => {
    const dir = await workdir();
    await storeWith(dir, LOGS);
    const wf = manifest("data-fanout", [
      {
        name: "main",
        steps: [
          [{ name: "list-log-files", template: "list-log-files" }],
          [
            {
              name: "process-logs",
              template: "process-logs",
              withParam: "{{steps.list-log-files.outputs.result}}",
              arguments: { artifacts: [{ name: "file", s3: { key: "{{item}}" } }], parameters: [{ name: "file-name", value: "{{item}}" }] },
            },
          ],
        ],
      },
      {
        name: "list-log-files",
        data: {
          source: { artifactPaths: { name: "test-bucket", s3: { bucket: "my-bucket" } } },
          transformation: [{ expression: 'filter(data, {# endsWith "main.log"})' }, { expression: 'map(data, {# + ""})' }],
        },
      } as Template,
      {
        ...sh("process-logs", 'echo "{{inputs.parameters.file-name}}: $(cat /tmp/file)"'),
        inputs: { parameters: [{ name: "file-name" }], artifacts: [{ name: "file", path: "/tmp/file" }] },
      },
    ]);
    const { status } = await runWorkflow(wf, { workdir: dir });
    expect(status.phase, status.message).toBe("Succeeded");
    const list = node(status, "list-log-files");
    expect(list).toMatchObject({ type: "Pod", phase: "Succeeded", templateName: "list-log-files" });
    expect(JSON.parse(list.outputs?.result as string)).toEqual(["logs/a/main.log", "logs/b/main.log", "other/main.log"]);
    expect(node(status, "process-logs(1:logs/b/main.log)").outputs?.result).toBe("logs/b/main.log: b");
  });

  it("refuses sources it cannot list and failing expressions, naming the field", async () => {
    const dir = await workdir();
    const run = async (name: string, data: unknown): Promise<string | undefined> => {
      const { status } = await runWorkflow(manifest(name, [{ name: "main", data } as Template]), { workdir: dir });
      expect(status.phase).toBe("Error");
      return node(status, name).message;
    };
    expect(await run("data-http", { source: { artifactPaths: { name: "site", http: { url: "https://example.com/x" } } }, transformation: [] })).toMatch(
      /data\.source\.artifactPaths: the local engine lists only s3 locations \(its artifact store, file:\/\/.*\), got http/,
    );
    expect(await run("data-nosource", { source: {}, transformation: [] })).toMatch(/data\.source: no valid source is used for data template/);
    expect(await run("data-badexpr", { source: { artifactPaths: { name: "all", s3: { key: "" } } }, transformation: [{ expression: "filter(data, " }] })).toMatch(
      /data\.transformation\[0\] 'filter\(data, ': unable to process data transformation/,
    );
  });
});
