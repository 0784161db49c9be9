#!/usr/bin/env bash
# Installs the Debian 12 packages Berth needs, and only those that are missing.
#   install-deps.sh run    what building and running berthd/berth needs
#   install-deps.sh test   the above plus what the test suite and benchmarks need
set -euo pipefail

profile=${1:-run}

build=(build-essential cmake ninja-build pkg-config ccache git)
libs=(libboost-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libarchive-dev zlib1g-dev
      libisal-dev libzstd-dev libsqlite3-dev libseccomp-dev libcap-dev libcli11-dev libspdlog-dev
      libfmt-dev libcrypt-dev libyaml-cpp-dev)
runtime=(busybox-static tini tar curl ca-certificates procps)
tests=(libgtest-dev libgmock-dev libbenchmark-dev python3 xz-utils zstd gzip tmux docker-registry
       docker.io podman skopeo apache2-utils openssl hyperfine wrk nginx-light)

wanted=("${build[@]}" "${libs[@]}" "${runtime[@]}")
if [ "$profile" = test ]; then
  wanted+=("${tests[@]}")
elif [ "$profile" != run ]; then
  echo "usage: $0 run|test" >&2
  exit 2
fi

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
