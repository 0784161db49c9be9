#!/usr/bin/env bash
# Registry, berth-registry against Debian's docker-registry (CNCF distribution 2.8.2), side by
# side in one run, with nginx as the ceiling for small requests:
#   - skopeo push of an image of 4 layers of 128 MiB random data (gzip, valid tar inside) from
#     an OCI layout dir, to a fresh data root and a fresh repository each time: MB/s;
#   - skopeo pull of the same image into a fresh OCI layout dir: MB/s;
#   - curl GET of one 128 MiB layer to /dev/null, warm page cache: MB/s (median of 5);
#   - wrk -t2 -c64 -d10s on manifest GET (OCI Accept header): req/s and p99; nginx serving the
#     manifest's bytes as a static file alike;
#   - ab -i -k -c 64 -t 30 -n 200000 on blob HEAD (wrk 4.1 completes no HEAD; 200000 requests
#     or 30 s, whichever comes first): req/s and p99; nginx on the same layer file alike;
#   - RSS: idle 2 s after start, and the peak (VmHWM, reset through /proc/PID/clear_refs
#     before each phase) of the push, the pull, the blob GETs and the wrk/ab load.
#
#   bench/registry/run.sh [RUNS]       (default 3)
#
# Each case runs every server RUNS times, alternating which goes first; the table gives the
# medians and their ratios. Builds nothing: run
#   cmake --preset bench && cmake --build --preset bench --target berth-registry
# first. Needs root (skopeo's blob-info cache under /var/lib/containers, nginx, clear_refs).
# Installs skopeo, docker-registry, wrk, apache2-utils and nginx-light if missing. Every server
# listens on its own loopback port with its own data dir under one scratch dir, removed at the
# end with the processes.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD

runs=${1:-3}
bin=$src/build/bench/src/cmd/berth-registry
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
[ -x "$bin" ] || {
  echo "build first: cmake --preset bench && cmake --build --preset bench --target berth-registry" >&2
  exit 1
}

need=()
for p in skopeo:skopeo docker-registry:docker-registry wrk:wrk ab:apache2-utils \
         nginx:nginx-light curl:curl python3:python3; do
  command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d /var/tmp/breg.XXXXXX)
chmod 0755 "$work"  # nginx's workers read the static files
bcache=/var/lib/containers/cache/blob-info-cache-v1.boltdb
declare -A pid=()  # server name -> pid
declare -A port=()

