#!/usr/bin/env node
// Regenerates workflow.schema.json from the upstream Argo Workflows CRD (Apache-2.0; see
// src/argo/schema/NOTICE.md): `node .ci/make-argo-schema.mjs ../shared/argo/argoproj.io_workflows.crd.full.yaml`.
// Keeps the openAPIV3Schema of v1alpha1 without descriptions, defaults, CEL rules and status,
// and stores each repeated sub-schema once under "defs" ({"ref": "dN"} where it was).
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const [crdFile] = process.argv.slice(2);
if (!crdFile) {
  console.error("usage: make-argo-schema.mjs CRD.yaml");
  process.exit(2);
}
const crd = YAML.parse(fs.readFileSync(crdFile, "utf8"));
const version = crd.spec.versions.find((v) => v.name === "v1alpha1");
const KEEP = ["type", "properties", "items", "required", "additionalProperties", "enum", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "pattern", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields"];

function strip(s) {
  const out = {};
  for (const k of KEEP) {
    if (s[k] === undefined) continue;
    if (k === "properties") out.properties = Object.fromEntries(Object.entries(s.properties).map(([p, v]) => [p, strip(v)]));
    else if (k === "items" || (k === "additionalProperties" && typeof s[k] === "object")) out[k] = strip(s[k]);
    else out[k] = s[k];
  }
  if (out["x-kubernetes-int-or-string"]) delete out.type;
  return out;
}

const root = strip(version.schema.openAPIV3Schema);
root.properties.metadata = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
root.properties.status = { type: "object", "x-kubernetes-preserve-unknown-fields": true };

// Dedup: count canonical texts of sub-schemas, then replace repeated large ones by references.
const counts = new Map();
function count(s) {
  const text = JSON.stringify(s);
  counts.set(text, (counts.get(text) ?? 0) + 1);
  for (const v of Object.values(s.properties ?? {})) count(v);
  if (s.items) count(s.items);
  if (typeof s.additionalProperties === "object") count(s.additionalProperties);
}
count(root);
const defs = {};
const ids = new Map();
function share(s, top) {
  const text = JSON.stringify(s);
  if (!top && text.length > 300 && (counts.get(text) ?? 0) > 1) {
    let id = ids.get(text);
    if (!id) {
      id = `d${ids.size}`;
      ids.set(text, id);
      defs[id] = null;
      defs[id] = shareInner(s);
    }
    return { ref: id };
  }
  return shareInner(s);
}
function shareInner(s) {
  const out = { ...s };
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([p, v]) => [p, share(v, false)]));
  if (s.items) out.items = share(s.items, false);
  if (typeof s.additionalProperties === "object") out.additionalProperties = share(s.additionalProperties, false);
  return out;
}
const schema = { source: "argoproj/argo-workflows v4.1.2 manifests/base/crds/full/argoproj.io_workflows.yaml", root: share(root, true), defs };
const target = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "src", "argo", "schema", "workflow.schema.json");
fs.writeFileSync(target, `${JSON.stringify(schema)}\n`);
console.log(`${target}: ${fs.statSync(target).size} bytes, ${ids.size} shared sub-schemas`);
