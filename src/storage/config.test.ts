import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ValidationError } from "../errors.ts";
import { engineStorageRoot } from "../debug/workdir.ts";
import {
  artifactRepositoryConfigMap,
  artifactRepositoryManifest,
  createStorageClient,
  loadArtifactRepositoryConfig,
  parseArtifactRepositoryConfig,
  s3ArtifactLocation,
  type S3RepositoryConfig,
} from "./config.ts";
import { LocalStorageClient } from "./local.ts";
import { S3StorageClient } from "./s3.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "opflow-config-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const s3Config: S3RepositoryConfig = {
  type: "s3",
  endpoint: "http://minio.argo:9000",
  bucket: "artifacts",
  keyPrefix: "runs",
  accessKey: "AKIA-INLINE",
  secretKey: "SECRET-INLINE",
  accessKeySecret: { name: "minio-cred", key: "accesskey" },
  secretKeySecret: { name: "minio-cred", key: "secretkey" },
};

describe("artifact repository config", () => {
  it("defaults to a local folder and reads S3 settings from the environment", () => {
    // The local engine's store in its default workdir: upload, download and run share it.
    expect(loadArtifactRepositoryConfig({ env: {}, cwd: work })).toEqual({ type: "local", root: path.join(work, "opflow-runs", ".storage") });
    expect(path.relative(process.cwd(), engineStorageRoot())).toBe(path.join("opflow-runs", ".storage"));
    expect(loadArtifactRepositoryConfig({ env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y" }, cwd: work }).type).toBe("local");
    const config = loadArtifactRepositoryConfig({
      env: {
        OPFLOW_S3_ENDPOINT: "127.0.0.1:9000",
        OPFLOW_S3_BUCKET: "art",
        OPFLOW_S3_INSECURE: "true",
        OPFLOW_S3_KEY_PREFIX: "/team/",
        AWS_ACCESS_KEY_ID: "ak",
        AWS_SECRET_ACCESS_KEY: "sk",
      },
    });
    expect(config).toEqual({
      type: "s3",
      endpoint: "127.0.0.1:9000",
      bucket: "art",
      insecure: true,
      keyPrefix: "team",
      accessKey: "ak",
      secretKey: "sk",
    });
    expect(createStorageClient(config)).toBeInstanceOf(S3StorageClient);
    expect(createStorageClient({ type: "local", root: work })).toBeInstanceOf(LocalStorageClient);
  });

  it("reads a YAML config file, with the environment overriding it", async () => {
    const file = path.join(work, "storage.yaml");
    await writeFile(file, "type: s3\nendpoint: minio:9000\nbucket: from-file\ninsecure: true\nregion: eu-west-1\n");
    const config = loadArtifactRepositoryConfig({ file, env: { OPFLOW_S3_BUCKET: "from-env" } });
    expect(config).toMatchObject({ type: "s3", endpoint: "minio:9000", bucket: "from-env", region: "eu-west-1" });
    const local = path.join(work, "local.json");
    await writeFile(local, JSON.stringify({ type: "local", root: "store" }));
    expect(loadArtifactRepositoryConfig({ env: { OPFLOW_STORAGE_CONFIG: local } })).toEqual({ type: "local", root: path.join(work, "store") });
  });

  it("names the field and the rule when a config is wrong", async () => {
    expect(() => parseArtifactRepositoryConfig({ type: "s3", endpoint: "x" }, "test")).toThrow(
      "Artifact repository config (test): 'bucket' must be a non-empty string, got nothing",
    );
    expect(() => parseArtifactRepositoryConfig({ type: "gcs" })).toThrow(/'type' must be "local" or "s3"/);
    expect(() => parseArtifactRepositoryConfig({ type: "s3", endpoint: "x", bucket: "ok-bucket", insecure: "yes" })).toThrow(/'insecure' must be a boolean/);
    expect(() => parseArtifactRepositoryConfig({ type: "s3", endpoint: "x", bucket: "ok-bucket", acessKey: "typo" })).toThrow(/unknown field 'acessKey'/);
    expect(() => parseArtifactRepositoryConfig({ type: "s3", endpoint: "x", bucket: "ok-bucket", accessKey: "only" })).toThrow(/together/);
    const bad = path.join(work, "bad.yaml");
    await writeFile(bad, "- a\n- b\n");
    expect(() => loadArtifactRepositoryConfig({ file: bad, env: {} })).toThrow(ValidationError);
  });

  it("never quotes a secret in an error: not from a YAML line, not from a wrongly typed field", async () => {
    const secret = "wJalrXUtnFEMI-K7MDENG-SECRET";
    const messages: string[] = [];
    const texts = [
      `type: s3\nendpoint: x\nbucket: ok-bucket\naccessKey: a\nsecretKey: "${secret}\n`,
      `type: s3\nsecretKey: ${secret}: x\n`,
      `{secretKey: ${secret}`,
      `secretKey ${secret}\n`,
      `secretKey: [${secret}\n`,
    ];
    for (const [i, text] of texts.entries()) {
      const file = path.join(work, `secret-${i}.yaml`);
      await writeFile(file, text);
      try {
        loadArtifactRepositoryConfig({ file, env: {} });
        messages.push("(no error)");
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as Error).cause).toBeUndefined();
        messages.push((err as Error).message);
      }
    }
    for (const [field, value] of [["secretKey", 12345678], ["accessKey", 987654321], ["sessionToken", ["tok-SECRET"]]] as const) {
      try {
        parseArtifactRepositoryConfig({ type: "s3", endpoint: "x", bucket: "ok-bucket", accessKey: "a", secretKey: "b", [field]: value });
      } catch (err) {
        messages.push((err as Error).message);
      }
    }
    expect(messages).toHaveLength(8);
    for (const m of messages) {
      expect(m).toMatch(/^Artifact repository config/);
      expect(m).not.toContain("SECRET");
      expect(m).not.toContain("12345678");
      expect(m).not.toContain("987654321");
    }
    expect(messages[0]).toMatch(/not valid YAML or JSON: .*at line \d+, column \d+/);
    expect(messages[5]).toContain("'secretKey' must be a non-empty string, got a number");
  });

  it("emits manifests with credentials only as secret references", () => {
    const location = s3ArtifactLocation(s3Config, "runs/wf/n1/model.tgz");
    expect(location).toEqual({
      endpoint: "minio.argo:9000",
      bucket: "artifacts",
      insecure: true,
      key: "runs/wf/n1/model.tgz",
      accessKeySecret: { name: "minio-cred", key: "accesskey" },
      secretKeySecret: { name: "minio-cred", key: "secretkey" },
    });
    const side = artifactRepositoryManifest(s3Config);
    expect(side.archiveLocation?.s3.endpoint).toBe("minio.argo:9000");
    expect(artifactRepositoryManifest({ ...s3Config, artifactRepositoryRef: { configMap: "repos", key: "main" } })).toEqual({
      artifactRepositoryRef: { configMap: "repos", key: "main" },
    });
    const cm = artifactRepositoryConfigMap(s3Config, { name: "repos", key: "main" });
    const data = (cm.data as Record<string, string>).main as string;
    expect(parseYaml(data)).toMatchObject({ s3: { bucket: "artifacts", keyFormat: "runs/{{workflow.name}}/{{pod.name}}" } });
    for (const text of [JSON.stringify(location), JSON.stringify(side), JSON.stringify(cm)]) {
      expect(text).not.toContain("AKIA-INLINE");
      expect(text).not.toContain("SECRET-INLINE");
    }
    expect(() => artifactRepositoryManifest({ type: "local", root: "/x" })).toThrow(/local repository/);
  });
});
