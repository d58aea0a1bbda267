/** A CPU-bound OP for bench/engine.ts case (e), in a module of its own (worker threads import it). */
import { z } from "zod";
import { defineOp } from "../src/op/op.ts";
import { param } from "../src/op/signature.ts";

/** Counts the primes below `n` by trial division. */
export const countPrimes = defineOp({
  name: "count-primes",
  inputs: { n: param(z.number().int().min(2)) },
  outputs: { primes: param(z.number().int()) },
  execute({ n }) {
    let primes = 0;
    for (let k = 2; k < n; k++) {
      let prime = true;
      for (let d = 2; d * d <= k; d++) {
        if (k % d === 0) {
          prime = false;
          break;
        }
      }
      if (prime) primes++;
    }
    return { primes };
  },
});
