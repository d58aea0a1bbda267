/**
 * What the cluster commands (`submit`, `get`, `list`, `watch`, `logs`, control actions) share:
 * the connection flags (as the argo CLI spells them), `--json`, and plain text tables.
 */
import type { ClusterOptions } from "../argo/cluster-config.ts";
import { UsageError, parseCommandArgs, stringArg, type ArgValues, type CommandOptions, type ParsedArgs } from "./args.ts";

/** Connection flags every cluster command accepts. */
export const CLUSTER_FLAGS = {
  namespace: { type: "string", short: "n" },
  context: { type: "string" },
  kubeconfig: { type: "string" },
  "argo-server": { type: "string", short: "s" },
  token: { type: "string" },
  "insecure-skip-verify": { type: "boolean", short: "k" },
  json: { type: "boolean" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
} as const satisfies CommandOptions;

/** Usage lines of {@link CLUSTER_FLAGS}. */
export const CLUSTER_USAGE = [
  "connection (defaults from the environment and the kubeconfig, as the argo CLI):",
  "  -n, --namespace NS          namespace (ARGO_NAMESPACE, else the context's, else default)",
  "      --context NAME          kubeconfig context",
  "      --kubeconfig FILE       kubeconfig file (KUBECONFIG, else ~/.kube/config)",
  "  -s, --argo-server URL       use Argo Server instead of the Kubernetes API (ARGO_SERVER)",
  "      --token TOKEN           Argo Server bearer token (prefer ARGO_TOKEN)",
  "  -k, --insecure-skip-verify  accept any TLS certificate from Argo Server",
  "      --json, -o json         print JSON instead of a table",
].join("\n");

/** Parses `argv` with the cluster flags plus `extra`. */
export function parseCommand(argv: readonly string[], extra: CommandOptions): ParsedArgs {
  return parseCommandArgs(argv, { ...CLUSTER_FLAGS, ...extra });
}

/** The {@link ClusterOptions} given by the flags. */
export function clusterOptionsFrom(values: ArgValues): ClusterOptions {
  const str = (k: string): string | undefined => stringArg(values, k);
  return {
    ...(str("namespace") ? { namespace: str("namespace") } : {}),
    ...(str("context") ? { context: str("context") } : {}),
    ...(str("kubeconfig") ? { kubeconfig: str("kubeconfig") } : {}),
    ...(str("argo-server") ? { argoServer: str("argo-server") } : {}),
    ...(str("token") ? { token: str("token") } : {}),
    ...(values["insecure-skip-verify"] ? { insecureSkipTLSVerify: true } : {}),
  };
}

/** Whether JSON output was asked for (`--json` or `-o json`). */
export function wantsJson(values: ArgValues): boolean {
  if (values["output"] !== undefined && values["output"] !== "json" && values["output"] !== "wide") {
    throw new UsageError(`--output must be json or wide, got ${JSON.stringify(values["output"])}`);
  }
  return values["json"] === true || values["output"] === "json";
}

/** Writes to standard output. */
export function out(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Pretty JSON to standard output. */
export function outJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Left-aligned text table with a header row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("   ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `1h2m`, `3m4s`, `5s` between two timestamps (to now when `end` is missing). */
export function humanDuration(start: string | undefined, end?: string, now: number = Date.now()): string {
  if (!start) return "";
  const ms = (end ? Date.parse(end) : now) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return "";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
  return `${Math.floor(h / 24)}d`;
}
