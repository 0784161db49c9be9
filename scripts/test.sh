#!/usr/bin/env bash
# The second README command (and what CI runs): installs what is missing, builds with
# AddressSanitizer + UBSan and warnings as errors, and runs every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test
cmake --workflow --preset ci
