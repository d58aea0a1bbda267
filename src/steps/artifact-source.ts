/**
 * Artifact sources: artifacts that live outside the workflow (inline text, a URL, a key in the
 * artifact repository, local files), passed as step or workflow arguments.
 */
import type { Artifact } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";

/** An artifact that lives outside the workflow (uploaded, inline text, URL). */
export interface ArtifactSource {
  /** Renders the Argo artifact fields (without `name`). */
  readonly toArgoArtifact: () => Omit<Artifact, "name">;
}

/** Inline text as an artifact (Argo's `raw` artifact). */
export function rawArtifact(data: string): ArtifactSource {
  return { toArgoArtifact: () => ({ raw: { data } }) };
}

/** A file fetched over HTTP(S) (Argo's `http` artifact). */
export function httpArtifact(url: string): ArtifactSource {
  if (!/^https?:\/\//.test(url)) throw new ValidationError(`httpArtifact(): ${JSON.stringify(url)} is not an http(s) URL`);
  return { toArgoArtifact: () => ({ http: { url } }) };
}

/** An object in the workflow's artifact repository, by key (Argo's `s3.key`). */
export function s3Artifact(key: string): ArtifactSource {
  if (!key || key.startsWith("/")) throw new ValidationError(`s3Artifact(): key must be relative and non-empty, got ${JSON.stringify(key)}`);
  return { toArgoArtifact: () => ({ s3: { key } }) };
}

/** Whether `v` is an artifact source. */
export function isArtifactSource(v: unknown): v is ArtifactSource {
  return typeof v === "object" && v !== null && typeof (v as ArtifactSource).toArgoArtifact === "function";
}
