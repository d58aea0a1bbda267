#!/usr/bin/env bash
# Builds localhost/opflow-node:<major> (e.g. localhost/opflow-node:20): a busybox-static root
# filesystem plus this machine's own Node.js binary and the shared libraries it links. No
# registry, no network, and no opflow inside: OP templates reach it as bundles (`node
# <bundle>.mjs`), exactly as on a cluster running a stock Node image.
# Needs: apt-get install -y podman runc busybox-static
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
. "$here/_rootfs.sh"
require_podman
node=$(readlink -f "${NODE:-$(command -v node)}")
major=$("$node" -p 'process.versions.node.split(".")[0]')
tag=${1:-localhost/opflow-node:$major}
r=$(mktemp -d); trap 'rm -rf "$r"' EXIT
busybox_rootfs "$r"
copy_with_libs "$r" "$node"
mkdir -p "$r/usr/local/bin"
mv "$r$node" "$r/usr/local/bin/node"
import_rootfs "$r" "$tag" \
  --change 'ENV PATH=/usr/local/bin:/bin' \
  --change "ENV NODE_VERSION=$("$node" -p process.versions.node)" \
  --change 'WORKDIR /tmp' \
  --change 'CMD ["node"]'
podman run --rm --network=none "$tag" node -e 'console.log(`${process.argv[1]} OK: node ${process.version}`)' "$tag"
