/**
 * dflow's error handling (`test_error_handling.py`), ported: three OPs, each retried once on a
 * transient error. `hello0` always raises a TransientError: it runs twice, fails, and the
 * workflow goes on (`continueOn.failed`). `hello1` runs past its deadline, which counts as a
 * transient error (`timeoutAsTransientError`): it also runs twice, fails and is passed over.
 * `hello2` raises a FatalError: it is not retried, and the workflow ends Failed — as dflow's does.
 *
 *   npx opflow run examples/dflow/retry.ts      # ends Failed, by design
 */
import { FatalError, OPTemplate, Step, TransientError, Workflow, defineOp } from "@opflow/core";

export const hello = defineOp({
  name: "hello",
  inputs: {},
  outputs: {},
  async execute() {
    throw new TransientError("Hello");
  },
});

/** Sleeps 100 s, or until its deadline aborts it. */
export const timeout = defineOp({
  name: "timeout",
  inputs: {},
  outputs: {},
  async execute(_, { signal }) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 100_000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      });
    });
    return {};
  },
});

export const goodbye = defineOp({
  name: "goodbye",
  inputs: {},
  outputs: {},
  async execute() {
    throw new FatalError("Goodbye");
  },
});

const workflow = new Workflow({ generateName: "dflow-retry-" });
workflow.add(new Step("hello0", OPTemplate.fromOp(hello, { retry: 1 }), { continueOn: { failed: true } }));
workflow.add(new Step("hello1", OPTemplate.fromOp(timeout, { timeout: "2s", retry: { limit: 1, timeoutAsTransientError: true } }), { continueOn: { failed: true } }));
workflow.add(new Step("hello2", OPTemplate.fromOp(goodbye, { retry: 1 })));

export default workflow;
