#!/usr/bin/env bash
# bench/registry/make-image.sh DIR [LAYERS] [MIB]: an OCI layout in DIR of LAYERS (default 4)
# gzip (-1) layers, each a tar of one file of MIB (default 128) MiB of random data, a config
# with their diff_ids and an OCI manifest tagged "latest". Prints one line:
#   MANIFEST_HEX LAYER1_HEX TOTAL_BYTES LAYER1_BYTES
set -euo pipefail
img=$1
count=${2:-4}
mib=${3:-128}
tmp=$(mktemp -d "${img%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$img/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' > "$img/oci-layout"
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
join() { local IFS=,; echo "$*"; }
diff_ids=() layers=()
for i in $(seq "$count"); do
  python3 - "$tmp/layer.tar" "$i" "$mib" <<'PY'
import io, os, sys, tarfile
class Random(io.RawIOBase):
    def readable(self): return True
    def readinto(self, b):
        n = len(b); b[:n] = os.urandom(n); return n
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    info = tarfile.TarInfo("random%s" % sys.argv[2]); info.size = int(sys.argv[3]) << 20; info.mode = 0o644
    t.addfile(info, io.BufferedReader(Random(), 1 << 20))
PY
  diff_ids+=("\"sha256:$(sha "$tmp/layer.tar")\"")
  gzip -1 -n -c "$tmp/layer.tar" > "$tmp/layer.gz"
  d=$(sha "$tmp/layer.gz")
  layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$d\",\"size\":$(size "$tmp/layer.gz")}")
  mv "$tmp/layer.gz" "$img/blobs/sha256/$d"
  [ "$i" = 1 ] && layer1=$d
  rm "$tmp/layer.tar"
done
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/random1"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$(join "${diff_ids[@]}")" > "$tmp/config.json"
cfg=$(sha "$tmp/config.json")
cp "$tmp/config.json" "$img/blobs/sha256/$cfg"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$cfg" "$(size "$tmp/config.json")" "$(join "${layers[@]}")" > "$tmp/manifest.json"
man=$(sha "$tmp/manifest.json")
cp "$tmp/manifest.json" "$img/blobs/sha256/$man"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$man" "$(size "$tmp/manifest.json")" > "$img/index.json"
total=$(du -cb "$img"/blobs/sha256/* | tail -n1 | cut -f1)
echo "$man $layer1 $total $(size "$img/blobs/sha256/$layer1")"
