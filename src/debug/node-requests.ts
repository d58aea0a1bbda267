/**
 * How a {@link NodeRequest} (resume, node set) reaches the engine that runs the run:
 *
 * - in the same process, through a {@link NodeRequestChannel} given to `runWorkflow`;
 * - from another process, through the run's folder: the request is written whole to
 *   `.requests/<id>.json`, the engine is sent the control signal (as for stop and terminate, to
 *   an engine that set `acceptControl`), applies every request there in order and answers each
 *   in `.requests/<id>.reply` — the changed nodes, or the error.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { EngineError } from "../errors.ts";
import { atomicWrite } from "../files.ts";
import { sleep } from "../sleep.ts";
import { messageOf } from "./_context.ts";
import type { NodeRequest, NodeRequestResult } from "./suspensions.ts";

export type { NodeRequest, NodeRequestResult };

/** The folder of a run that holds the requests of other processes and their answers. */
export const NODE_REQUESTS_DIR = ".requests";

/** An answer: what changed, or why nothing did. */
export type NodeRequestReply = { readonly ok: true; readonly nodes: readonly string[] } | { readonly ok: false; readonly error: string };

/**
 * Lets the owner of a run started in this process resume or set its waiting suspend nodes
 * (pass it as `runWorkflow(manifest, { nodeRequests })`).
 *
 * @example
 * ```ts
 * const nodeRequests = new NodeRequestChannel();
 * const done = runWorkflow(manifest, { nodeRequests });
 * // … once the node "approve" waits:
 * nodeRequests.send({ action: "set", options: { nodeFieldSelector: "displayName=approve", outputParameters: { message: "ok" } } });
 * nodeRequests.send({ action: "resume" });
 * ```
 */
export class NodeRequestChannel {
  private handler: ((request: NodeRequest) => NodeRequestResult) | undefined;

  /** Called by the engine while it runs the run (undefined: it ended). */
  attach(handler: ((request: NodeRequest) => NodeRequestResult) | undefined): void {
    this.handler = handler;
  }

  /** Whether an engine takes requests now. */
  get attached(): boolean {
    return this.handler !== undefined;
  }

  /** Applies `request` to the run's waiting suspend nodes; throws when the run is not running or the request is refused. */
  send(request: NodeRequest): NodeRequestResult {
    if (!this.handler) throw new EngineError(`the run is not running: no engine takes requests`);
    return this.handler(request);
  }
}

/** Writes `request` into the run folder `dir` for its engine; returns its id (then send the control signal). */
export async function writeNodeRequest(dir: string, request: NodeRequest): Promise<string> {
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  await atomicWrite(path.join(dir, NODE_REQUESTS_DIR, `${id}.json`), JSON.stringify(request), true);
  return id;
}

/**
 * The answer to request `id`, waiting for it until `timeoutMs` passed or `alive()` says the
 * engine is gone (then undefined, and the request is withdrawn).
 */
export async function awaitNodeReply(dir: string, id: string, timeoutMs: number, alive: () => Promise<boolean>): Promise<NodeRequestReply | undefined> {
  const reply = path.join(dir, NODE_REQUESTS_DIR, `${id}.reply`);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const text = await fs.readFile(reply, "utf8").catch(() => undefined);
    if (text !== undefined) {
      await fs.rm(reply, { force: true });
      return JSON.parse(text) as NodeRequestReply;
    }
    if (Date.now() > deadline || (i % 5 === 4 && !(await alive()))) {
      await fs.rm(path.join(dir, NODE_REQUESTS_DIR, `${id}.json`), { force: true });
      return undefined;
    }
    await sleep(40);
  }
}

/** Answers every request waiting in the run folder `dir`, in the order they were written. */
export async function serveNodeRequests(dir: string, handle: (request: NodeRequest) => NodeRequestResult): Promise<void> {
  const folder = path.join(dir, NODE_REQUESTS_DIR);
  const names = (await fs.readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith(".json")).sort();
  for (const name of names) {
    const file = path.join(folder, name);
    const text = await fs.readFile(file, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    let reply: NodeRequestReply;
    try {
      const result = handle(parseRequest(text, name));
      reply = { ok: true, nodes: result.nodes };
    } catch (err) {
      reply = { ok: false, error: messageOf(err) };
    }
    await fs.rm(file, { force: true });
    await atomicWrite(path.join(folder, name.replace(/\.json$/, ".reply")), JSON.stringify(reply)).catch(() => undefined);
  }
}

/** Removes requests addressed to an earlier engine of the run (nobody waits for their answers). */
export async function clearNodeRequests(dir: string): Promise<void> {
  await fs.rm(path.join(dir, NODE_REQUESTS_DIR), { recursive: true, force: true });
}

function parseRequest(text: string, file: string): NodeRequest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new EngineError(`request ${file}: not JSON`);
  }
  const r = v as Partial<{ action: unknown; nodeFieldSelector: unknown; options: { nodeFieldSelector?: unknown } }>;
  if (r.action === "resume" && (r.nodeFieldSelector === undefined || typeof r.nodeFieldSelector === "string")) return v as NodeRequest;
  if (r.action === "set" && typeof r.options?.nodeFieldSelector === "string") return v as NodeRequest;
  throw new EngineError(`request ${file}: expected {"action":"resume"} or {"action":"set","options":{"nodeFieldSelector":…}}, got ${text.slice(0, 120)}`);
}
