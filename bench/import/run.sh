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
#   BASELINE_BIN=/path/to/old/build/src/cmd bench/import/run.sh ...   (also times an older build)
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
truncate -s $(( (8 * size + (1 << 30)) * runs / (1 << 20) ))M "$work/fs.img"
mkfs.ext4 -q -F "$work/fs.img"
mount -o loop "$work/fs.img" "$fs"
sock="$work/berth.sock"
daemon=
stop_daemon() { [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null; daemon=; }
trap 'stop_daemon; umount "$fs"; rm -f "$work/fs.img"' EXIT
# Each import goes to a new, empty daemon (its own data root), as a first import would.
start_daemon() {
  "${2:-$bin}/berthd" --data-root "$fs/root.$1" --exec-root "$work/run" -H "unix://$sock" \
    --pidfile "$work/berthd.pid" --log-level warn 2>>"$work/berthd.log" &
  daemon=$!
  for _ in $(seq 200); do "${2:-$bin}/berth" -H "unix://$sock" version >/dev/null 2>&1 && return; sleep 0.05; done
  echo "berthd did not start; see $work/berthd.log" >&2; exit 1
}

now() { date +%s%N; }
settle() { sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true; cat "$tarball" > /dev/null; sleep 2; }

tar_ms=() tarsync_ms=() copy_ms=() berth_ms=() berthsync_ms=() base_ms=() ratios=()
for i in $(seq "$runs"); do
  mkdir -p "$fs/x.$i"; settle
  t0=$(now); tar -xf "$tarball" -C "$fs/x.$i"; t1=$(now)
  tar_ms+=($(( (t1 - t0) / 1000000 )))

  # The same, made durable (berth import syncs a layer it keeps once after it returns, and a
  # layer it stores whole before it records it).
  mkdir -p "$fs/x.$i.sync"; settle
  t0=$(now); tar -xf "$tarball" -C "$fs/x.$i.sync"; sync; t1=$(now)
  tarsync_ms+=($(( (t1 - t0) / 1000000 )))

  # What berth import did durably before it kept layers once: the tree, plus a second copy of
  # the layer (the blob, written beside it), then sync. Plain tools, in parallel.
  mkdir -p "$fs/x.$i.copy"; settle
  t0=$(now); tar -xf "$tarball" -C "$fs/x.$i.copy" & cat "$tarball" > "$fs/x.$i.copy.tar"; wait; sync
  t1=$(now)
  copy_ms+=($(( (t1 - t0) / 1000000 )))

  start_daemon "$i"; settle
  t0=$(now); "$bin/berth" -H "unix://$sock" import "$tarball" "bench:$i" >/dev/null; t1=$(now)
  berth_ms+=($(( (t1 - t0) / 1000000 )))
  # Until everything is on disk: the import, then a sync (beside berthd's own background one).
  sync; t2=$(now)
  berthsync_ms+=($(( (t2 - t0) / 1000000 )))
  stop_daemon

  # BASELINE_BIN=<dir with an older berthd and berth>: the same import with those, in the
  # same run, for a before/after that shares the machine's state.
  if [ -n "${BASELINE_BIN:-}" ]; then
    start_daemon "$i.base" "$BASELINE_BIN"; settle
    t0=$(now); "$BASELINE_BIN/berth" -H "unix://$sock" import "$tarball" "bench:$i" >/dev/null
    t1=$(now)
    base_ms+=($(( (t1 - t0) / 1000000 )))
    stop_daemon
    echo "run $i: baseline berth import ${base_ms[-1]} ms," \
      "ratio $(awk -v t="${tar_ms[-1]}" -v b="${base_ms[-1]}" 'BEGIN { printf "%.2f", t / b }')"
  fi
  ratios+=("$(awk -v t="${tar_ms[-1]}" -v b="${berth_ms[-1]}" 'BEGIN { printf "%.2f", t / b }')")
  echo "run $i: tar -x ${tar_ms[-1]} ms, tar -x + sync ${tarsync_ms[-1]} ms," \
    "tar -x + copy + sync ${copy_ms[-1]} ms, berth import ${berth_ms[-1]} ms," \
    "berth import + sync ${berthsync_ms[-1]} ms, ratio ${ratios[-1]}"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
mt=$(median "${tar_ms[@]}") ms=$(median "${tarsync_ms[@]}") mc=$(median "${copy_ms[@]}")
mb=$(median "${berth_ms[@]}") mbs=$(median "${berthsync_ms[@]}")
mib=$(( size >> 20 ))
echo
echo "| what | median | throughput |"
echo "| --- | --- | --- |"
echo "| tar -x (GNU tar) | ${mt} ms | $(( mib * 1000 / mt )) MiB/s |"
echo "| tar -x, then sync | ${ms} ms | $(( mib * 1000 / ms )) MiB/s |"
echo "| tar -x and a copy of the tar side by side, then sync | ${mc} ms | $(( mib * 1000 / mc )) MiB/s |"
echo "| berth import | ${mb} ms | $(( mib * 1000 / mb )) MiB/s |"
echo "| berth import, then sync | ${mbs} ms | $(( mib * 1000 / mbs )) MiB/s |"
if [ -n "${BASELINE_BIN:-}" ]; then
  mbase=$(median "${base_ms[@]}")
  echo "| baseline berth import | ${mbase} ms | $(( mib * 1000 / mbase )) MiB/s |"
fi
awk -v t="$mt" -v s="$ms" -v c="$mc" -v b="$mb" 'BEGIN {
  printf "\nberth import speed / tar -x speed = %.2f\n", t / b
  printf "berth import speed / (tar -x + sync) speed = %.2f\n", s / b
  printf "berth import speed / (tar -x + copy + sync) speed = %.2f\n", c / b }'
echo "per-run berth / tar -x ratios: ${ratios[*]} (median $(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'))"
