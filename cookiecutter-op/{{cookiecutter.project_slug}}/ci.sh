#!/usr/bin/env bash
# What CI runs: install, type-check and test, run the workflow on the local engine, and check
# that the README's OP table is up to date.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund
npm test
npx --no-install opflow run src/workflow.ts --quiet --workdir "$(mktemp -d)"
npx --no-install opflow ops --update README.md
if [ -d .git ] && ! git diff --quiet README.md; then
  echo "README.md: the OP table was out of date; commit the regenerated one (npm run docs)"
  exit 1
fi
