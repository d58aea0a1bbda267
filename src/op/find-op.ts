/** Finding an OP among a module's exports (what `opflow execute` and OP worker threads import). */
import { type OPDefinition, toOPDefinition } from "./op.ts";

/**
 * The OP named `name` among the exports of `mod`: an OP (class or `defineOp`), or an object
 * holding one as `op` (an `OPTemplate`).
 */
export function findOp(mod: Record<string, unknown>, name: string): OPDefinition | undefined {
  for (const value of Object.values(mod)) {
    const candidate = (value as { op?: unknown } | undefined)?.op ?? value;
    if (!candidate) continue;
    try {
      const def = toOPDefinition(candidate as OPDefinition);
      if (def.name === name) return def;
    } catch {
      // not an OP
    }
  }
  return undefined;
}
