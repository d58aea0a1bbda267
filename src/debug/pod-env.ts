/**
 * A container's environment as Kubernetes builds it: `envFrom` first (ConfigMaps and Secrets,
 * with their prefix), then `env` on top (`value`, or `valueFrom` a ConfigMap or Secret key, or
 * a field of the pod). ConfigMaps and Secrets come from the local store ({@link LocalObjects}).
 */
import type { Container } from "../argo/model.ts";
import { EngineError } from "../errors.ts";
import type { LocalObjects, ObjectKind } from "./local-objects.ts";

interface KeyRef {
  readonly name?: string;
  readonly key?: string;
  readonly optional?: boolean;
}

/** What the pod's own fields (`fieldRef`) resolve to on this machine. */
export interface PodFields {
  readonly podName: string;
  readonly namespace?: string;
}

function store(objects: LocalObjects | undefined): LocalObjects {
  if (!objects) throw new EngineError("refers to a ConfigMap or Secret, and no local store was given (opflow run --objects FILE|DIR, or objects in runWorkflow)");
  return objects;
}

/**
 * The variables `container` adds to the environment.
 *
 * @throws EngineError naming the variable, object and key (never a secret's value) when one is
 *   missing and not optional, or for a source the engine cannot read.
 * @example
 * ```ts
 * containerEnv({ image: "x", env: [{ name: "A", value: "1" }] }, undefined, "node", { podName: "p" }); // { A: "1" }
 * ```
 */
export function containerEnv(container: Container, objects: LocalObjects | undefined, where: string, pod: PodFields): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [i, from] of (container.envFrom ?? []).entries()) {
    const f = from as { prefix?: string; configMapRef?: KeyRef; secretRef?: KeyRef };
    const kind: ObjectKind | undefined = f.configMapRef ? "ConfigMap" : f.secretRef ? "Secret" : undefined;
    const ref = f.configMapRef ?? f.secretRef;
    if (!kind || !ref?.name) throw new EngineError(`${where}: envFrom[${i}]: expects configMapRef or secretRef with a name`);
    let entries;
    try {
      entries = store(objects).entries(kind, ref.name, ref.optional === true);
    } catch (err) {
      throw new EngineError(`${where}: envFrom[${i}]: ${(err as Error).message}`);
    }
    for (const [k, v] of entries ?? []) env[`${f.prefix ?? ""}${k}`] = v.toString();
  }
  for (const e of container.env ?? []) {
    if (!e.valueFrom) {
      env[e.name] = e.value ?? "";
      continue;
    }
    const vf = e.valueFrom as { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef; fieldRef?: { fieldPath?: string }; resourceFieldRef?: unknown };
    const at = `${where}: env "${e.name}"`;
    if (vf.secretKeyRef || vf.configMapKeyRef) {
      const kind: ObjectKind = vf.secretKeyRef ? "Secret" : "ConfigMap";
      const ref = (vf.secretKeyRef ?? vf.configMapKeyRef) as KeyRef;
      let value: Buffer | undefined;
      try {
        value = store(objects).get(kind, ref.name ?? "", ref.key ?? "", ref.optional === true);
      } catch (err) {
        throw new EngineError(`${at}: ${(err as Error).message}`);
      }
      if (value !== undefined) env[e.name] = value.toString();
    } else if (vf.fieldRef?.fieldPath) {
      const fields: Record<string, string> = { "metadata.name": pod.podName, "metadata.namespace": pod.namespace ?? "default", "status.podIP": "127.0.0.1", "status.hostIP": "127.0.0.1", "spec.nodeName": "localhost" };
      const value = fields[vf.fieldRef.fieldPath];
      if (value === undefined) throw new EngineError(`${at}: fieldRef ${JSON.stringify(vf.fieldRef.fieldPath)} is not known to the local engine (it knows ${Object.keys(fields).join(", ")})`);
      env[e.name] = value;
    } else {
      throw new EngineError(`${at}: valueFrom ${JSON.stringify(Object.keys(vf))} is not supported by the local engine (secretKeyRef, configMapKeyRef and fieldRef are)`);
    }
  }
  return env;
}
