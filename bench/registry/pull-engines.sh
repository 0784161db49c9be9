#!/usr/bin/env bash
# End-to-end pull of one image from berth-registry into berthd (`berth pull`) against Debian's
# dockerd (`docker pull`), side by side in one run: the image is 4 gzip layers, each a tar of
# 128 MiB random data (bench/registry/make-image.sh), pushed once with skopeo. Each pull starts
# from an engine without the image (rmi -f of it, which drops its layers and blobs), and the
# engines alternate which goes first. Time = wall time of the CLI command, which ends once the
# image is unpacked and named.
#
#   bench/registry/pull-engines.sh [RUNS]       (default 3)
#
# Builds nothing: run
#   cmake --preset bench && cmake --build --preset bench --target berthd berth berth-shim berth-registry
# first. Needs root. Installs docker.io and skopeo if missing. Everything lives under one
# scratch dir in /var/tmp (daemons' roots, sockets, the registry's data), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
bin=${BIN:-$PWD/build/bench/src/cmd}  # BIN=...: other builds (a smoke test with the asan one)
layers=${LAYERS:-4} mib=${MIB:-128}  # a smaller image for a smoke test
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for x in berthd berth berth-shim berth-registry; do
  [ -x "$bin/$x" ] || {
    echo "build first: cmake --preset bench && cmake --build --preset bench --target berthd berth berth-shim berth-registry" >&2
    exit 1
  }
done
need=()
for p in dockerd:docker.io skopeo:skopeo python3:python3 curl:curl; do
  command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
[ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
docker_cli=$(command -v docker)

work=$(mktemp -d /var/tmp/bpull.XXXXXX)
tag=$(basename "$work")
run=/run/$tag
bsock=$work/b.sock dsock=$work/d.sock
reg_pid= berthd_pid= dockerd_pid=
now_ns() { local t=${EPOCHREALTIME/./}; echo $((t * 1000)); }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ping_ok() { curl -sf --unix-socket "$1" http://x/_ping >/dev/null 2>&1; }
berth() { "$bin/berth" -H "unix://$bsock" "$@"; }
docker() { "$docker_cli" -H "unix://$dsock" "$@"; }

cleanup() {
  set +e
  for p in $berthd_pid $dockerd_pid $reg_pid; do
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  # Whatever the daemons left mounted under the scratch dirs (none, normally).
  grep -oE " ($work|$run)[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work" "$run"
}
trap cleanup EXIT
mkdir -p "$run"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/berth-registry" serve --listen "127.0.0.1:$port" --data-root "$work/reg" --log-level warn \
  >>"$work/reg.log" 2>&1 &
reg_pid=$!
until curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; do sleep 0.05; done

read -r man _ total _ < <(bench/registry/make-image.sh "$work/img" "$layers" "$mib")
skopeo copy -q --dest-tls-verify=false "oci:$work/img:latest" "docker://127.0.0.1:$port/bench/pull:latest"
image=127.0.0.1:$port/bench/pull:latest

"$bin/berthd" --data-root "$work/b" --exec-root "$run/b" -H "unix://$bsock" \
  --pidfile "$work/berthd.pid" --log-level warn 2>>"$work/berthd.log" &
berthd_pid=$!
dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
  --data-root "$work/d" --exec-root "$run/d" --pidfile "$work/dockerd.pid" \
  --host "unix://$dsock" --log-level warn >>"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
until ping_ok "$bsock" && ping_ok "$dsock"; do sleep 0.05; done

echo "start: $(date -u +%FT%TZ), $(uptime)"
echo "image: $image, manifest sha256:$man, $total bytes; berth at $(git rev-parse --short HEAD)"
declare -A times=([berth]="" [docker]="")
pull_once() {  # pull_once berth|docker: prints seconds
  "$1" rmi -f "$image" >/dev/null 2>&1 || true
  sync
  sleep 1
  local t0 t1
  t0=$(now_ns)
  "$1" pull -q "$image" >/dev/null
  t1=$(now_ns)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
for r in $(seq "$runs"); do
  if [ $((r % 2)) = 1 ]; then order="berth docker"; else order="docker berth"; fi
  for e in $order; do
    s=$(pull_once "$e")
    times[$e]+="$s "
    echo "run $r $e: $s s ($(awk -v t="$total" -v s="$s" 'BEGIN { printf "%.0f", t / s / 1e6 }') MB/s)"
  done
done
bm=$(echo "${times[berth]}" | tr ' ' '\n' | grep . | median)
dm=$(echo "${times[docker]}" | tr ' ' '\n' | grep . | median)
echo
echo "| pull of $((total / 1000000)) MB, $layers layers | berthd | dockerd | dockerd / berthd |"
echo "| --- | --- | --- | --- |"
echo "| median of $runs | $bm s | $dm s | $(awk -v b="$bm" -v d="$dm" 'BEGIN { printf "%.2fx", d / b }') |"
echo "end: $(date -u +%FT%TZ), $(uptime)"
