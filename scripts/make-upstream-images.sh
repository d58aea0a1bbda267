#!/usr/bin/env bash
# Builds the local stand-ins of the images Argo's upstream examples name, with no registry:
#   localhost/local/busybox         busybox, alpine:3.23        (make-busybox-image.sh)
#   localhost/opflow-python:3       python:alpine3.23           this machine's python3 and its standard library on busybox
#   localhost/opflow-argosay:v1     argoproj/argosay:v1         busybox with a small `cowsay` in sh
# and prints the --image map that runs them: opflow run --executor container $(scripts/make-upstream-images.sh --map) …
# Needs: apt-get install -y podman runc busybox-static (and python3)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
map="--image busybox=localhost/local/busybox --image alpine:3.23=localhost/local/busybox --image python:alpine3.23=localhost/opflow-python:3 --image argoproj/argosay:v1=localhost/opflow-argosay:v1"
if [ "${1:-}" = "--map" ]; then echo "$map"; exit 0; fi
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
. "$here/_rootfs.sh"
require_podman
"$here/make-busybox-image.sh" >/dev/null

# python: the interpreter, its standard library (no tests, no build configuration) and the
# libraries its extension modules link.
# (Debian's /usr/bin/python3 when there is one: version managers' shims are scripts.)
candidate=${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 )}
py=$(readlink -f "$("$candidate" -c 'import sys; print(sys.executable)')")
stdlib=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
r=$(mktemp -d); trap 'rm -rf "$r"' EXIT
busybox_rootfs "$r"
copy_with_libs "$r" "$py"
mkdir -p "$r$stdlib"
tar -C "$stdlib" --exclude=./test --exclude=./tkinter --exclude=./idlelib --exclude='./lib-dynload/_tkinter*' --exclude='./config-*' --exclude=./site-packages --exclude=./dist-packages --exclude=__pycache__ -c . | tar -C "$r$stdlib" -x
for so in "$stdlib"/lib-dynload/*.so; do case "$so" in *_tkinter*) ;; *) copy_with_libs "$r" "$so" ;; esac; done
mkdir -p "$r/usr/local/bin"
ln -sf "$py" "$r/usr/local/bin/python"
ln -sf "$py" "$r/usr/local/bin/python3"
import_rootfs "$r" localhost/opflow-python:3 --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["python3"]'
podman run --rm --network=none localhost/opflow-python:3 python -c 'import json, random, sys; print("localhost/opflow-python:3 OK:", sys.version.split()[0])'

# argosay: busybox and a cowsay that draws the cow around its words.
rm -rf "$r"; r=$(mktemp -d)
busybox_rootfs "$r"
mkdir -p "$r/usr/local/bin"
cat > "$r/usr/local/bin/cowsay" <<'COW'
#!/bin/sh
# cowsay for the argosay stand-in: the words in a bubble, and the cow.
text="$*"
[ -n "$text" ] || text=$(cat)
line=$(printf '%s' "$text" | sed 's/./-/g')
printf ' _%s_\n< %s >\n -%s-\n' "$(printf '%s' "$line" | sed 's/-/_/g')" "$text" "$line"
cat <<'EOC'
        \   ^__^
         \  (oo)\_______
            (__)\       )\/\
                ||----w |
                ||     ||
EOC
COW
chmod +x "$r/usr/local/bin/cowsay"
import_rootfs "$r" localhost/opflow-argosay:v1 --change 'ENV PATH=/usr/local/bin:/bin' --change 'CMD ["/bin/sh"]'
podman run --rm --network=none localhost/opflow-argosay:v1 sh -c 'cowsay hello' >/dev/null && echo "localhost/opflow-argosay:v1 OK"
echo "$map"
