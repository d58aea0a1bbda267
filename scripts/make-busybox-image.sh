#!/usr/bin/env bash
# Builds localhost/local/busybox (also tagged localhost/opflow-busybox:latest) from Debian's
# busybox-static: no registry, no network. The upstream Argo examples run in it with
# `opflow run --executor container --image busybox=localhost/local/busybox`.
# Needs: apt-get install -y podman runc busybox-static
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
. "$here/_rootfs.sh"
require_podman
tag=${1:-localhost/local/busybox}
r=$(mktemp -d); trap 'rm -rf "$r"' EXIT
busybox_rootfs "$r"
old=$(podman image inspect --format "{{.Id}}" "$tag" 2>/dev/null || true)
tar -C "$r" -c . | podman import -q --change 'CMD ["/bin/sh"]' - "$tag" >/dev/null
podman tag "$tag" localhost/opflow-busybox:latest
podman run --rm --network=none "$tag" sh -c 'echo "$1 OK"' sh "$tag"
# The image this one replaced, if nothing else uses it.
[ -z "$old" ] || [ "$old" = "$(podman image inspect --format "{{.Id}}" "$tag")" ] || podman rmi "$old" >/dev/null 2>&1 || true
