#!/usr/bin/env bash
# The first README command: installs what is missing, builds, installs berthd and berth into
# /usr/local/bin, (re)starts berthd with its defaults and makes busybox:latest.
# Running it again rebuilds, restarts the daemon and keeps the existing images.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh run
cmake --preset release >/dev/null
cmake --build --preset release
cmake --install build/release --prefix /usr/local >/dev/null

sock=/run/berth/berth.sock
pidfile=/run/berth/berthd.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "setup: restarting berthd (pid $(cat "$pidfile"))"
  kill -TERM "$(cat "$pidfile")"
  for _ in $(seq 100); do kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || break; sleep 0.1; done
fi
mkdir -p /run/berth /var/log
nohup /usr/local/bin/berthd >>/var/log/berthd.log 2>&1 </dev/null &
for _ in $(seq 100); do
  /usr/local/bin/berth version >/dev/null 2>&1 && break
  sleep 0.1
done
if ! /usr/local/bin/berth version >/dev/null 2>&1; then
  echo "setup: berthd did not start; see /var/log/berthd.log" >&2
  tail -20 /var/log/berthd.log >&2
  exit 1
fi
echo "setup: berthd is running on unix://$sock (log: /var/log/berthd.log)"

if ! /usr/local/bin/berth image inspect busybox:latest >/dev/null 2>&1; then
  scripts/make-busybox-rootfs.sh | /usr/local/bin/berth import -c 'CMD ["sh"]' - busybox:latest
fi
/usr/local/bin/berth images
