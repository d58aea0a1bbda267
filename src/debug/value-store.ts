/**
 * Large parameter values of a run, stored once: a value longer than {@link VALUE_INLINE_MAX}
 * characters is written to `<run>/.values/<sha256>` the first time the state tree records it,
 * and the journal lines and `workflow.json` snapshots that hold it refer to that file instead
 * of copying it (a 10 MB value was in two journal lines and every snapshot: five or six times
 * its size on disk). A pod's input parameter file of such a value is a hard link to it.
 *
 * In a record a stored value is a parameter `{ "name": …, "valueRef": "<sha256>" }` (no
 * `value`), a result `outputs.resultRef`. Reading resolves the references and checks each
 * file against its name (a step that rewrote its input file changed it): a record whose value
 * is gone or changed is left out, so a resumed run runs that node again. Records written
 * before this store have their values inline and read as they always did.
 */
import { createHash } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { NodeStatus, Outputs, Parameter, WorkflowStatus } from "../argo/model.ts";
import { namingFile } from "../files.ts";

/** The longest parameter value (or result) kept inline in a record, in characters. */
export const VALUE_INLINE_MAX = 64 * 1024;

/** The run's folder of stored values. */
export const VALUES_DIR = ".values";

/** A parameter as a record holds it: its value inline, or a reference to the stored value. */
type StoredParameter = Parameter & { valueRef?: string };
type StoredOutputs = Outputs & { resultRef?: string };

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function isLarge(v: string | undefined): v is string {
  return v !== undefined && v.length > VALUE_INLINE_MAX;
}

/** Whether a JSON record mentions a stored value (a cheap test before resolving). */
export function mentionsStoredValue(line: string): boolean {
  return line.includes('"valueRef"') || line.includes('"resultRef"');
}

/** The stored values of one run. */
export class ValueStore {
  private readonly stored = new Set<string>();
  private temporaries = 0;

  /** @param runDir the run's folder (`<workdir>/<workflow-name>`) */
  constructor(private readonly runDir: string) {}

  /** The file of the value with hash `ref`. */
  fileOf(ref: string): string {
    return path.join(this.runDir, VALUES_DIR, ref);
  }

  /**
   * Stores `value` (once per run) and returns its reference.
   * @throws the file system's error naming the file (a full disk): the caller decides what it means.
   */
  put(value: string): string {
    const ref = sha256(value);
    if (this.stored.has(ref)) return ref;
    const file = this.fileOf(ref);
    if (!existsSync(file)) {
      const tmp = `${file}.tmp-${process.pid}-${++this.temporaries}`;
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(tmp, value);
        // A complete file under its final name only: a killed engine leaves a temporary at most.
        linkSync(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw namingFile(err, file);
      } finally {
        rmSync(tmp, { force: true });
      }
    }
    this.stored.add(ref);
    return ref;
  }

  /**
   * Writes `value` to `file` (a pod's input parameter): a hard link to the stored value when it
   * is large, else the value itself.
   */
  writeFile(file: string, value: string): void {
    if (!isLarge(value)) return writeFileSync(file, value);
    const stored = this.fileOf(this.put(value));
    rmSync(file, { force: true });
    try {
      linkSync(stored, file);
    } catch {
      writeFileSync(file, value); // a file system without hard links
    }
  }

  /** `node` as a record holds it: large values replaced by references (`node` itself when it has none). */
  refer(node: NodeStatus): NodeStatus {
    const inputs = node.inputs?.parameters;
    const outputs = node.outputs;
    const largeIn = inputs?.some((p) => isLarge(p.value)) ?? false;
    const largeOut = (outputs?.parameters?.some((p) => isLarge(p.value)) ?? false) || isLarge(outputs?.result);
    if (!largeIn && !largeOut) return node;
    const params = (list: readonly Parameter[]): StoredParameter[] =>
      list.map((p) => {
        if (!isLarge(p.value)) return p;
        const { value, ...rest } = p;
        return { ...rest, valueRef: this.put(value) };
      });
    const copy: NodeStatus = { ...node };
    if (largeIn && node.inputs && inputs) copy.inputs = { ...node.inputs, parameters: params(inputs) };
    if (largeOut && outputs) {
      const out: StoredOutputs = { ...outputs };
      if (outputs.parameters) out.parameters = params(outputs.parameters);
      if (isLarge(outputs.result)) {
        delete out.result;
        out.resultRef = this.put(outputs.result);
      }
      copy.outputs = out;
    }
    return copy;
  }