cleanup() {
  set +e
  for s in "${!pid[@]}"; do
    [ -n "${pid[$s]}" ] && kill -TERM "${pid[$s]}" 2>/dev/null && wait "${pid[$s]}" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port[berth]=$(free_port)
port[dist]=$(free_port)
port[nginx]=$(free_port)
now_ns() { local t=${EPOCHREALTIME/./}; echo $((t * 1000)); }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
reset_hwm() { echo 5 > "/proc/$1/clear_refs"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
wait_http() {  # wait_http NAME URL: until the URL answers at all
  local i
  for i in $(seq 500); do
    curl -s -o /dev/null "$2" && return 0
    kill -0 "${pid[$1]}" 2>/dev/null || { echo "$1 died; see $work/$1.log" >&2; return 1; }
    sleep 0.02
  done
  echo "$1 did not answer" >&2
  return 1
}

# --- servers -------------------------------------------------------------------------------
stop() {
  [ -n "${pid[$1]:-}" ] || return 0
  kill -TERM "${pid[$1]}" 2>/dev/null || true
  wait "${pid[$1]}" 2>/dev/null || true
  pid[$1]=
}
start_berth() {
  "$bin" serve --listen "127.0.0.1:${port[berth]}" --data-root "$work/berth.data" \
    --log-level warn >>"$work/berth.log" 2>&1 &
  pid[berth]=$!
  wait_http berth "http://127.0.0.1:${port[berth]}/v2/"
}
start_dist() {
  cat > "$work/dist.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $work/dist.data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port[dist]}
  headers:
    X-Content-Type-Options: [nosniff]
EOF
  docker-registry serve "$work/dist.yml" >>"$work/dist.log" 2>&1 &
  pid[dist]=$!
  wait_http dist "http://127.0.0.1:${port[dist]}/v2/"
}
# fresh NAME: the server restarted on an empty data root.
fresh() {
  stop "$1"
  rm -rf "$work/$1.data"
  "start_$1"
}

# --- the image: an OCI layout of 4 gzip layers, each a tar of one 128 MiB random file -------
img=$work/img
read -r man layer1 total layer_size < <(bench/registry/make-image.sh "$img" 4 128)
cp "$img/blobs/sha256/$man" "$work/manifest.json"
echo "start: $(date -u +%FT%TZ), $(uptime)"
echo "image: $img, $total bytes; manifest sha256:$man; layer 1 sha256:$layer1 ($layer_size bytes)"

# --- nginx: the manifest's bytes and layer 1 as static files, at the registry's paths --------
ng=$work/nginx
mkdir -p "$ng/root/v2/bench/img/manifests" "$ng/root/v2/bench/img/blobs" "$ng/tmp"
cp "$work/manifest.json" "$ng/root/v2/bench/img/manifests/latest"
ln "$img/blobs/sha256/$layer1" "$ng/root/v2/bench/img/blobs/sha256:$layer1"
cat > "$ng/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  default_type application/vnd.oci.image.manifest.v1+json;
  client_body_temp_path $ng/tmp/body;
  proxy_temp_path $ng/tmp/proxy;
  fastcgi_temp_path $ng/tmp/fastcgi;
  uwsgi_temp_path $ng/tmp/uwsgi;
  scgi_temp_path $ng/tmp/scgi;
  server {
    listen 127.0.0.1:${port[nginx]};
    root $ng/root;
  }
}
EOF
nginx -e "$ng/error.log" -c "$ng/nginx.conf" -p "$ng" &
pid[nginx]=$!
wait_http nginx "http://127.0.0.1:${port[nginx]}/"

url() {  # url SERVER PATH
  echo "http://127.0.0.1:${port[$1]}$2"
}
# order RUN NAME...: the names, rotated by the run number, so each goes first in turn.
order() {
  local r=$1; shift
  local a=("$@") n=$# i
  for ((i = 0; i < n; i++)); do echo "${a[$(((i + r) % n))]}"; done
}
declare -A res=()  # "case.server" -> values, one per line
add() { res[$1]+="$2"$'\n'; }
med() { printf '%s' "${res[$1]}" | median; }

# --- idle RSS ---------------------------------------------------------------------------------
fresh berth
fresh dist
sleep 2
idle_berth=$(kb "${pid[berth]}" VmRSS) idle_dist=$(kb "${pid[dist]}" VmRSS)

# --- push --------------------------------------------------------------------------------------
hwm_push_berth=0 hwm_push_dist=0
for r in $(seq "$runs"); do
  for s in $(order "$r" berth dist); do
    fresh "$s"
    rm -f "$bcache"
    sync
    sleep 1
    t0=$(now_ns)
    skopeo copy -q --dest-tls-verify=false "oci:$img:latest" \
      "docker://127.0.0.1:${port[$s]}/bench/img-$r:latest" >>"$work/skopeo.log" 2>&1 ||
      { echo "push to $s failed:" >&2; tail "$work/skopeo.log" >&2; exit 1; }
    t1=$(now_ns)
    mbs=$(awk -v b="$total" -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", b / ns * 1000}')
    add "push.$s" "$mbs"
    h=$(kb "${pid[$s]}" VmHWM)
    if [ "$s" = berth ] && ((h > hwm_push_berth)); then hwm_push_berth=$h; fi
    if [ "$s" = dist ] && ((h > hwm_push_dist)); then hwm_push_dist=$h; fi
    echo "push $r $s: $mbs MB/s ($(((t1 - t0) / 1000000)) ms)"
  done
done
repo=bench/img-$runs  # what the last push left in each registry

# The manifest comes back byte for byte, under the Accept header wrk sends.
accept='Accept: application/vnd.oci.image.manifest.v1+json'
for s in berth dist nginx; do
  p=/v2/$repo/manifests/latest
  [ "$s" = nginx ] && p=/v2/bench/img/manifests/latest
  got=$(curl -sf -H "$accept" "$(url "$s" "$p")" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$man" ] || { echo "$s: manifest GET gives other bytes ($got)" >&2; exit 1; }
done

# --- pull --------------------------------------------------------------------------------------
for s in berth dist; do reset_hwm "${pid[$s]}"; done
for r in $(seq "$runs"); do
  for s in $(order "$r" berth dist); do
    rm -rf "$work/pull"
    rm -f "$bcache"
    sync
    sleep 1
    t0=$(now_ns)
    skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:${port[$s]}/$repo:latest" \
      "oci:$work/pull:latest" >>"$work/skopeo.log" 2>&1 ||
      { echo "pull from $s failed:" >&2; tail "$work/skopeo.log" >&2; exit 1; }
    t1=$(now_ns)
    mbs=$(awk -v b="$total" -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", b / ns * 1000}')
    add "pull.$s" "$mbs"
    echo "pull $r $s: $mbs MB/s ($(((t1 - t0) / 1000000)) ms)"
  done
done
rm -rf "$work/pull"
hwm_pull_berth=$(kb "${pid[berth]}" VmHWM) hwm_pull_dist=$(kb "${pid[dist]}" VmHWM)

# --- raw blob GET ------------------------------------------------------------------------------
for s in berth dist; do reset_hwm "${pid[$s]}"; done
for s in berth dist; do
  u=$(url "$s" "/v2/$repo/blobs/sha256:$layer1")
  curl -sf -o /dev/null "$u"  # warm
  for i in 1 2 3 4 5; do
    out=$(curl -sf -o /dev/null -w '%{http_code} %{size_download} %{speed_download}' "$u")
    read -r code got speed <<<"$out"
    [ "$code" = 200 ] && [ "$got" = "$layer_size" ] || { echo "$s blob GET: $out" >&2; exit 1; }
    add "get.$s" "$(awk -v b="$speed" 'BEGIN {printf "%.0f", b / 1e6}')"
  done
  echo "blob GET $s: $(printf '%s' "${res[get.$s]}" | tr '\n' ' ')MB/s"
done
hwm_get_berth=$(kb "${pid[berth]}" VmHWM) hwm_get_dist=$(kb "${pid[dist]}" VmHWM)

# --- manifest GET (wrk) and blob HEAD (ab) -----------------------------------------------------
to_ms() {  # wrk's "1.23ms", "850.00us", "1.01s"
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0;
    else if (v ~ /s$/) printf "%.3f", v * 1000; else print "?" }'
}
for s in berth dist; do reset_hwm "${pid[$s]}"; done
for r in $(seq "$runs"); do
  for s in $(order "$r" berth dist nginx); do
    p=/v2/$repo/manifests/latest
    [ "$s" = nginx ] && p=/v2/bench/img/manifests/latest
    wrk -t2 -c64 -d10s --latency -H "$accept" "$(url "$s" "$p")" > "$work/wrk.$s.$r" 2>&1
    if grep -q 'Non-2xx' "$work/wrk.$s.$r"; then cat "$work/wrk.$s.$r" >&2; exit 1; fi
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk.$s.$r")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$work/wrk.$s.$r")")
    add "man.$s" "$rps"; add "man99.$s" "$p99"
    echo "manifest GET $r $s: $rps req/s, p99 $p99 ms"
  done
  for s in $(order "$r" berth dist nginx); do
    p=/v2/$repo/blobs/sha256:$layer1
    [ "$s" = nginx ] && p=/v2/bench/img/blobs/sha256:$layer1
    ab -q -i -k -c 64 -t 30 -n 200000 "$(url "$s" "$p")" > "$work/ab.$s.$r" 2>&1 ||
      { cat "$work/ab.$s.$r" >&2; exit 1; }
    bad=$(awk '/^Failed requests:/ {f = $3} /^Non-2xx responses:/ {n = $3} END {print f + n}' "$work/ab.$s.$r")
    [ "$bad" = 0 ] || { cat "$work/ab.$s.$r" >&2; exit 1; }
    rps=$(awk '/^Requests per second:/ {printf "%.0f", $4}' "$work/ab.$s.$r")
    p99=$(awk '$1 == "99%" {print $2}' "$work/ab.$s.$r")
    add "head.$s" "$rps"; add "head99.$s" "$p99"
    echo "blob HEAD $r $s: $rps req/s, p99 $p99 ms"
  done
done
hwm_load_berth=$(kb "${pid[berth]}" VmHWM) hwm_load_dist=$(kb "${pid[dist]}" VmHWM)

# --- the table ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
goal() { awk -v v="$1" "BEGIN {exit !(v $2)}" && echo met || echo '**missed**'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f MiB", k / 1024}'; }
B=berth-registry D=docker-registry
m_push_b=$(med push.berth) m_push_d=$(med push.dist)
m_pull_b=$(med pull.berth) m_pull_d=$(med pull.dist)
m_get_b=$(med get.berth) m_get_d=$(med get.dist)
m_man_b=$(med man.berth) m_man_d=$(med man.dist) m_man_n=$(med man.nginx)
m_m99_b=$(med man99.berth) m_m99_d=$(med man99.dist) m_m99_n=$(med man99.nginx)
m_head_b=$(med head.berth) m_head_d=$(med head.dist) m_head_n=$(med head.nginx)
m_h99_b=$(med head99.berth) m_h99_d=$(med head99.dist) m_h99_n=$(med head99.nginx)
peak_b=$hwm_load_berth
echo
echo "end: $(date -u +%FT%TZ), $(uptime)"
echo "Medians of $runs runs; image $total bytes (4 gzip layers of 128 MiB random data); MB = 10^6 bytes."
echo
echo "| case | $B | $D | nginx | ratio | goal | |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
r=$(ratio "$m_push_b" "$m_push_d")
echo "| skopeo push | $m_push_b MB/s | $m_push_d MB/s | | $r x $D | >= 2x | $(goal "$r" '>= 2') |"
r=$(ratio "$m_pull_b" "$m_pull_d")
echo "| skopeo pull | $m_pull_b MB/s | $m_pull_d MB/s | | $r x $D | >= 1x | $(goal "$r" '>= 1') |"
echo "| curl blob GET (128 MiB, warm) | $m_get_b MB/s | $m_get_d MB/s | | $(ratio "$m_get_b" "$m_get_d") x $D | >= 2000 MB/s | $(goal "$m_get_b" '>= 2000') |"
r=$(ratio "$m_man_b" "$m_man_d")
echo "| manifest GET, wrk -c64 | $m_man_b req/s | $m_man_d req/s | $m_man_n req/s | $r x $D | >= 10x | $(goal "$r" '>= 10') |"
r=$(ratio "$m_man_b" "$m_man_n")
echo "| | | | | $r x nginx | >= 0.5x | $(goal "$r" '>= 0.5') |"
echo "| manifest GET p99 | $m_m99_b ms | $m_m99_d ms | $m_m99_n ms | | < 10 ms | $(goal "$m_m99_b" '< 10') |"
r=$(ratio "$m_head_b" "$m_head_d")
echo "| blob HEAD, ab -k -c64 | $m_head_b req/s | $m_head_d req/s | $m_head_n req/s | $r x $D | >= 10x | $(goal "$r" '>= 10') |"
r=$(ratio "$m_head_b" "$m_head_n")
echo "| | | | | $r x nginx | >= 0.5x | $(goal "$r" '>= 0.5') |"
echo "| blob HEAD p99 | $m_h99_b ms | $m_h99_d ms | $m_h99_n ms | | < 10 ms | $(goal "$m_h99_b" '< 10') |"
echo "| RSS idle (2 s after start) | $(mib "$idle_berth") | $(mib "$idle_dist") | | | | |"
echo "| RSS peak, wrk + ab load | $(mib "$hwm_load_berth") | $(mib "$hwm_load_dist") | | | < 50 MiB | $(goal "$peak_b" '< 51200') |"
echo "| RSS peak, blob GETs | $(mib "$hwm_get_berth") | $(mib "$hwm_get_dist") | | | | |"
echo "| RSS peak, pulls | $(mib "$hwm_pull_berth") | $(mib "$hwm_pull_dist") | | | | |"
echo "| RSS peak, a push (fresh process) | $(mib "$hwm_push_berth") | $(mib "$hwm_push_dist") | | | | |"
echo
echo "Per run:"
for k in push pull get man man99 head head99; do
  for s in berth dist nginx; do
    [ -n "${res[$k.$s]:-}" ] && echo "  $k $s: $(printf '%s' "${res[$k.$s]}" | tr '\n' ' ')"
  done
done
# per_run A B: the ratios A/B of two result lists, run by run.
per_run() {
  paste -d' ' <(printf '%s' "${res[$1]}") <(printf '%s' "${res[$2]}") |
    awk '{printf "%.2f ", $1 / $2}'
}
echo "Ratios per run:"
echo "  push berth/dist: $(per_run push.berth push.dist)"
echo "  pull berth/dist: $(per_run pull.berth pull.dist)"
echo "  manifest GET berth/dist: $(per_run man.berth man.dist)  berth/nginx: $(per_run man.berth man.nginx)"
echo "  blob HEAD berth/dist: $(per_run head.berth head.dist)  berth/nginx: $(per_run head.berth head.nginx)"
