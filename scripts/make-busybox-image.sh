#!/usr/bin/env bash
# Builds localhost/local/busybox from Debian's busybox-static: no registry, no network. The
# upstream Argo examples' busybox and alpine steps run in it (see make-upstream-images.sh).
# Needs: apt-get install -y podman runc busybox-static
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
. "$here/_rootfs.sh"
require_podman
tag=${1:-localhost/local/busybox}
r=$(mktemp -d); trap 'rm -rf "$r"' EXIT
busybox_rootfs "$r"
import_rootfs "$r" "$tag" --change 'CMD ["/bin/sh"]'
podman run --rm --network=none "$tag" sh -c 'echo "$1 OK"' sh "$tag"
