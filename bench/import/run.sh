#!/usr/bin/env bash
# Import of a 1 GiB rootfs tar: `berth import` (through berthd) against plain `tar -x` of the same
# file onto the same disk, alternating, with the same pause and page-cache state before each.
# Both write into a fresh ext4 file system (a loop-mounted image made for the run, default
# mkfs options, with a journal) and nothing is deleted between runs: on this VM's root file
# system (ext4 without a journal) creating files in the minutes after deleting many is up to
# 8x slower for anyone (the allocator skips recently deleted inodes), which would measure the
# machine's history, not the cases.
#
#   bench/import/run.sh [RUNS] [SIZE_BYTES]
#
# Needs the optimised build (cmake --preset bench && cmake --build --preset bench), root.
# Prints one line per run and the medians and ratio at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=${1:-5}
size=${2:-$((1 << 30))}
bin=build/bench/src/cmd
[ -x "$bin/berthd" ] && [ -x "$bin/berth" ] || { echo "build first: cmake --preset bench && cmake --build --preset bench" >&2; exit 1; }

work=${BENCH_DIR:-/var/tmp/berth-bench}
mkdir -p "$work"
tarball="$work/rootfs-$size.tar"
if [ ! -s "$tarball" ]; then
  echo "making $tarball"
  python3 bench/import/make-rootfs.py "$size" > "$tarball.tmp" && mv "$tarball.tmp" "$tarball"
fi

fs="$work/fs"
mkdir -p "$fs"
truncate -s $(( (4 * size + (1 << 30)) * runs / (1 << 20) ))M "$work/fs.img"
mkfs.ext4 -q -F "$work/fs.img"
mount -o loop "$work/fs.img" "$fs"
sock="$work/berth.sock"
daemon=
stop_daemon() { [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null; daemon=; }
trap 'stop_daemon; umount "$fs"; rm -f "$work/fs.img"' EXIT
# Each import goes to a new, empty daemon (its own data root), as a first import would.
start_daemon() {
  "$bin/berthd" --data-root "$fs/root.$1" --exec-root "$work/run" -H "unix://$sock" \
    --pidfile "$work/berthd.pid" --log-level warn 2>>"$work/berthd.log" &
  daemon=$!
  for _ in $(seq 200); do "$bin/berth" -H "unix://$sock" version >/dev/null 2>&1 && return; sleep 0.05; done
  echo "berthd did not start; see $work/berthd.log" >&2; exit 1
}

now() { date +%s%N; }
settle() { sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true; cat "$tarball" > /dev/null; sleep 2; }

tar_ms=() tarsync_ms=() berth_ms=()
for i in $(seq "$runs"); do
  mkdir -p "$fs/x.$i"; settle
  t0=$(now); tar -xf "$tarball" -C "$fs/x.$i"; t1=$(now)
  tar_ms+=($(( (t1 - t0) / 1000000 )))

  # The same, made durable: berth import syncs the layer before it records it.
  mkdir -p "$fs/x.$i.sync"; settle
  t0=$(now); tar -xf "$tarball" -C "$fs/x.$i.sync"; sync; t1=$(now)
  tarsync_ms+=($(( (t1 - t0) / 1000000 )))

  start_daemon "$i"; settle
  t0=$(now); "$bin/berth" -H "unix://$sock" import "$tarball" "bench:$i" >/dev/null; t1=$(now)
  berth_ms+=($(( (t1 - t0) / 1000000 )))
  stop_daemon
  echo "run $i: tar -x ${tar_ms[-1]} ms, tar -x + sync ${tarsync_ms[-1]} ms, berth import ${berth_ms[-1]} ms"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mt=$(median "${tar_ms[@]}") ms=$(median "${tarsync_ms[@]}") mb=$(median "${berth_ms[@]}")
mib=$(( size >> 20 ))
echo
echo "| what | median | throughput |"
echo "| --- | --- | --- |"
echo "| tar -x (GNU tar) | ${mt} ms | $(( mib * 1000 / mt )) MiB/s |"
echo "| tar -x, then sync | ${ms} ms | $(( mib * 1000 / ms )) MiB/s |"
echo "| berth import (layer synced, blob stored) | ${mb} ms | $(( mib * 1000 / mb )) MiB/s |"
awk -v t="$mt" -v s="$ms" -v b="$mb" 'BEGIN {
  printf "\nberth import speed / tar -x speed = %.2f\n", t / b
  printf "berth import speed / (tar -x + sync) speed = %.2f\n", s / b }'
