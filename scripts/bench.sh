#!/usr/bin/env bash
# The benchmark: offline-export against qemu's own path and the real peers on the same data (scripts/bench/bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/bench/bench.py "$@"
