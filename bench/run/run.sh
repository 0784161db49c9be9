#!/usr/bin/env bash
# Container life cycle, Berth against the reference tools, side by side in one run:
#   - `run --rm busybox true` end to end: berth (CLI -> berthd -> shim -> container -> removed),
#     `crun run` on an equivalent bundle, `podman run --rm`, the docker CLI against Debian's
#     dockerd; all with no network and the same busybox rootfs;
#   - `create` and `rm` through the CLI, and `ps -a`: berth against docker;
#   - daemon start to the first answered `_ping`, and idle RSS: berthd against dockerd +
#     containerd;
#   - 100 containers started in parallel, then stopped in parallel: total time, the daemon's
#     peak RSS (VmHWM of a freshly started daemon) and the RSS of the shims while all run.
#
#   bench/run/run.sh [ROUNDS] [RUNS_PER_ROUND]     (defaults 3 and 20)
#
# Each round runs every case once with hyperfine (RUNS_PER_ROUND timed runs after 3 warm-ups),
# cases one after the other, so the reference and berth share the machine's state; the tables
# give the median of all runs and the ratio of medians per round. Needs root and the optimised
# build (cmake --preset bench && cmake --build --preset bench -j2). Every peer has its own state
# root under a scratch dir, removed at the end with its mounts and cgroups.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD

rounds=${1:-3}
runs=${2:-20}
bin=$src/build/bench/src/cmd
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
[ -x "$bin/berthd" ] && [ -x "$bin/berth" ] && [ -x "$bin/berth-shim" ] ||
  { echo "build first: cmake --preset bench && cmake --build --preset bench -j2" >&2; exit 1; }

# The reference tools, as /work/shared/REFERENCE-TOOLS.md lists them.
need=()
for p in hyperfine:hyperfine crun:crun podman:podman dockerd:docker.io busybox:busybox-static \
         jq:jq curl:curl; do
  command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi
docker_cli=$(command -v docker)

# Paths stay short: unix socket paths are limited to 108 bytes.
work=$(mktemp -d /var/tmp/brun.XXXXXX)
chmod 0711 "$work"
tag=$(basename "$work")
bsock=$work/b.sock dsock=$work/d.sock
cg_parent=/$tag  # berth's containers and crun's go below their own cgroup parent
run=/run/$tag    # exec roots on tmpfs, as both daemons' defaults (/run/berth, /run/docker)
berthd_pid= dockerd_pid=

berth() { "$bin/berth" -H "unix://$bsock" "$@"; }
docker() { "$docker_cli" -H "unix://$dsock" "$@"; }
podman_flags=(--root "$work/p/root" --runroot "$work/p/run" --tmpdir "$work/p/tmp"
              --cgroup-manager cgroupfs --events-backend file)

ping_ok() { curl -sf --unix-socket "$1" http://x/_ping >/dev/null 2>&1; }
now_ns() { local t=${EPOCHREALTIME/./}; echo $((t * 1000)); }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

start_berthd() {
  "$bin/berthd" --data-root "$work/b/root" --exec-root "$run/b" -H "unix://$bsock" \
    --pidfile "$work/b/berthd.pid" --cgroup-parent "$cg_parent" --log-level warn \
    2>>"$work/berthd.log" &
  berthd_pid=$!
  until ping_ok "$bsock"; do
    kill -0 "$berthd_pid" 2>/dev/null || { echo "berthd died; see $work/berthd.log" >&2; return 1; }
    sleep 0.002
  done
}
stop_berthd() {
  [ -n "$berthd_pid" ] || return 0
  kill -TERM "$berthd_pid" 2>/dev/null || true
  wait "$berthd_pid" 2>/dev/null || true
  berthd_pid=
}
start_dockerd() {
  dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --data-root "$work/d/root" --exec-root "$run/d" --pidfile "$work/d/dockerd.pid" \
    --host "unix://$dsock" --log-level warn >>"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  until ping_ok "$dsock"; do
    kill -0 "$dockerd_pid" 2>/dev/null || { echo "dockerd died; see $work/dockerd.log" >&2; return 1; }
    sleep 0.002
  done
}
stop_dockerd() {
  [ -n "$dockerd_pid" ] || return 0
  kill -TERM "$dockerd_pid" 2>/dev/null || true
  wait "$dockerd_pid" 2>/dev/null || true
  dockerd_pid=
}
containerd_pid() { pgrep -P "$dockerd_pid" -x containerd | head -n1; }

cleanup() {
  set +e
  [ -n "$berthd_pid" ] && berth ps -aq 2>/dev/null | xargs -r "$bin/berth" -H "unix://$bsock" rm -f >/dev/null 2>&1
  [ -n "$dockerd_pid" ] && docker ps -aq 2>/dev/null | xargs -r "$docker_cli" -H "unix://$dsock" rm -f >/dev/null 2>&1
  stop_berthd
  stop_dockerd
  # berth's shims outlive berthd by design: end the ones of this run (their bundle is here).
  for p in $(pgrep -x berth-shim); do
    grep -qF "$work/" "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p"
  done
  # And what still runs in this run's cgroups (containers whose shim was killed above).
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h$tag" ] && cat "$h$tag"/*/cgroup.procs 2>/dev/null | xargs -r kill -KILL 2>/dev/null
  done
  unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; \
    podman ${podman_flags[*]} rm -af >/dev/null 2>&1; \
    podman ${podman_flags[*]} system reset -f >/dev/null 2>&1" || true
  sleep 0.5
  grep -E " ($work|$run)/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h$tag" ] && find "$h$tag" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$work" "$run"
}
trap cleanup EXIT

