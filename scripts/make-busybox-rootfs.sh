#!/usr/bin/env bash
# Writes to stdout a rootfs tar for busybox:latest made from Debian's busybox-static:
# the static binary, a symlink per applet, and the few files a shell expects.
# Reproducible: fixed owners and mtimes, sorted names.
set -euo pipefail

bb=${BUSYBOX:-/bin/busybox}
if ! "$bb" --list >/dev/null 2>&1; then
  echo "make-busybox-rootfs: $bb is not a busybox binary (apt-get install busybox-static)" >&2
  exit 1
fi
ldd_out=$(LC_ALL=C ldd "$bb" 2>&1 || true)
if ! grep -q 'not a dynamic executable' <<<"$ldd_out"; then
  echo "make-busybox-rootfs: $bb is not statically linked (install busybox-static)" >&2
  exit 1
fi

root=$(mktemp -d /tmp/berth-busybox-XXXXXX)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,var,home}
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
cp "$bb" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  dir=$(dirname "$applet")
  rel=$(realpath -m -s --relative-to="/$dir" /bin/busybox)  # -s: not through the host's /bin -> usr/bin
  mkdir -p "$root/$dir"
  [ -e "$root/$applet" ] || ln -s "$rel" "$root/$applet"
done < <("$bb" --list-full)
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
nogroup:x:65534:
G
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime='2024-01-01 00:00:00Z' \
    -C "$root" -cf - .
