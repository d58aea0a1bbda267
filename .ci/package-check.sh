#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, then in a temporary directory (outside this
# checkout) install the tarball, scaffold an OP package with `opflow new-op`, and run its tests,
# its workflow, its `tsc --noEmit` and `opflow ops --json`; a plain-node ESM script and a
# CommonJS script import @opflow/core, and a TypeScript workflow runs in a CommonJS package.
# Usage: .ci/package-check.sh [TARBALL]  (packs this checkout when no tarball is given)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm_quiet=(--no-audit --no-fund --loglevel=error)

if [ $# -ge 1 ]; then
  tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
  echo "-- npm pack"
  (cd "$root" && npm pack --pack-destination "$work" --loglevel=error >/dev/null)
  tarball=$(ls "$work"/opflow-core-*.tgz)
fi
echo "-- tarball contents: no tests, benches or CI files"
listing=$(tar tzf "$tarball")
for must in package/dist/index.js package/dist/index.d.ts package/dist/cli/bin.js package/README.md package/LICENSE \
  package/docs/authoring.md package/cookiecutter-op/cookiecutter.json; do
  grep -qx "$must" <<<"$listing" || { echo "FAIL: $must is not in the tarball"; exit 1; }
done
if grep -v '^package/cookiecutter-op/' <<<"$listing" | grep -E '\.test\.(ts|js)$|^package/(bench|test|src|\.ci|examples)/'; then
  echo "FAIL: the tarball ships the files above"; exit 1
fi

echo "-- a CommonJS consumer (npm init's \"type\": \"commonjs\")"
consumer="$work/consumer"
mkdir -p "$consumer" && cd "$consumer"
npm init -y >/dev/null
npm install "${npm_quiet[@]}" "$tarball"
cat > esm-check.mjs <<'JS'
import { Workflow, Step, OPTemplate, defineOp, param, toYaml } from "@opflow/core";
import { z } from "zod";
const echo = defineOp({ name: "echo", inputs: { msg: param(z.string()) }, outputs: { msg: param(z.string()) }, async execute({ msg }) { return { msg }; } });
const wf = new Workflow({ name: "esm-check" });
wf.add(new Step("echo", OPTemplate.fromOp(echo, { image: "node:20-slim" }), { parameters: { msg: "hi" } }));
const yaml = toYaml(wf.compile());
if (!yaml.includes("name: esm-check")) throw new Error("the manifest lacks the workflow's name");
console.log("ESM import of @opflow/core: ok");
JS
node esm-check.mjs
cat > cjs-check.cjs <<'JS'
const { Workflow, Step, OPTemplate, defineOp, param, toYaml } = require("@opflow/core");
const { z } = require("zod");
const echo = defineOp({ name: "echo", inputs: { msg: param(z.string()) }, outputs: { msg: param(z.string()) }, async execute({ msg }) { return { msg }; } });
const wf = new Workflow({ name: "cjs-check" });
wf.add(new Step("echo", OPTemplate.fromOp(echo, { image: "node:20-slim" }), { parameters: { msg: "hi" } }));
if (!toYaml(wf.compile()).includes("name: cjs-check")) throw new Error("the manifest lacks the workflow's name");
console.log("CommonJS require of @opflow/core: ok");
JS
node cjs-check.cjs
cp "$root/examples/hello.ts" workflow.ts
npx --no-install opflow run workflow.ts --quiet --json --workdir "$work/runs" > run.json
node -e 'const s=require("./run.json"); const p=(s.status??s).phase; if (p!=="Succeeded") { console.error("TypeScript workflow in a CommonJS package ended", p); process.exit(1) } console.log("TypeScript workflow in a CommonJS package: Succeeded")'

echo "-- opflow new-op, then the scaffold's own checks"
npx --no-install opflow new-op my-ops --dir "$work" --opflow "file:$tarball"
cd "$work/my-ops"
npm install "${npm_quiet[@]}"
npm test
npx --no-install tsc --noEmit
npx --no-install opflow run src/workflow.ts --quiet --json --workdir "$work/runs" > "$work/scaffold-run.json"
node -e 'const s=require(process.argv[1]); const p=(s.status??s).phase; if (p!=="Succeeded") { console.error("the scaffold workflow ended", p); process.exit(1) } console.log("scaffold workflow: Succeeded")' "$work/scaffold-run.json"
npx --no-install opflow ops --json > "$work/ops.json"
node -e 'const ops=require(process.argv[1]); const g=ops.find(o=>o.name==="greet"); if (!g || g.inputs.length!==3) { console.error("opflow ops --json:", JSON.stringify(ops)); process.exit(1) } console.log("opflow ops --json: greet with", g.inputs.map(i=>i.name).join(", "))' "$work/ops.json"
cp README.md "$work/README.before"
npm run --silent docs
cmp -s README.md "$work/README.before" || { echo "FAIL: npm run docs changed the scaffold's README table"; diff "$work/README.before" README.md; exit 1; }
echo "package checks: ok"
