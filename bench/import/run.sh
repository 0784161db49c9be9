#!/usr/bin/env bash
# Import of a 1 GiB rootfs tar: `berth import` (through berthd) against plain `tar -x` of the same
# file onto the same disk, alternating, with the same pause and page-cache state before each.
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

root="$work/root" sock="$work/berth.sock"
rm -rf "$root" "$work/x"
"$bin/berthd" --data-root "$root" --exec-root "$work/run" -H "unix://$sock" --pidfile "$work/berthd.pid" \
  --log-level warn 2>"$work/berthd.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$root" "$work/x"' EXIT
for _ in $(seq 100); do "$bin/berth" -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.05; done

now() { date +%s%N; }
settle() { sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true; cat "$tarball" > /dev/null; sleep 2; }

tar_ms=() berth_ms=()
for i in $(seq "$runs"); do
  rm -rf "$work/x"; mkdir -p "$work/x"; settle
  t0=$(now); tar -xf "$tarball" -C "$work/x"; t1=$(now)
  tar_ms+=($(( (t1 - t0) / 1000000 )))
  rm -rf "$work/x"

  settle
  t0=$(now); "$bin/berth" -H "unix://$sock" import "$tarball" "bench:$i" >/dev/null; t1=$(now)
  berth_ms+=($(( (t1 - t0) / 1000000 )))
  "$bin/berth" -H "unix://$sock" rmi "bench:$i" >/dev/null
  echo "run $i: tar -x ${tar_ms[-1]} ms, berth import ${berth_ms[-1]} ms"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mt=$(median "${tar_ms[@]}") mb=$(median "${berth_ms[@]}")
mib=$(( size >> 20 ))
echo
echo "| what | median | throughput |"
echo "| --- | --- | --- |"
echo "| tar -x (GNU tar) | ${mt} ms | $(( mib * 1000 / mt )) MiB/s |"
echo "| berth import | ${mb} ms | $(( mib * 1000 / mb )) MiB/s |"
awk -v t="$mt" -v b="$mb" 'BEGIN { printf "\nberth import speed / tar -x speed = %.2f\n", t / b }'
