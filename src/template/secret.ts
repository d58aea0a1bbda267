/**
 * Secret references: a key of a Kubernetes Secret, named where a value is wanted (an
 * environment variable of a pod template, a header of an HTTP template). The manifest carries
 * only the Secret's name and key (`valueFrom.secretKeyRef`); the value is read by the pod (or by
 * the local engine from its store of objects) and is never part of the manifest, a log or a
 * message.
 */
import type { EnvVar } from "../argo/model.ts";
import { ValidationError } from "../errors.ts";

/** Kubernetes' rule for a Secret's data key. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
/** Kubernetes' rule for an object name (RFC 1123 subdomain). */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A key of a Kubernetes Secret; made by {@link secret}. */
export class SecretKey {
  /** The Secret's name. */
  readonly name: string;
  /** The key in the Secret's data. */
  readonly key: string;
  /** Whether a missing Secret or key is allowed (the variable is then unset). */
  readonly optional: boolean;

  constructor(name: string, key: string, optional = false) {
    if (typeof name !== "string" || name.length > 253 || !SECRET_NAME.test(name)) {
      throw new ValidationError(`secret: name must be a Kubernetes object name (lowercase RFC 1123, at most 253 characters), got ${JSON.stringify(name)}`);
    }
    if (typeof key !== "string" || key.length > 253 || !SECRET_KEY.test(key)) {
      throw new ValidationError(`secret "${name}": key must hold only letters, digits, "-", "_" and ".", got ${JSON.stringify(key)}`);
    }
    this.name = name;
    this.key = key;
    this.optional = optional;
  }

  /** Argo's / Kubernetes' `valueFrom` for this reference. */
  valueFrom(): { secretKeyRef: { name: string; key: string; optional?: boolean } } {
    return { secretKeyRef: { name: this.name, key: this.key, ...(this.optional ? { optional: true } : {}) } };
  }

  /** Names the reference, never a value (there is none here). */
  toString(): string {
    return `secret(${this.name}/${this.key})`;
  }
}

/**
 * A reference to key `key` of the Kubernetes Secret `name`, for a pod template's `env` or an
 * HTTP template's `headers`. The manifest names the Secret and key; the value stays in the
 * cluster (or in the local engine's store: `opflow run --objects FILE`, `run({ objects })`).
 *
 * @example
 * ```ts
 * new ShellOPTemplate({ name: "fetch", source: 'curl -H "Authorization: $TOKEN" …', env: { TOKEN: secret("api", "token") } });
 * new HttpTemplate({ name: "ping", url: "https://api.example.org", headers: { Authorization: secret("api", "token") } });
 * ```
 */
export function secret(name: string, key: string, options: { readonly optional?: boolean } = {}): SecretKey {
  return new SecretKey(name, key, options.optional ?? false);
}

/** An environment variable whose value is `value` (text or a Secret reference). */
export function envVar(name: string, value: string | SecretKey): EnvVar {
  if (value instanceof SecretKey) return { name, valueFrom: value.valueFrom() };
  if (typeof value !== "string") throw new ValidationError(`env "${name}": value must be a string or secret(name, key), got ${JSON.stringify(value)}`);
  return { name, value };
}
