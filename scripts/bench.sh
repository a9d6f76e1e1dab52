#!/usr/bin/env bash
# The benchmark: ratios of offline-export against qemu's own tools on the same data (see bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/bench.py "$@"
