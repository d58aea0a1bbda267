/**
 * dflow's dag (`test_dag.py`), ported: the templates of `steps.ts` as DAG tasks. `hello1` reads
 * `hello0`'s outputs, so it depends on it — inferred from the data, no `dependencies` needed.
 * `hello1` gives 2 and "Hello" twice.
 *
 *   npx opflow run examples/dflow/dag.ts
 */
import { DAG, Task, Workflow } from "@opflow/core";
import { duplicate, hello } from "./steps.ts";

const dag = new DAG({ name: "dag" });
const hello0 = dag.add(new Task("hello0", hello));
dag.add(new Task("hello1", duplicate, { parameters: { msg: hello0.outputs.parameters.msg }, artifacts: { foo: hello0.outputs.artifacts.bar } }));

export default new Workflow({ generateName: "dflow-dag-", entrypoint: dag });
