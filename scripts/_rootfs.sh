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
