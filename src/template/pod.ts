/** Pod rendering: the options of templates that run a container, and their Argo fields. */
import type { Container, EnvVar, KubeObject, Template as ArgoTemplate, UserContainer, VolumeMount } from "../argo/model.ts";
import { compact } from "./compact.ts";
import { type SecretKey, envVar } from "./secret.ts";
import type { TemplateOptions } from "./template.ts";

/** Kubernetes resources of the main container. */
export interface Resources {
  /** CPU cores, e.g. `2` or `"500m"`. */
  readonly cpu?: number | string;
  /** Memory, e.g. `"4Gi"`. */
  readonly memory?: string;
  /** GPUs (`nvidia.com/gpu` unless `gpuResource` says otherwise). */
  readonly gpu?: number;
  /** Resource name used for `gpu`. @default "nvidia.com/gpu" */
  readonly gpuResource?: string;
  /** Further resources by their Kubernetes name (`ephemeral-storage`, `amd.com/gpu`, …). */
  readonly extra?: Readonly<Record<string, number | string>>;
}

/** Options of templates that run a container. */
export interface PodTemplateOptions extends TemplateOptions {
  /** Container image. */
  readonly image?: string;
  /** @default Kubernetes' default (`IfNotPresent` unless the tag is `latest`) */
  readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /**
   * Extra environment variables: text, or a key of a Kubernetes Secret (`secret("name", "key")`,
   * rendered as `valueFrom.secretKeyRef`; the value never enters the manifest). @default none
   */
  readonly env?: Readonly<Record<string, string | SecretKey>>;
  /** Environment entries passed through as written (`valueFrom` secret refs, …). @default none */
  readonly extraEnv?: readonly EnvVar[];
  /** Resource requests. @default none */
  readonly requests?: Resources;
  /** Resource limits. @default none */
  readonly limits?: Resources;
  /** Pod volumes (Kubernetes `Volume` objects). @default none */
  readonly volumes?: readonly KubeObject[];
  /** Mounts in the main container. @default none */
  readonly volumeMounts?: readonly VolumeMount[];
  /** Init containers. @default none */
  readonly initContainers?: readonly UserContainer[];
  /** Sidecar containers. @default none */
  readonly sidecars?: readonly UserContainer[];
  /** Working directory of the main container. @default the image's */
  readonly workingDir?: string;
  /** A strategic-merge patch of the pod spec (YAML or JSON text). @default none */
  readonly podSpecPatch?: string;
}

function resourceMap(r: Resources | undefined): Record<string, string | number> | undefined {
  if (!r) return undefined;
  const out: Record<string, string | number> = {};
  if (r.cpu !== undefined) out["cpu"] = r.cpu;
  if (r.memory !== undefined) out["memory"] = r.memory;
  if (r.gpu !== undefined) out[r.gpuResource ?? "nvidia.com/gpu"] = r.gpu;
  for (const [k, v] of Object.entries(r.extra ?? {})) out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

/** The container fields and pod-level fields of a pod template's options. */
export function renderPod(o: PodTemplateOptions, env: EnvVar[]): { container: Container; pod: Partial<ArgoTemplate> } {
  const allEnv = [...env, ...Object.entries(o.env ?? {}).map(([name, value]) => envVar(name, value)), ...(o.extraEnv ?? [])];
  const resources = compact({ requests: resourceMap(o.requests), limits: resourceMap(o.limits) });
  const container: Container = compact({
    image: o.image,
    imagePullPolicy: o.imagePullPolicy,
    workingDir: o.workingDir,
    env: allEnv.length ? allEnv : undefined,
    resources: Object.keys(resources).length ? resources : undefined,
    volumeMounts: o.volumeMounts?.length ? o.volumeMounts.map((m) => ({ ...m })) : undefined,
  });
  const pod: Partial<ArgoTemplate> = compact({
    volumes: o.volumes?.length ? [...o.volumes] : undefined,
    initContainers: o.initContainers?.length ? o.initContainers.map((c) => ({ ...c })) : undefined,
    sidecars: o.sidecars?.length ? o.sidecars.map((c) => ({ ...c })) : undefined,
    podSpecPatch: o.podSpecPatch,
  });
  return { container, pod };
}