echo "scratch: $work"
# One busybox rootfs for everyone.
"$src/scripts/make-busybox-rootfs.sh" > "$work/busybox.tar"
mkdir -p "$work/c/bundle/rootfs" "$work/c/state" "$work/p"
tar -xf "$work/busybox.tar" -C "$work/c/bundle/rootfs"

# crun's bundle: its default spec (namespaces pid, network, ipc, uts, mount, like berth's with
# network none), made to run `true` without a terminal, in a cgroup of this run.
(cd "$work/c/bundle" && crun spec)
jq --arg cg "$cg_parent/crun" '.process.args = ["/bin/true"] | .process.terminal = false |
    .root.readonly = false | .linux.cgroupsPath = $cg' \
  "$work/c/bundle/config.json" > "$work/c/bundle/config.tmp"
mv "$work/c/bundle/config.tmp" "$work/c/bundle/config.json"

start_berthd
start_dockerd
berth import -c 'CMD ["sh"]' "$work/busybox.tar" busybox:latest >/dev/null
docker import -c 'CMD ["sh"]' "$work/busybox.tar" busybox:latest >/dev/null
unshare -m sh -c "umount /sys/fs/cgroup/unified; \
  podman ${podman_flags[*]} import --change 'CMD [\"sh\"]' $work/busybox.tar localhost/busybox:latest" \
  >/dev/null

# crun and podman need a mount namespace without the hybrid cgroup2 mount; the CLIs of the
# daemons do not care which namespace they run in, so every case runs in the same one.
ulim=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
cat > "$work/cases.sh" <<EOF
set -e
umount /sys/fs/cgroup/unified
hf() { hyperfine -N --style basic --warmup 3 --runs $runs "\$@"; }
# berth's and docker's create/rm: a name per case; prepare makes or removes it first.
hf --export-json "$work/run.\$1.json" \\
  -n crun "crun --root $work/c/state run --bundle $work/c/bundle bench" \\
  -n berth "$bin/berth -H unix://$bsock run --rm --network none busybox true" \\
  -n podman "podman ${podman_flags[*]} run --rm --network none ${ulim[*]} localhost/busybox true" \\
  -n docker "$docker_cli -H unix://$dsock run --rm --network none busybox true"
hf --export-json "$work/create.\$1.json" \\
  --prepare "sh -c '$bin/berth -H unix://$bsock rm -f cb >/dev/null 2>&1; $docker_cli -H unix://$dsock rm -f cb >/dev/null 2>&1; true'" \\
  -n berth "$bin/berth -H unix://$bsock create --network none --name cb busybox true" \\
  -n docker "$docker_cli -H unix://$dsock create --network none --name cb busybox true"
