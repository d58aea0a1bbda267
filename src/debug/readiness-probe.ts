/**
 * A daemon's `readinessProbe` on this machine, as the kubelet runs it against a pod
 * (Kubernetes' Probe: `httpGet`, `tcpSocket`, `exec`; first after `initialDelaySeconds`, then
 * every `periodSeconds`, each given `timeoutSeconds`; ready after `successThreshold` successes
 * in a row). The pod's IP is 127.0.0.1. A failing readiness probe never kills anything: the
 * daemon just is not ready yet (`failureThreshold` only matters to liveness probes).
 */
import { spawn } from "node:child_process";
import net from "node:net";
import { EngineError } from "../errors.ts";
import { sleep } from "../sleep.ts";

/** The pod IP of every local daemon. */
export const LOCAL_POD_IP = "127.0.0.1";

/** Kubernetes' Probe, the fields the local engine uses. */
export interface ProbeSpec {
  readonly httpGet?: { readonly path?: string; readonly port: number | string; readonly host?: string; readonly scheme?: string; readonly httpHeaders?: readonly { name: string; value: string }[] };
  readonly tcpSocket?: { readonly port: number | string; readonly host?: string };
  readonly exec?: { readonly command?: readonly string[] };
  readonly grpc?: unknown;
  readonly initialDelaySeconds?: number;
  readonly periodSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly successThreshold?: number;
}

/** Where a probe runs: the container's named ports, its working folder and environment. */
export interface ProbeTarget {
  readonly ports?: readonly { name?: string; containerPort: number }[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** For messages: `template "x"`. */
  readonly where: string;
}

/** A probe's port: a number, or the name of one of the container's ports. */
function portOf(port: number | string, target: ProbeTarget, field: string): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = target.ports?.find((p) => p.name === port);
  if (!named) throw new EngineError(`${target.where}: readinessProbe.${field}.port names no port of the container, got ${JSON.stringify(port)}`);
  return named.containerPort;
}

/**
 * Checks a probe once it is read: the kind is one the engine runs and its port is known.
 *
 * @throws EngineError naming the field.
 */
export function checkProbe(probe: ProbeSpec, target: ProbeTarget): void {
  if (probe.httpGet) portOf(probe.httpGet.port, target, "httpGet");
  else if (probe.tcpSocket) portOf(probe.tcpSocket.port, target, "tcpSocket");
  else if (probe.exec) {
    if (!probe.exec.command?.length) throw new EngineError(`${target.where}: readinessProbe.exec.command is empty`);
  } else if (probe.grpc) throw new EngineError(`${target.where}: readinessProbe.grpc is not supported by the local engine (httpGet, tcpSocket and exec are)`);
  else throw new EngineError(`${target.where}: readinessProbe has no handler (httpGet, tcpSocket or exec)`);
}

/** Runs the probe once; whether it succeeded. */
export async function probeOnce(probe: ProbeSpec, target: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  if (probe.httpGet) {
    const h = probe.httpGet;
    const scheme = (h.scheme ?? "HTTP").toLowerCase();
    const p = h.path ?? "/";
    const url = `${scheme}://${h.host ?? LOCAL_POD_IP}:${portOf(h.port, target, "httpGet")}${p.startsWith("/") ? p : `/${p}`}`;
    try {
      const headers = new Headers();
      for (const x of h.httpHeaders ?? []) headers.append(x.name, x.value);
      const r = await fetch(url, { headers, signal: timeout, redirect: "manual" });
      await r.arrayBuffer().catch(() => undefined);
      // The kubelet: a code from 200 to 399 is a success.
      return r.status >= 200 && r.status < 400;
    } catch {
      return false;
    }
  }
  if (probe.tcpSocket) {
    const port = portOf(probe.tcpSocket.port, target, "tcpSocket");
    return new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: probe.tcpSocket?.host ?? LOCAL_POD_IP, port });
      const done = (ok: boolean): void => {
        socket.destroy();
        timeout.removeEventListener("abort", onAbort);
        resolve(ok);
      };
      const onAbort = (): void => done(false);
      timeout.addEventListener("abort", onAbort, { once: true });
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
    });
  }
  const [command, ...args] = probe.exec?.command ?? [];
  if (!command) return false;
  return new Promise<boolean>((resolve) => {
    const child = spawn(command, args, { cwd: target.cwd, env: { ...target.env }, stdio: "ignore", signal: timeout });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
}

/**
 * Waits until the probe says ready (`successThreshold` successes in a row), probing first after
 * `initialDelaySeconds` and then every `periodSeconds` (Kubernetes' defaults: 0 and 10).
 * Returns false when `signal` is aborted first.
 */
export async function waitReady(probe: ProbeSpec, target: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  const periodMs = Math.max(1, probe.periodSeconds ?? 10) * 1000;
  const need = Math.max(1, probe.successThreshold ?? 1);
  await sleep(Math.max(0, probe.initialDelaySeconds ?? 0) * 1000, signal);
  let successes = 0;
  while (!signal.aborted) {
    successes = (await probeOnce(probe, target, signal)) ? successes + 1 : 0;
    if (successes >= need) return true;
    await sleep(periodMs, signal);
  }
  return false;
}
