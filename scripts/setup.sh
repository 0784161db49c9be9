#!/usr/bin/env bash
# The first README command: installs what is missing, builds, installs berthd, berth and
# berth-registry into /usr/local/bin, (re)starts berthd and berth-registry (127.0.0.1:5000)
# with their defaults and makes busybox:latest.
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

# The registry: anonymous on loopback, data in /var/lib/berth-registry.
reg_pidfile=/run/berth/berth-registry.pid
if [ -f "$reg_pidfile" ] && kill -0 "$(cat "$reg_pidfile")" 2>/dev/null; then
  echo "setup: restarting berth-registry (pid $(cat "$reg_pidfile"))"
  kill -TERM "$(cat "$reg_pidfile")"
  for _ in $(seq 100); do kill -0 "$(cat "$reg_pidfile" 2>/dev/null)" 2>/dev/null || break; sleep 0.1; done
fi
nohup /usr/local/bin/berth-registry serve >>/var/log/berth-registry.log 2>&1 </dev/null &
echo $! >"$reg_pidfile"
for _ in $(seq 100); do
  curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  echo "setup: berth-registry did not start; see /var/log/berth-registry.log" >&2
  tail -20 /var/log/berth-registry.log >&2
  exit 1
fi
echo "setup: berth-registry is serving on http://127.0.0.1:5000 (log: /var/log/berth-registry.log)"

if ! /usr/local/bin/berth image inspect busybox:latest >/dev/null 2>&1; then
  scripts/make-busybox-rootfs.sh | /usr/local/bin/berth import -c 'CMD ["sh"]' - busybox:latest
fi
/usr/local/bin/berth images