hf --export-json "$work/rm.\$1.json" \\
  --prepare "sh -c '$bin/berth -H unix://$bsock create --network none --name rb busybox true >/dev/null 2>&1; $docker_cli -H unix://$dsock create --network none --name rb busybox true >/dev/null 2>&1; true'" \\
  -n berth "$bin/berth -H unix://$bsock rm rb" \\
  -n docker "$docker_cli -H unix://$dsock rm rb"
hf --export-json "$work/ps.\$1.json" \\
  -n berth "$bin/berth -H unix://$bsock ps -a" \\
  -n docker "$docker_cli -H unix://$dsock ps -a"
EOF
# ps -a lists 10 containers on each side.
for i in $(seq 10); do
  berth create --network none --name "ps$i" busybox true >/dev/null
  docker create --network none --name "ps$i" busybox true >/dev/null
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# ms_of FILE NAME: the timed runs (ms) of one command of a hyperfine export, one per line.
ms_of() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .times[] * 1000' "$1"; }

start_ms=() start_ref_ms=()
for r in $(seq "$rounds"); do
  echo "== round $r of $rounds"
  unshare -m bash "$work/cases.sh" "$r" >"$work/hyperfine.$r.log" 2>&1 ||
    { cat "$work/hyperfine.$r.log" >&2; exit 1; }
  # Daemon start to the first answered _ping (the state roots hold the image and 10 containers).
  for d in berth docker; do
    if [ $d = berth ]; then
      stop_berthd; t0=$(now_ns); start_berthd; t1=$(now_ns)
      start_ms+=($(( (t1 - t0) / 1000000 )))
    else
      stop_dockerd; t0=$(now_ns); start_dockerd; t1=$(now_ns)
      start_ref_ms+=($(( (t1 - t0) / 1000000 )))
    fi
  done
done

# Idle RSS, 3 s after the last start.
sleep 3
rss_berthd=$(rss_kb "$berthd_pid")
rss_dockerd=$(rss_kb "$dockerd_pid") rss_containerd=$(rss_kb "$(containerd_pid)")

# 100 containers in parallel: fresh daemons, so VmHWM is the peak of this case alone. The
# containers wait for SIGTERM (sh's `wait` returns at once on it), so stop does not time out.
# Runs in this shell (not in $(...)): the daemon it restarts must stay this shell's child, and
# it waits for its CLIs by pid, not for every child (the daemon is one).
parallel_case() {
  local d=$1 t0 t1 t2 pid shims=0 shim_kb=0 clis=()
  "stop_${d}d"; "start_${d}d"
  t0=$(now_ns)
  for i in $(seq 100); do
    "$d" run -d --network none --name "p$i" busybox sh -c 'trap "exit 0" TERM; sleep 600 & wait' >/dev/null &
    clis+=($!)
  done
  wait "${clis[@]}"
  t1=$(now_ns)
  [ "$("$d" ps -q | wc -l)" -ge 100 ] || { echo "$d: not all 100 containers run" >&2; exit 1; }
  if [ "$d" = berth ]; then
    pid=$berthd_pid
    for p in $(pgrep -x berth-shim); do
      grep -qF "$work/" "/proc/$p/cmdline" 2>/dev/null || continue
      shims=$((shims + 1)) shim_kb=$((shim_kb + $(rss_kb "$p")))
    done
  else
    pid=$dockerd_pid
    for p in $(pgrep -x containerd-shim); do  # comm is cut to 15 chars
      grep -qF "$run/" "/proc/$p/cmdline" 2>/dev/null || continue
      shims=$((shims + 1)) shim_kb=$((shim_kb + $(rss_kb "$p")))
    done
  fi
  clis=()
  for i in $(seq 100); do "$d" stop "p$i" >/dev/null & clis+=($!); done
  wait "${clis[@]}"
  t2=$(now_ns)
  local hwm=$(hwm_kb "$pid") chwm=0
  [ "$d" = docker ] && chwm=$(hwm_kb "$(containerd_pid)")
  clis=()
  for i in $(seq 100); do "$d" rm "p$i" >/dev/null & clis+=($!); done
  wait "${clis[@]}"
  par_result="$d $(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 )) $hwm $chwm $shims $shim_kb"
}
parallel_case berth; par_berth=$par_result
parallel_case docker; par_docker=$par_result

