/**
 * dflow's hello (`test_python.py`), ported: one OP with two parameters and two artifacts in —
 * a file and a directory uploaded from this machine — and a parameter, a file and a directory
 * out. `msg` "Hello" × 3 gives "HelloHelloHello"; `bar` holds the file's text three times
 * ("HiHiHi"); `odir/f1` and `odir/f2` hold the input directory's files three times each.
 *
 *   npx opflow run examples/dflow/hello.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { OPTemplate, Step, Workflow, artifact, defineOp, localArtifact, param } from "@opflow/core";

export const duplicate = defineOp({
  name: "duplicate",
  inputs: { msg: param(z.string()), num: param(z.number().int()), foo: artifact(), idir: artifact() },
  outputs: { msg: param(z.string()), bar: artifact(), odir: artifact() },
  async execute({ msg, num, foo, idir }, { workdir }) {
    const bar = path.join(workdir, "output.txt");
    await fs.writeFile(bar, (await fs.readFile(foo, "utf8")).repeat(num));
    const odir = path.join(workdir, "todir");
    await fs.mkdir(odir);
    for (const f of ["f1", "f2"]) await fs.writeFile(path.join(odir, f), (await fs.readFile(path.join(idir, f), "utf8")).repeat(num));
    return { msg: msg.repeat(num), bar, odir };
  },
});

/** A file beside this module (dflow uploads them with `upload_artifact`). */
const data = (p: string): string => fileURLToPath(new URL(`data/${p}`, import.meta.url));

const workflow = new Workflow({ generateName: "dflow-hello-" });
workflow.add(
  new Step("step", OPTemplate.fromOp(duplicate, { image: "node:20-slim" }), {
    parameters: { msg: "Hello", num: 3 },
    artifacts: { foo: localArtifact(data("foo.txt")), idir: localArtifact(data("idir")) },
  }),
);

export default workflow;