  /** A workflow status as `workflow.json` holds it: every node's large values (and the workflow's outputs') by reference. */
  referStatus(status: WorkflowStatus): WorkflowStatus {
    // A copy of the node map only when a node has a large value (a snapshot of 10,000 small nodes is written as it is).
    let nodes: Record<string, NodeStatus> | undefined;
    for (const [id, n] of Object.entries(status.nodes ?? {})) {
      const r = this.refer(n);
      if (r !== n) (nodes ??= { ...status.nodes })[id] = r;
    }
    const outputs = status.outputs?.parameters?.some((p) => isLarge(p.value)) ? this.refer({ id: "", name: "", type: "Steps", outputs: status.outputs } as NodeStatus).outputs : status.outputs;
    if (!nodes && outputs === status.outputs) return status;
    return { ...status, ...(nodes ? { nodes } : {}), ...(outputs ? { outputs } : {}) };
  }
}

/**
 * Reads stored values back for the records of the run in `runDir`; each file is read and
 * checked once per reader.
 */
export class ValueReader {
  private readonly cache = new Map<string, string | undefined>();

  constructor(private readonly runDir: string) {}

  /** The stored value `ref`, or undefined when its file is missing or no longer holds it. */
  value(ref: string): string | undefined {
    if (this.cache.has(ref)) return this.cache.get(ref);
    let value: string | undefined;
    if (/^[0-9a-f]{64}$/.test(ref)) {
      try {
        const text = readFileSync(path.join(this.runDir, VALUES_DIR, ref), "utf8");
        value = sha256(text) === ref ? text : undefined;
      } catch {
        value = undefined;
      }
    }
    this.cache.set(ref, value);
    return value;
  }

  /** `node` with its references resolved, or undefined when a value is gone or changed. */
  resolve(node: NodeStatus): NodeStatus | undefined {
    const [copy, ok] = this.resolved(node);
    return ok ? copy : undefined;
  }

  /** `node` with its references resolved (a value that is gone as ""), and whether all were there. */
  private resolved(node: NodeStatus): [NodeStatus, boolean] {
    let ok = true;
    const params = (list: readonly StoredParameter[]): Parameter[] =>
      list.map((p) => {
        if (typeof p.valueRef !== "string") return p;
        const { valueRef, ...rest } = p;
        const value = this.value(valueRef);
        if (value === undefined) ok = false;
        return { ...rest, value: value ?? "" };
      });
    const copy: NodeStatus = { ...node };
    if (node.inputs?.parameters) copy.inputs = { ...node.inputs, parameters: params(node.inputs.parameters) };
    const outputs = node.outputs as StoredOutputs | undefined;
    if (outputs) {
      const { resultRef, ...out } = outputs;
      const resolved: Outputs = { ...out, ...(out.parameters ? { parameters: params(out.parameters) } : {}) };
      if (typeof resultRef === "string") {
        const result = this.value(resultRef);
        if (result === undefined) ok = false;
        else resolved.result = result;
      }
      copy.outputs = resolved;
    }
    return [copy, ok];
  }

  /** A `workflow.json` snapshot with its references resolved (a value that is gone reads as ""). */
  resolveStatus(status: WorkflowStatus): WorkflowStatus {
    const nodes: Record<string, NodeStatus> = {};
    for (const [id, n] of Object.entries(status.nodes ?? {})) nodes[id] = this.resolved(n)[0];
    const outputs = status.outputs ? this.resolved({ id: "", name: "", type: "Steps", outputs: status.outputs } as NodeStatus)[0].outputs : undefined;
    return { ...status, ...(status.nodes ? { nodes } : {}), ...(outputs ? { outputs } : {}) };
  }
}