# --- report
fmt_ms() { awk -v v="$1" 'BEGIN { printf (v < 10 ? "%.2f" : (v < 100 ? "%.1f" : "%.0f")), v }'; }
echo
echo "| case | berth median | reference | reference median | ratio (berth / ref), per round |"
echo "| --- | --- | --- | --- | --- |"
row() {  # row CASE FILE_PREFIX REF_NAME
  local b ref per=()
  b=$(for r in $(seq "$rounds"); do ms_of "$work/$2.$r.json" berth; done | median)
  ref=$(for r in $(seq "$rounds"); do ms_of "$work/$2.$r.json" "$3"; done | median)
  for r in $(seq "$rounds"); do
    per+=("$(awk -v b="$(ms_of "$work/$2.$r.json" berth | median)" \
                 -v f="$(ms_of "$work/$2.$r.json" "$3" | median)" 'BEGIN { printf "%.2f", b / f }')")
  done
  echo "| $1 | $(fmt_ms "$b") ms | $3 | $(fmt_ms "$ref") ms |" \
    "$(awk -v b="$b" -v f="$ref" 'BEGIN { printf "**%.2f**", b / f }') (${per[*]}) |"
}
row "run --rm busybox true" run crun
row "run --rm busybox true" run podman
row "run --rm busybox true" run docker
row "create" create docker
row "rm" rm docker
row "ps -a (10 containers)" ps docker
bs=$(printf '%s\n' "${start_ms[@]}" | median) ds=$(printf '%s\n' "${start_ref_ms[@]}" | median)
echo "| daemon start to first _ping | $(fmt_ms "$bs") ms | dockerd | $(fmt_ms "$ds") ms |" \
  "$(awk -v b="$bs" -v f="$ds" 'BEGIN { printf "**%.2f**", b / f }') (${start_ms[*]} / ${start_ref_ms[*]}) |"
echo "| idle RSS | $((rss_berthd / 1024)) MiB | dockerd + containerd |" \
  "$((rss_dockerd / 1024)) + $((rss_containerd / 1024)) MiB |" \
  "$(awk -v b="$rss_berthd" -v f="$((rss_dockerd + rss_containerd))" 'BEGIN { printf "%.2f", b / f }') |"
read -r _ bstart bstop bhwm _ bshims bshimkb <<<"$par_berth"
read -r _ dstart dstop dhwm dchwm dshims dshimkb <<<"$par_docker"
echo
echo "100 containers, started in parallel then stopped in parallel (fresh daemons):"
echo
echo "| | berth | docker (dockerd + containerd) | ratio |"
echo "| --- | --- | --- | --- |"
echo "| start 100 (run -d) | $bstart ms | $dstart ms | $(awk -v b="$bstart" -v f="$dstart" 'BEGIN { printf "%.2f", b / f }') |"
echo "| stop 100 | $bstop ms | $dstop ms | $(awk -v b="$bstop" -v f="$dstop" 'BEGIN { printf "%.2f", b / f }') |"
echo "| total | $((bstart + bstop)) ms | $((dstart + dstop)) ms | $(awk -v b="$((bstart + bstop))" -v f="$((dstart + dstop))" 'BEGIN { printf "%.2f", b / f }') |"
echo "| daemon peak RSS (VmHWM) | $((bhwm / 1024)) MiB | $((dhwm / 1024)) + $((dchwm / 1024)) MiB | $(awk -v b="$bhwm" -v f="$((dhwm + dchwm))" 'BEGIN { printf "%.2f", b / f }') |"
echo "| shims' RSS, all running | $((bshimkb / 1024)) MiB ($bshims shims) | $((dshimkb / 1024)) MiB ($dshims shims) | $(awk -v b="$bshimkb" -v f="$dshimkb" 'BEGIN { printf "%.2f", (f ? b / f : 0) }') |"
echo "| daemon peak + shims | $(((bhwm + bshimkb) / 1024)) MiB | $(((dhwm + dchwm + dshimkb) / 1024)) MiB | $(awk -v b="$((bhwm + bshimkb))" -v f="$((dhwm + dchwm + dshimkb))" 'BEGIN { printf "%.2f", b / f }') |"
