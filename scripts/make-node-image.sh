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
mkdir -p "$r/usr/local/bin"
cp "$node" "$r/usr/local/bin/node"
# The dynamic loader and every library node links, at the paths ldd reports.
for lib in $(ldd "$node" | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
  mkdir -p "$r$(dirname "$lib")"
  cp -L "$lib" "$r$lib"
done
# Certificates and time zones are not needed by OPs that run offline; keep the image small.
old=$(podman image inspect --format "{{.Id}}" "$tag" 2>/dev/null || true)
tar -C "$r" -c . | podman import -q \
  --change 'ENV PATH=/usr/local/bin:/bin' \
  --change 'ENV NODE_VERSION='"$("$node" -p process.versions.node)" \
  --change 'WORKDIR /tmp' \
  --change 'CMD ["node"]' - "$tag" >/dev/null
podman run --rm --network=none "$tag" node -e 'console.log(`${process.argv[1]} OK: node ${process.version}`)' "$tag"
# The image this one replaced, if nothing else uses it.
[ -z "$old" ] || [ "$old" = "$(podman image inspect --format "{{.Id}}" "$tag")" ] || podman rmi "$old" >/dev/null 2>&1 || true
