# Shared by make-busybox-image.sh and make-node-image.sh (sourced, not run).
# busybox_rootfs DIR: a minimal root filesystem in DIR made of Debian's busybox-static, with
# every applet linked, /tmp, /etc/passwd and /etc/group.
busybox_rootfs() {
  local r=$1 a
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" "$r/root"
  chmod 1777 "$r/tmp"
  cp /bin/busybox "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
  echo 'root:x:0:' > "$r/etc/group"
}

# require_podman: podman, runc and busybox-static present, CONTAINERS_CONF set.
require_podman() {
  [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || { echo "need busybox-static (apt-get install -y busybox-static)" >&2; exit 1; }
  command -v podman >/dev/null || { echo "need podman (apt-get install -y podman)" >&2; exit 1; }
  command -v runc >/dev/null || { echo "need runc (apt-get install -y runc): crun fails on hybrid-cgroup machines" >&2; exit 1; }
}

# copy_with_libs DIR FILE...: copies each FILE (a program or a shared library) into DIR at the
# same path, with the dynamic loader and every library it links (as ldd reports them).
copy_with_libs() {
  local r=$1 f lib; shift
  for f in "$@"; do
    mkdir -p "$r$(dirname "$f")"
    cp -L "$f" "$r$f"
    for lib in $(ldd "$f" 2>/dev/null | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
      [ -e "$r$lib" ] && continue
      mkdir -p "$r$(dirname "$lib")"
      cp -L "$lib" "$r$lib"
    done
  done
}

# import_rootfs DIR TAG [--change ...]: imports DIR as image TAG, replacing (and removing) the
# image TAG named before, if nothing else uses it.
import_rootfs() {
  local r=$1 tag=$2 old; shift 2
  old=$(podman image inspect --format "{{.Id}}" "$tag" 2>/dev/null || true)
  tar -C "$r" -c . | podman import -q "$@" - "$tag" >/dev/null
  [ -z "$old" ] || [ "$old" = "$(podman image inspect --format "{{.Id}}" "$tag")" ] || podman rmi "$old" >/dev/null 2>&1 || true
}
